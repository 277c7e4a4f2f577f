/**
 * What the `trellis run` end-to-end tests share: running the CLI against an area, reading the
 * recorded tests back with `trellis list tests --json`, waiting for files a step writes, and
 * telling whether processes (or whole process groups) are still there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runCli, startCli, type CliOptions, type CliProcess, type CliResult } from './cli.js';

interface Teardownable {
  teardown(fn: () => void | Promise<void>): void;
}

/** The default target of makeArea. */
export const TARGET = 'linux/x86_64';

/** One row of `trellis list tests --json`. */
export interface TestRow {
  testname: string;
  itempath: string;
  state: string;
  status: string;
  comment: string;
  host: string;
  rundir: string;
}

/** `trellis <args> --area AREA`. */
export function trellis(t: Teardownable, area: string, args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return runCli(t, [...args, '--area', area], opts);
}

/** `trellis run --area AREA -t linux/x86_64 -r RUNNAME …`, to the end. */
export function run(t: Teardownable, area: string, runname: string, extra: string[] = [], opts: CliOptions = {}): Promise<CliResult> {
  return trellis(t, area, ['run', '-t', TARGET, '-r', runname, ...extra], opts);
}

/** Starts `trellis run` and returns the process in flight. */
export function startRun(t: Teardownable, area: string, runname: string, extra: string[] = [], opts: CliOptions = {}): CliProcess {
  return startCli(t, ['run', '--area', area, '-t', TARGET, '-r', runname, ...extra], opts);
}

/** The recorded tests of a run, keyed `test` or `test/itempath`; fails loudly when listing fails. */
export async function listTests(t: Teardownable, area: string, runname: string, target = TARGET): Promise<Map<string, TestRow>> {
  const res = await trellis(t, area, ['list', 'tests', '-t', target, '-r', runname, '--json']);
  if (res.code !== 0) throw new Error(`list tests exited ${res.code}:\n${res.stdout}\n${res.stderr}`);
  const rows = JSON.parse(res.stdout) as TestRow[];
  return new Map(rows.map((r) => [r.itempath ? `${r.testname}/${r.itempath}` : r.testname, r]));
}

/** `{state, status}` of each row, for one readable t.same. */
export function statesOf(rows: Map<string, TestRow>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, r] of rows) out[k] = `${r.state}/${r.status}`;
  return out;
}

/** The work folder of a test or item in the default run area (`<area>/runs`). */
export function workDir(area: string, runname: string, test: string, ...itemValues: string[]): string {
  return path.join(area, 'runs', 'linux', 'x86_64', runname, test, ...itemValues);
}

/** Lines of a file, without the empty last one; [] when the file does not exist. */
export function readLines(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

/**
 * Resolves once `pred` holds, checking every 20 ms; rejects after `ms` with `what`. This waits
 * for a condition (a file a step writes), not for a fixed time.
 */
export async function waitUntil(pred: () => boolean | Promise<boolean>, what: string, ms = 60_000, proc?: CliProcess): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) {
      const out = proc ? `\nstdout:\n${proc.stdout}\nstderr:\n${proc.stderr}` : '';
      throw new Error(`timed out waiting for ${what}${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Reads a pid a step wrote, once the file is complete (one line ending in a newline). */
export async function readPidFile(file: string, proc?: CliProcess): Promise<number> {
  await waitUntil(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').endsWith('\n'), file, 60_000, proc);
  return Number(fs.readFileSync(file, 'utf8').trim());
}

/** /proc/PID/stat fields after the command name: [state, ppid, pgrp, …]; undefined when gone. */
function statOf(pid: number): string[] | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** True while the process exists and is not a zombie (a zombie has done all it will do). */
export function isAlive(pid: number): boolean {
  const st = statOf(pid);
  return st !== undefined && st[0] !== 'Z';
}

/** Live (non-zombie) processes of process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = statOf(Number(name));
    if (st && st[0] !== 'Z' && Number(st[2]) === pgid) out.push(Number(name));
  }
  return out;
}

/** KILLs a process group at teardown (processes a test orphaned on purpose). */
export function killGroupOnTeardown(t: Teardownable, pgid: () => number | undefined): void {
  t.teardown(() => {
    const g = pgid();
    if (g === undefined || !(g > 1)) return;
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // already gone
    }
  });
}

/**
 * Start/end markers a step appends to a shared file: `start NAME NS` / `end NAME NS` with
 * nanosecond times from `date +%s%N`. Returns the most that were between start and end at once.
 */
export function maxOverlap(lines: readonly string[], filter: (name: string) => boolean = () => true): number {
  const events = lines
    .map((l) => l.split(' '))
    .filter(([, name]) => filter(name!))
    .map(([kind, , ns]) => ({ t: BigInt(ns!), d: kind === 'start' ? 1 : -1 }));
  // at equal times an end comes first: touching intervals do not overlap
  events.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.d - b.d));
  let cur = 0;
  let max = 0;
  for (const e of events) {
    cur += e.d;
    max = Math.max(max, cur);
  }
  return max;
}

/** A step command that records its start and end (after `body`) in `$MT_RUN_AREA_HOME/FILE`. */
export function markedStep(file: string, body: string): string {
  const log = `"$MT_RUN_AREA_HOME/${file}"`;
  return `echo "start $MT_TEST_NAME $(date +%s%N)" >> ${log} && ${body} && echo "end $MT_TEST_NAME $(date +%s%N)" >> ${log}`;
}
