/**
 * One step's shell process, in a process group of its own so that stopping it stops everything it
 * started. Output goes straight to the log file (no pipe through Node), so a step that prints
 * 100 MB costs no memory and the log is complete on disk when the process exits. Steps start
 * through this process's spawner (a small helper process: runner/spawner.ts, which also writes the
 * step's files for a reaper), or with Node's spawn here when there is none (the step's shell then
 * writes those files itself: wrapWithStepFiles).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { shellQuote } from '../util/shell-quote.js';
import { isPidAlive, processStartTime } from '../util/process-info.js';
import { Spawner, type SpawnWord } from './spawner.js';

export type StepProcessState = 'running' | 'stopping' | 'exited';

export interface StepExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** why we stopped it, when we did */
  stopReason: string | null;
}

export interface StepProcessOptions {
  command: string;
  /** `$0 $1 …` for the command (after `-c command`) */
  args?: string[];
  cwd: string;
  env: Record<string, string>;
  logfile: string;
  /** shell to run the command with (`-c`) */
  shell: string;
  /** the files kept for a reaper (by the spawner, or the step's shell); none: no such files */
  files?: StepFiles;
}

/** What a step leaves for a reaper, should whoever runs the step be gone. */
export interface StepFiles {
  /** where it writes the command's exit code when it ends, before the step is reported */
  exit: string;
  /**
   * where it writes its process group first thing: the step's pid reaches the database only with
   * the runner's next batch, and a runner killed before that must not leave a step nobody can end
   */
  group: string;
}

/**
 * The command as the step's shell runs it when Node's spawn starts it (no spawner to keep the
 * files): its group written to `files.group` (the shell leads
 * its group: its /proc stat line gives the pid and start time, read by a builtin, no process
 * started), then the command in a subshell (so `exit N` inside it still comes back here), its exit
 * code written to `files.exit`, then passed on. Only a command that ended on its own leaves an
 * exit file: this shell notes a TERM to the group (and outlives it until the subshell is gone, so
 * the group never loses its leader while the command runs) and then writes nothing. The trap is
 * this shell's own: the subshell starts with TERM at its default, as the command expects.
 */
export function wrapWithStepFiles(command: string, files: StepFiles): string {
  const group = `{ read -r trellis_group < /proc/$$/stat || trellis_group=$$; } 2>/dev/null; printf '%s\\n' "$trellis_group" > ${shellQuote(files.group)}\n`;
  // Newlines around the command: a command that starts with `(` must not make `((` (arithmetic),
  // and one that ends in a comment must not comment out the `)`.
  return (
    `${group}trap 'trellis_stop=1' TERM\n(\n${command}\n); trellis_rc=$?; ` +
    `[ -z "$trellis_stop" ] && echo $trellis_rc > ${shellQuote(files.exit)}; exit $trellis_rc`
  );
}

/** How often a step whose spawner is gone is looked for (ms). */
const LOST_POLL_MS = 100;

/** Seconds between TERM and KILL when stopping a step. */
export const KILL_GRACE_MS = 5000;

/** The spawner every step of this process goes through (started with the first step). */
let spawner: Spawner | undefined;

/** Steps start with Node's spawn only (TRELLIS_SPAWNER=node: the spawner's peer in benches and tests). */
const nodeOnly = () => process.env['TRELLIS_SPAWNER'] === 'node';

/**
 * Ends this process's spawner once its steps have ended (a run or an exec that is done); the next
 * step starts another.
 */
export async function endSpawner(): Promise<void> {
  const ending = spawner;
  spawner = undefined;
  await ending?.close();
}

/** A running step. `exited` resolves once the process is gone, whatever happened. */
export class StepProcess {
  readonly exited: Promise<StepExit>;
  /** resolves with the step's pid (its process group) once it runs; undefined when it never ran */
  readonly started: Promise<number | undefined>;
  #pid: number | undefined;
  /** the step's start time, read when it started (so a reused pid is never taken for it) */
  #procStart: number | null = null;
  #state: StepProcessState = 'running';
  #stopReason: string | null = null;
  #killTimer: NodeJS.Timeout | undefined;
  /** told before a stop's signal, when the step went through the spawner */
  #spawned: { spawner: Spawner; id: number } | undefined;
  /** signals asked for before the pid was known, sent once it is */
  #owed: NodeJS.Signals[] = [];

  /** Starts the step; a spawn failure is reported as an exit with code 127 and a line in the log. */
  constructor(options: StepProcessOptions) {
    const args = (command: string) => ['-c', command, ...(options.args ?? [])];
    let started!: (pid: number | undefined) => void;
    this.started = new Promise((resolve) => (started = resolve));
    this.exited = new Promise<StepExit>((resolve) => {
      const failed = (why: string) => {
        try {
          fs.appendFileSync(options.logfile, `trellis: could not start the step: ${why}\n`);
        } catch {
          // No log to say it in: the exit code says it.
        }
        started(undefined);
        this.#finish();
        resolve({ code: 127, signal: null, stopReason: this.#stopReason });
      };
      const onWord = (word: SpawnWord) => {
        if (word.kind === 'started') {
          this.#pid = word.pid;
          this.#procStart = processStartTime(word.pid);
          started(word.pid);
          for (const signal of this.#owed.splice(0)) this.#signalGroup(signal);
        } else if (word.kind === 'failed') failed(word.why);
        else if (word.kind === 'lost') void this.#followLost(options.files).then(resolve);
        else {
          this.#finish();
          resolve({ code: word.code, signal: word.signal, stopReason: this.#stopReason });
        }
      };
      spawner ??= nodeOnly() ? undefined : new Spawner();
      const { shell, cwd, env, logfile, files } = options;
      const id = spawner?.start({ shell, args: args(options.command), cwd, env, logfile, files, onWord });
      if (spawner !== undefined && id !== undefined) {
        this.#spawned = { spawner, id };
        return;
      }
      let fd: number | undefined;
      try {
        fd = fs.openSync(options.logfile, 'w');
        const command = files === undefined ? options.command : wrapWithStepFiles(options.command, files);
        const child = spawn(shell, args(command), { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
        this.#pid = child.pid;
        if (child.pid !== undefined) started(child.pid);
        child.once('error', (err) => failed(err.message));
        child.once('exit', (code, signal) => {
          this.#finish();
          resolve({ code, signal, stopReason: this.#stopReason });
        });
      } catch (err) {
        failed((err as Error).message);
      } finally {
        if (fd !== undefined) fs.closeSync(fd);
      }
    });
  }

  get state(): StepProcessState {
    return this.#state;
  }

  /** The step's pid (its process group), once it runs. */
  get pid(): number | undefined {
    return this.#pid;
  }

  /** TERM to the whole process group, then KILL after the grace period; resolves on exit. */
  stop(reason: string, graceMs = KILL_GRACE_MS): Promise<StepExit> {
    if (this.#state === 'running') {
      this.#state = 'stopping';
      this.#stopReason = reason;
      this.#spawned?.spawner.stopping(this.#spawned.id);
      this.#signalGroup('SIGTERM');
      this.#killTimer = setTimeout(() => this.#signalGroup('SIGKILL'), graceMs);
    }
    return this.exited;
  }

  /** KILL at once (a second Ctrl-C). */
  kill(reason: string): Promise<StepExit> {
    if (this.#state !== 'exited') {
      this.#stopReason ??= reason;
      this.#state = 'stopping';
      this.#spawned?.spawner.stopping(this.#spawned.id);
      this.#signalGroup('SIGKILL');
    }
    return this.exited;
  }

  /**
   * The spawner ended while the step ran (killed by someone): the step is no child of ours, so
   * its end is looked for (its pid gone) and its code read from its exit file, should there be
   * one (the spawner writes it; gone, it cannot, and the step counts as killed).
   */
  async #followLost(files: StepFiles | undefined): Promise<StepExit> {
    const pid = this.#pid;
    const start = this.#procStart;
    // A zombie counts as gone (isPidAlive), and a pid taken since by another process too.
    while (pid !== undefined && start !== null && isPidAlive(pid, start)) {
      await new Promise((r) => setTimeout(r, LOST_POLL_MS));
    }
    this.#finish();
    let code: number | null = null;
    try {
      if (files) code = Number.parseInt(fs.readFileSync(files.exit, 'utf8'), 10);
    } catch {
      // No exit file: the command did not end on its own.
    }
    return Number.isInteger(code)
      ? { code, signal: null, stopReason: this.#stopReason }
      : { code: null, signal: 'SIGKILL', stopReason: this.#stopReason };
  }

  #signalGroup(signal: NodeJS.Signals): void {
    if (this.#state === 'exited') return;
    const pid = this.#pid;
    if (pid === undefined) {
      this.#owed.push(signal);
      return;
    }
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  }

  #finish(): void {
    const pid = this.#pid;
    this.#state = 'exited';
    if (this.#killTimer) clearTimeout(this.#killTimer);
    // A stopped step's children must not outlive it: the group gets the KILL it would have had.
    if (this.#stopReason !== null && pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Nothing left in the group.
      }
    }
  }
}
