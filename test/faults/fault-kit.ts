/**
 * What the fault scenarios share: a tally per scenario, test areas in a temp folder, the built CLI
 * run like a user (a crash is exit 70, an unhandled error or a stack trace), servers found and
 * stopped by their packets, waiting on conditions, and read-only looks into the databases.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { quickCheck } from '../../src/db/db-inspect.js';
import { isPidAlive, isTrellisServer, serverPids as packetPids } from '../helpers/servers.js';

/** The repository root (dist/test/faults → ../../..). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = path.join(ROOT, 'bin', 'trellis.js');
export const TARGET = 'linux/x86_64';

/** What one scenario counts. */
export class Tally {
  tries = 0;
  lost = 0;
  doubled = 0;
  corrupt = 0;
  crashes = 0;
  /** what went wrong, for the report under the table (the first few per scenario) */
  readonly notes: string[] = [];

  constructor(readonly planned: number) {}

  /** Counts `n` of a kind and keeps a note saying what. */
  add(kind: 'lost' | 'doubled' | 'corrupt' | 'crashes', n: number, note: string): void {
    if (n <= 0) return;
    this[kind] += n;
    if (this.notes.length < 12) this.notes.push(`${kind} ${n}: ${note}`);
  }
}

/** A scenario: runs tries until done or `deadline` (ms since the epoch), counting into `tally`. */
export interface Scenario {
  name: string;
  /** its share of the time budget */
  weight: number;
  planned: (rounds: number) => number;
  run(tally: Tally, ctx: ScenarioContext): Promise<void>;
}

export interface ScenarioContext {
  rounds: number;
  deadline: number;
  /** a fresh temp folder of the scenario's own, removed at the end */
  dir: string;
  log: (line: string) => void;
}

/** A temp folder for a scenario; its servers are stopped and it is removed by `cleanup`. */
export function makeScratch(name: string): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `trellis-faults-${name}-`));
  return {
    dir,
    cleanup: () => {
      stopServersUnder(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes a test area: fields OS ARCH, one target, servers on loopback, `tests` name → testconfig. */
export function writeArea(dir: string, tests: Record<string, string>, config = ''): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'trellis.config'),
    `[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs 8\n\n[server]\nbind 127.0.0.1\n${config}`,
  );
  fs.writeFileSync(path.join(dir, 'runconfigs.config'), '[default]\n\n[linux/x86_64]\n');
  for (const [name, text] of Object.entries(tests)) {
    fs.mkdirSync(path.join(dir, 'tests', name), { recursive: true });
    fs.writeFileSync(path.join(dir, 'tests', name, 'testconfig'), text);
  }
  return dir;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** True when a command crashed rather than failed: exit 70, or a stack trace or unhandled error. */
export function isCrash(r: CliResult): boolean {
  return r.code === 70 || /^\s+at .*:\d+:\d+\)?$/m.test(r.stderr) || /internal error|Unhandled|uncaught/i.test(r.stderr);
}

/** Starts the CLI (its own process group, so a kill reaches it alone); NO_COLOR, stdin closed. */
export function startCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Runs the CLI to its end; one that runs past `timeoutMs` is killed (and says so on stderr). */
export async function cli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const p = startCli(args, opts);
  const timer = setTimeout(() => {
    try {
      process.kill(-p.child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }, opts.timeoutMs ?? 300_000);
  const r = await p.done;
  clearTimeout(timer);
  return r.signal === 'SIGKILL' ? { ...r, stderr: `${r.stderr}\n(fault suite: killed after ${opts.timeoutMs ?? 300_000} ms)` } : r;
}

/** Resolves when `pred` holds, checking every `everyMs`; false after `timeoutMs`. */
export async function waitUntil(pred: () => boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return pred();
}

/** Pids of the live `trellis server start` processes whose packets lie under `dir` (packets may name any pid). */
export function serverPids(dir: string): number[] {
  return packetPids(dir).filter(isTrellisServer);
}

/** SIGTERMs every server under `dir` (run areas a few levels down), without waiting. */
export function stopServersUnder(dir: string): void {
  for (const pid of serverPids(dir)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone
    }
  }
}

/** Stops the servers of `runArea` and waits until they are gone (their packets and lease with them). */
export async function stopServersAndWait(runArea: string): Promise<void> {
  const pids = serverPids(runArea);
  stopServersUnder(runArea);
  await waitUntil(() => pids.every((p) => !isPidAlive(p)), 30_000);
}

export const isAlive = isPidAlive;

/** One row of a run as its database holds it, with its step rows counted. */
export interface StoredTest {
  testname: string;
  itempath: string;
  state: string;
  status: string;
  steps: number;
}

/** The rows of run `runname` read straight from the files (read-only), or why they cannot be. */
export function readRun(
  runArea: string,
  runname: string,
): { tests: StoredTest[]; total: number; counts: Record<string, number>; state: string } | string {
  const main = path.join(runArea, '.db', 'main.db');
  let db: Database.Database | undefined;
  try {
    db = new Database(main, { readonly: true, fileMustExist: true });
    const run = db.prepare(`SELECT id, total, counts, state FROM runs WHERE target = ? AND runname = ?`).get(TARGET, runname) as
      | { id: number; total: number; counts: string; state: string }
      | undefined;
    if (!run) return `no run ${runname} in main.db`;
    db.close();
    db = new Database(path.join(runArea, '.db', `${run.id}.db`), { readonly: true, fileMustExist: true });
    const tests = db
      .prepare(
        `SELECT t.testname, t.itempath, t.state, t.status, (SELECT count(*) FROM steps s WHERE s.test_id = t.id) AS steps FROM tests t ORDER BY t.testname, t.itempath`,
      )
      .all() as StoredTest[];
    return { tests, total: run.total, counts: JSON.parse(run.counts) as Record<string, number>, state: run.state };
  } catch (err) {
    return (err as Error).message;
  } finally {
    db?.close();
  }
}

/** SQLite's quick_check of main.db and every run database: the files that fail it. */
export function damagedDatabases(runArea: string): string[] {
  const dbDir = path.join(runArea, '.db');
  let names: string[] = [];
  try {
    names = fs.readdirSync(dbDir).filter((n) => /^(main|\d+)\.db$/.test(n));
  } catch {
    return [];
  }
  return names.filter((n) => quickCheck(path.join(dbDir, n)) !== undefined);
}

/** `3m04s`. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** A random whole number in [lo, hi]. */
export function randomInt(lo: number, hi: number): number {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}
