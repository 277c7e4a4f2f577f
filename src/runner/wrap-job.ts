/**
 * `trellis wrap`: runs a command (a cron job) in the foreground, as given — never through a
 * shell — with this process's stdin, stdout and stderr, passes SIGINT and SIGTERM on to it, and
 * records its start, end, host and outcome in the history index under a name. The job never waits
 * for the record: it starts at once, and a store that cannot be reached costs a warning, not the
 * job (`trellis check` notices the missing success later).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { OutcomeJob } from '../model/records.js';
import { displayName } from '../model/display-name.js';
import type { Store } from '../store/store.js';

export type WrappedState = 'running' | 'exited';

/** How the command ended: an exit code, a signal, or it never started (`error`). */
export interface WrappedExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error: NodeJS.ErrnoException | null;
}

/** The wrapped command: one child process, waited for until it exits. */
export class WrappedCommand {
  readonly exited: Promise<WrappedExit>;
  readonly #child: ChildProcess;
  #state: WrappedState = 'running';

  /** Starts `argv` with this process's stdio; a command that cannot start resolves `exited` with its error. */
  constructor(argv: readonly string[], opts: { cwd: string; env: Readonly<Record<string, string | undefined>> }) {
    const [file = '', ...args] = argv;
    this.#child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: 'inherit' });
    this.exited = new Promise<WrappedExit>((resolve) => {
      this.#child.once('error', (error: NodeJS.ErrnoException) => {
        this.#state = 'exited';
        resolve({ code: null, signal: null, error });
      });
      this.#child.once('exit', (code, signal) => {
        this.#state = 'exited';
        resolve({ code, signal, error: null });
      });
    });
  }

  get state(): WrappedState {
    return this.#state;
  }

  /** Passes a signal on to the command while it runs. */
  forward(signal: NodeJS.Signals): void {
    if (this.#state !== 'running' || this.#child.pid === undefined) return;
    try {
      this.#child.kill(signal);
    } catch {
      // It exited meanwhile.
    }
  }
}

/** The exit code a shell would give: the command's own, 128 + signal, 127 not found, 126 not runnable. */
export function shellExitCode(exit: WrappedExit): number {
  if (exit.error !== null) return exit.error.code === 'ENOENT' ? 127 : 126;
  if (exit.signal !== null) return 128 + (os.constants.signals[exit.signal] ?? 0);
  return exit.code ?? 1;
}

/** The recorded outcome: PASS on exit 0, FAIL on any other code or when it could not start, KILLED/ABORT on a signal. */
export function describeExit(exit: WrappedExit): Pick<OutcomeJob, 'state' | 'status' | 'comment'> {
  if (exit.error !== null)
    return { state: 'COMPLETED', status: 'FAIL', comment: `could not start: ${exit.error.code ?? exit.error.message}` };
  if (exit.signal !== null) return { state: 'KILLED', status: 'ABORT', comment: `killed by ${exit.signal}` };
  return { state: 'COMPLETED', status: exit.code === 0 ? 'PASS' : 'FAIL', comment: `exit ${exit.code ?? '?'}` };
}

export interface WrapOptions {
  /** the store, once open; a rejected one only means nothing is recorded */
  store: Promise<Store>;
  testname: string;
  itempath: string;
  target?: string;
  host: string;
  command: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  now: () => number;
  /** aborted (reason: the signal's name) on the first SIGINT/SIGTERM, and on the second */
  signals: readonly AbortSignal[];
  warn: (message: string) => void;
}

/** Runs the command to its end, recording it; resolves with how it ended. */
export async function runWrapped(opts: WrapOptions): Promise<WrappedExit> {
  const base = {
    key: randomUUID(),
    kind: 'wrap' as const,
    testname: opts.testname,
    itempath: opts.itempath,
    target: opts.target ?? '',
    host: opts.host,
  };
  const name = displayName(opts);
  const store = opts.store.catch((err: Error) => {
    opts.warn(`cannot record ${name} (${err.message}); running it anyway`);
    return undefined;
  });
  const start = opts.now();
  const child = new WrappedCommand(opts.command, { cwd: opts.cwd, env: opts.env });
  const forwards = opts.signals.map((signal) => {
    const onAbort = () => child.forward(signal.reason as NodeJS.Signals);
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  });
  // Recorded while the command runs: `trellis history` shows it RUNNING meanwhile.
  const started = record(store, opts, { ...base, state: 'RUNNING', status: 'n/a', start, end: null });
  try {
    const exit = await child.exited;
    // After the start is in: the same key, so the end must land second.
    await started;
    await record(store, opts, { ...base, ...describeExit(exit), start, end: opts.now() });
    return exit;
  } finally {
    for (const off of forwards) off();
  }
}

/** Records the job, or warns why it could not (no store: warned about already). */
async function record(store: Promise<Store | undefined>, opts: WrapOptions, job: OutcomeJob): Promise<void> {
  const s = await store;
  if (s === undefined) return;
  try {
    await s.recordOutcome(job);
  } catch (err) {
    const what = job.state === 'RUNNING' ? 'the start' : 'the end';
    opts.warn(`could not record ${what} of ${displayName(job)} (${(err as Error).message})`);
  }
}
