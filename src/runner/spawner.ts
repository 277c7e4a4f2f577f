/**
 * Starts step processes from a small helper process instead of from the runner itself. A runner
 * is a Node process of 100 MB or more, and Node's spawn forks all of it: 2–3 ms of the runner's
 * main thread per step (docs/benchmarks.md, "Launch against CTest"), most of a short test's cost.
 * The helper is a bare Node process with none of the runner's heap: it forks in a fraction of that
 * time, on another core, with Node's own spawn (the same environment, process group and signal
 * dispositions as before, nothing quoted for a shell).
 *
 * It also keeps the files a reaper needs (job-files.ts), so a step is its command's shell alone,
 * with no wrapper shell around it: the step's process group (its /proc stat line) in `group`,
 * written before the step's pid is said (a runner killed before its next batch lands leaves a
 * step the reaper can end), and its exit code in `exit` when it ended on its own, written before
 * its end is said. Only a step that ended on its own leaves one: not one ended by a signal (a
 * reaper's, a stop's), nor one the runner stopped, even if it then exits by itself (the runner
 * says so first: the helper reads that before it looks at the exit, see below).
 *
 * Protocol: JSON lines. To the helper `{id, shell, args, cwd, env, logfile, group?, exit?}`,
 * `env` holding what differs from the request before (a null value: removed), or `{stop: id}`;
 * back `{id, pid}` once the step runs (or `{id, error}`), then `{id, code, signal}` when it exits.
 * The runner signals steps' process groups itself. The helper is in a session of its own (a
 * Ctrl-C at the terminal is the runner's to handle); once the runner's end of its input closes
 * (the runner done, or gone) it ends when its steps have, after writing their exit files.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import readline from 'node:readline';

/** What the helper said of one step. */
export type SpawnWord =
  | { kind: 'started'; pid: number }
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'failed'; why: string }
  /** the helper ended while the step ran: its end can no longer be told from here */
  | { kind: 'lost' };

export interface SpawnRequest {
  shell: string;
  /** the arguments after `shell` (`-c COMMAND $0 …`) */
  args: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string>>;
  logfile: string;
  /** where the helper writes the step's process group and its exit code (see above); none: neither */
  files?: { group: string; exit: string };
  /** each word of the step, in order: started (or failed), then exited */
  onWord: (word: SpawnWord) => void;
}

// The helper: CommonJS, no module of ours, nothing to load. Output of a step goes to its log.
// An exit is told on the next turn (setImmediate): a stop the runner wrote before it signalled is
// in the same poll of the loop as the exit it caused, and is read first.
const HELPER = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
// The runner gone (killed): nobody reads what is said, but the steps' exit files are still written.
process.stdout.on('error', () => {});
const stopped = new Set();
let env = {};
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  let r;
  try { r = JSON.parse(line); } catch { return; }
  if (r.stop !== undefined) { stopped.add(r.stop); return; }
  env = { ...env };
  for (const [name, value] of Object.entries(r.env)) {
    if (value === null) delete env[name];
    else env[name] = value;
  }
  let fd;
  try {
    fd = fs.openSync(r.logfile, 'w');
    const child = spawn(r.shell, r.args, { cwd: r.cwd, env, detached: true, stdio: ['ignore', fd, fd] });
    child.once('error', (err) => say({ id: r.id, error: err.message }));
    child.once('spawn', () => {
      if (r.files) {
        let stat;
        try { stat = fs.readFileSync('/proc/' + child.pid + '/stat', 'utf8').trim(); } catch { stat = String(child.pid); }
        try { fs.writeFileSync(r.files.group, stat + '\\n'); } catch {}
      }
      say({ id: r.id, pid: child.pid });
    });
    child.once('exit', (code, signal) => setImmediate(() => {
      const stop = stopped.delete(r.id);
      if (r.files && !stop && code !== null) {
        try { fs.writeFileSync(r.files.exit, code + '\\n'); } catch {}
      }
      say({ id: r.id, code, signal });
    }));
  } catch (err) {
    say({ id: r.id, error: err.message });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
});
`;

export class Spawner {
  #child: ChildProcessWithoutNullStreams | undefined;
  #broken = false;
  #next = 0;
  readonly #live = new Map<number, (word: SpawnWord) => void>();
  /** steps the helper said it started */
  readonly #started = new Set<number>();
  /** the environment the helper holds: each request says what differs from it */
  #env: Readonly<Record<string, string>> = {};

  /**
   * Starts the step; returns its id (for `stopping`), or undefined when the helper cannot (the
   * caller spawns it itself).
   */
  start(req: SpawnRequest): number | undefined {
    const child = this.#start();
    if (child === undefined) return undefined;
    const id = ++this.#next;
    this.#live.set(id, req.onWord);
    this.#hold(child, true);
    // The environment as it differs from the one the helper was last told (steps' differ little).
    const env: Record<string, string | null> = {};
    for (const name of Object.keys(this.#env)) if (req.env[name] === undefined) env[name] = null;
    for (const [name, value] of Object.entries(req.env)) if (this.#env[name] !== value) env[name] = value;
    this.#env = req.env;
    child.stdin.write(
      `${JSON.stringify({ id, shell: req.shell, args: req.args, cwd: req.cwd, env, logfile: req.logfile, files: req.files })}\n`,
    );
    return id;
  }

  /** The runner is about to signal the step: its end is not its own, and leaves no exit file. */
  stopping(id: number): void {
    if (this.#live.has(id)) this.#child?.stdin.write(`${JSON.stringify({ stop: id })}\n`);
  }

  /**
   * Lets the helper end once it has said what it was asked; resolves when it has (so that it is
   * reaped here, and its CPU and its steps' count as this process's children's).
   */
  close(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    this.#hold(child, true);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin.end();
    return exited;
  }

  #hold(child: ChildProcessWithoutNullStreams, on: boolean): void {
    for (const h of [child, child.stdin, child.stdout, child.stderr] as Array<{ ref?: () => void; unref?: () => void }>) {
      if (on) h.ref?.();
      else h.unref?.();
    }
  }

  #start(): ChildProcessWithoutNullStreams | undefined {
    if (this.#broken) return undefined;
    if (this.#child) return this.#child;
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(process.execPath, ['--max-old-space-size=64', '-e', HELPER], {
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
    } catch {
      this.#broken = true;
      return undefined;
    }
    this.#child = child;
    this.#env = {};
    this.#hold(child, false);
    readline.createInterface({ input: child.stdout }).on('line', (line) => this.#word(child, line));
    child.stderr.resume();
    const gone = () => {
      if (this.#child === child) this.#child = undefined;
      // Not expected (it ends only with its input, or killed by someone): the steps it started run
      // on, and their ends can no longer be told from here. The next steps start from Node.
      this.#broken = true;
      for (const [id, onWord] of this.#live) {
        this.#live.delete(id);
        onWord(this.#started.has(id) ? { kind: 'lost' } : { kind: 'failed', why: 'the spawner process ended' });
      }
      this.#started.clear();
    };
    child.on('error', gone);
    child.on('exit', gone);
    child.stdin.on('error', () => undefined);
    return child;
  }

  #word(child: ChildProcessWithoutNullStreams, line: string): void {
    let word: { id: number; pid?: number; error?: string; code?: number | null; signal?: NodeJS.Signals | null };
    try {
      word = JSON.parse(line);
    } catch {
      return;
    }
    const onWord = this.#live.get(word.id);
    if (onWord === undefined) return;
    if (word.pid !== undefined) {
      this.#started.add(word.id);
      onWord({ kind: 'started', pid: word.pid });
      return;
    }
    this.#live.delete(word.id);
    this.#started.delete(word.id);
    // Idle, it must not keep this process up; once closing, it is waited for (close()).
    if (this.#live.size === 0 && this.#child === child) this.#hold(child, false);
    onWord(
      word.error !== undefined
        ? { kind: 'failed', why: word.error }
        : { kind: 'exited', code: word.code ?? null, signal: word.signal ?? null },
    );
  }
}
