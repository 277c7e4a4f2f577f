/**
 * The ssh launcher: runs jobs on a list of hosts, each job on the host with the fewest jobs of this
 * run in flight (then the list's order). Per host it keeps one ssh session running `trellis exec
 * --serve` and hands it each job's spec path as a line: a job costs neither an ssh login (with the
 * user's shell startup) nor a Node start. ssh runs in BatchMode (never a password prompt); its
 * control socket (for the few one-off commands) lives in a private folder on this host, never on a
 * network filesystem. A host that does not answer (the session ends before it took a job) is left
 * alone for a while with one warning, and its jobs go to the next host. A session that drops after
 * taking jobs does not end them: exec finishes them and reports through the server. The remote
 * command is built here, each word quoted: nothing a remote client sent reaches a shell.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { shellQuote } from '../util/shell-quote.js';
import type { JobSpec } from './job-spec.js';
import type { JobStart } from './launcher.js';
import type { EngineEnd, RemoteEngine, Submission } from './remote-job.js';

export interface SshOptions {
  hosts: readonly string[];
  /** extra ssh options (`[ssh] args`): keys, ports, known-hosts files */
  sshArgs: string[];
  trellisCommand: string[];
  env: Readonly<Record<string, string | undefined>>;
  warn: (message: string) => void;
  /** where the sessions' own output goes (the run area's .meta/logs) */
  logDir: string;
  /** how long a host that did not answer is left alone (ms) */
  downForMs?: number;
}

interface HostState {
  running: number;
  downUntil: number;
  lastError: string;
  session: Session | undefined;
}

/** A job handed to a session, until the session says how it went. */
interface Handed {
  claimed: boolean;
  resolve: (end: EngineEnd) => void;
}

/** One `ssh HOST trellis exec --serve`. */
class Session {
  readonly child: ChildProcess;
  readonly #jobs = new Map<string, Handed>();
  #tookAny = false;
  #ended = false;

  constructor(
    readonly host: string,
    argv: string[],
    env: Readonly<Record<string, string | undefined>>,
    readonly log: string,
    onExit: (s: Session, code: number | null, tookAny: boolean) => void,
  ) {
    const fd = fs.openSync(log, 'a');
    try {
      this.child = spawn('ssh', argv, { stdio: ['pipe', 'pipe', fd], env: env as NodeJS.ProcessEnv });
    } finally {
      fs.closeSync(fd);
    }
    // A session that died leaves writes to its stdin failing: its jobs are told by onExit.
    this.child.stdin!.on('error', () => undefined);
    const lines = readline.createInterface({ input: this.child.stdout! });
    lines.on('line', (line) => this.#onLine(line));
    this.child.once('error', () => this.#exit(null, onExit));
    this.child.once('exit', (code) => this.#exit(code, onExit));
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Hands a job to the remote exec; settles when the session says it ended or was refused, or dies. */
  send(specFile: string): Promise<EngineEnd> {
    return new Promise((resolve) => {
      this.#jobs.set(specFile, { claimed: false, resolve });
      this.child.stdin!.write(`${specFile}\n`);
    });
  }

  /** Asks the remote exec to stop one job (it also acts on the kill request in the store). */
  kill(specFile: string): void {
    if (!this.#ended) this.child.stdin!.write(`kill ${specFile}\n`);
  }

  /** No more jobs: the remote exec finishes what it has and leaves. */
  close(): void {
    if (!this.#ended) this.child.stdin!.end();
  }

  #onLine(line: string): void {
    let e: { kind?: string; spec?: string; message?: string; code?: string };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      return;
    }
    const job = e.spec === undefined ? undefined : this.#jobs.get(e.spec);
    if (!job || e.spec === undefined) return;
    if (e.kind === 'claimed') {
      job.claimed = true;
      this.#tookAny = true;
    } else if (e.kind === 'ended') {
      this.#jobs.delete(e.spec);
      job.resolve({ final: false, reason: `trellis exec on ${this.host} ended it` });
    } else if (e.kind === 'refused') {
      this.#jobs.delete(e.spec);
      this.#tookAny = true;
      job.resolve({
        final: false,
        reason: `trellis exec on ${this.host}: ${e.message ?? 'refused'}`,
        mark: { state: 'INCOMPLETE', status: 'DEAD' },
      });
    }
  }

  #exit(code: number | null, onExit: (s: Session, code: number | null, tookAny: boolean) => void): void {
    if (this.#ended) return;
    this.#ended = true;
    onExit(this, code, this.#tookAny);
    const last = lastLine(this.log);
    for (const [spec, job] of this.#jobs) {
      this.#jobs.delete(spec);
      // Not taken: it may go to another host. Taken: exec goes on without its session.
      job.resolve(
        job.claimed
          ? { final: false, reason: `the ssh session to ${this.host} ended (exit ${code ?? 'signal'})` }
          : { final: false, retry: true, reason: `ssh to ${this.host} failed: ${last || `exit ${code}`}` },
      );
    }
  }
}

export class SshEngine implements RemoteEngine {
  readonly kind = 'ssh';
  readonly #opts: SshOptions;
  readonly #hosts = new Map<string, HostState>();
  readonly #controlDir: string;
  #closing = false;

  constructor(opts: SshOptions) {
    this.#opts = opts;
    for (const h of opts.hosts) this.#hosts.set(h, { running: 0, downUntil: 0, lastError: '', session: undefined });
    // ssh refuses control sockets in folders others can write; and sockets do not belong on NFS.
    // One folder per runner: a master that died with its host leaves its socket behind, and ssh
    // then gives up sharing connections to that host ("already exists, disabling multiplexing").
    const mine = path.join(os.tmpdir(), `trellis-ssh-${process.getuid?.() ?? 'u'}`);
    fs.mkdirSync(mine, { recursive: true, mode: 0o700 });
    fs.chmodSync(mine, 0o700);
    this.#controlDir = fs.mkdtempSync(path.join(mine, `${process.pid}-`));
  }

  async submit(job: JobStart, _spec: JobSpec, specFile: string): Promise<Submission> {
    const host = this.#pick();
    if (host === undefined) {
      const why = [...this.#hosts].map(([h, s]) => `${h}: ${s.lastError || 'did not answer'}`).join('; ');
      throw new Error(`no ssh host answers (${why})`);
    }
    const state = this.#hosts.get(host)!;
    const session = this.#session(host, state);
    state.running++;
    const ended = session.send(specFile).then((end) => {
      state.running--;
      return end;
    });
    void job;
    return {
      jobId: host,
      host,
      ended,
      cancel: () => session.kill(specFile),
    };
  }

  /** Ends the sessions (each remote exec finishes its jobs first) and the control sockets' folder. */
  async close(): Promise<void> {
    this.#closing = true;
    const sessions: Array<Promise<void>> = [];
    for (const s of this.#hosts.values()) {
      const session = s.session;
      if (session && !session.ended) {
        sessions.push(new Promise((resolve) => session.child.once('exit', () => resolve())));
        session.close();
      }
    }
    await Promise.all(sessions);
    // Then the shared connections the sessions went through.
    await Promise.all(
      [...this.#hosts.keys()].map(
        (host) =>
          new Promise<void>((resolve) => execFile('ssh', [...this.#baseArgs(), '-O', 'exit', host], { timeout: 10_000 }, () => resolve())),
      ),
    );
    fs.rmSync(this.#controlDir, { recursive: true, force: true });
  }

  #session(host: string, state: HostState): Session {
    if (state.session && !state.session.ended) return state.session;
    const remote = [...this.#opts.trellisCommand, 'exec', '--serve'].map(shellQuote).join(' ');
    fs.mkdirSync(this.#opts.logDir, { recursive: true });
    const log = path.join(this.#opts.logDir, `ssh-${host.replace(/[^A-Za-z0-9_.-]/g, '_')}-${process.pid}.log`);
    state.session = new Session(host, [...this.#baseArgs(), host, `cd / && exec ${remote}`], this.#opts.env, log, (s, code, tookAny) => {
      if (state.session === s) state.session = undefined;
      if (this.#closing) return;
      // A session that ended before taking a job: the host did not answer (or could not run exec).
      if (!tookAny && code !== 0) {
        const last = lastLine(log) || `ssh exited ${code}`;
        state.lastError = last;
        if (state.downUntil < Date.now()) this.#opts.warn(`ssh host ${host} did not answer (${last}); its jobs go to the other hosts`);
        state.downUntil = Date.now() + (this.#opts.downForMs ?? 30_000);
      } else if (code !== 0) {
        state.lastError = lastLine(log) || `ssh exited ${code}`;
        state.downUntil = Date.now() + (this.#opts.downForMs ?? 30_000);
        this.#opts.warn(`the ssh session to ${host} ended (${state.lastError}); its jobs finish there, new ones go to the other hosts`);
      }
    });
    return state.session;
  }

  #baseArgs(): string[] {
    return [
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=10',
      '-o',
      'ServerAliveInterval=15',
      '-o',
      'ControlMaster=auto',
      '-o',
      `ControlPath=${path.join(this.#controlDir, '%C')}`,
      '-o',
      'ControlPersist=60',
      ...this.#opts.sshArgs,
    ];
  }

  /** The host with the fewest jobs of this run among those answering; the list's order breaks ties. */
  #pick(): string | undefined {
    const now = Date.now();
    let best: string | undefined;
    for (const [host, s] of this.#hosts) {
      if (s.downUntil > now) continue;
      if (best === undefined || s.running < this.#hosts.get(best)!.running) best = host;
    }
    return best;
  }
}

/** The last non-empty line of a small log (what ssh said before giving up). */
function lastLine(file: string): string {
  try {
    const text = fs.readFileSync(file, 'utf8').slice(-4096);
    return text.trim().split('\n').pop()?.trim() ?? '';
  } catch {
    return '';
  }
}
