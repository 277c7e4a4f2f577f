/**
 * Runs the built CLI like a user: `node bin/trellis.js …` as a child process, capturing output,
 * killed on teardown if still running. Waits on conditions, never on fixed times.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeBeforeServersStop } from './area.js';
import { hostable, runHosted } from './cli-host.js';
import { stopServersOnTeardown } from './servers.js';

/** The repository root (dist/test/helpers → ../../..). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const trellisBin = path.join(repoRoot, 'bin', 'trellis.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** a process of its own even for a short command (see cli-host.ts) */
  spawn?: boolean;
}

interface Teardownable {
  teardown(fn: () => void | Promise<void>): void;
  /** tap's: the test's own temp folder (which may not exist) */
  testdirName?: string;
}

const watched = new WeakMap<object, { note(): void }>();

/** A CLI process in flight. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly done: Promise<CliResult>;
  #waiters: Array<() => void> = [];

  constructor(args: string[], opts: CliOptions = {}) {
    this.child = spawn(process.execPath, [trellisBin, ...args], {
      cwd: opts.cwd ?? repoRoot,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      this.#wake();
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      this.#wake();
    });
    this.done = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.#wake();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Resolves when `pred` holds for the output so far; rejects after `ms` with everything captured. */
  waitFor(pred: (out: string) => boolean, ms = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out waiting; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`));
      }, ms);
      const check = () => {
        if (pred(this.stdout + this.stderr)) {
          clearTimeout(timer);
          resolve();
          return true;
        }
        return false;
      };
      if (check()) return;
      const waiter = () => {
        if (!check()) this.#waiters.push(waiter);
      };
      this.#waiters.push(waiter);
    });
  }

  #wake(): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }
}

/** Starts the CLI; it is killed (with its process group's children left to the runner) on teardown. */
export function startCli(t: Teardownable, args: string[], opts: CliOptions = {}): CliProcess {
  const p = new CliProcess(args, opts);
  const end = async () => {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.done;
    }
  };
  t.teardown(end);
  // A long-running client (an agent, a run, a dashboard) that outlives its server starts another:
  // it ends before the area's servers are stopped, not after tap removed the folder under them.
  if (t.testdirName !== undefined) closeBeforeServersStop(t.testdirName, end);
  noteServers(t, p.done);
  return p;
}

/** The command may have started the run area's server (detached): stop those of this test on teardown. */
function noteServers(t: Teardownable, done: Promise<CliResult>): void {
  if (t.testdirName === undefined) return;
  let servers = watched.get(t);
  if (!servers) {
    servers = stopServersOnTeardown(t, t.testdirName);
    watched.set(t, servers);
  }
  // Servers this command started have written their packets by the time it exits.
  const seen = servers;
  void done.then(() => seen.note());
}

/**
 * Runs the CLI to the end: short commands in the file's CLI host (cli-host.ts), the rest, and any
 * with `spawn: true`, as a process of their own.
 */
export function runCli(t: Teardownable, args: string[], opts: CliOptions = {}): Promise<CliResult> {
  // NODE_OPTIONS (a probe loaded into the process) needs a process of its own too.
  if (opts.spawn === true || opts.env?.['NODE_OPTIONS'] !== undefined || !hostable(args)) return startCli(t, args, opts).done;
  const done = runHosted(args, opts.cwd ?? repoRoot, { ...process.env, NO_COLOR: '1', ...opts.env });
  noteServers(t, done);
  return done;
}
