/**
 * The ssh launcher: runs `trellis exec` on a host of a list, picking the host with the fewest jobs
 * of this run (then the list's order). ssh runs in BatchMode (never a password prompt) and shares
 * one connection per host (ControlMaster, sockets in a private folder on this host: never on a
 * network filesystem). A host that does not answer (ssh exits 255 before exec began) is skipped
 * for a while with one warning, and the job goes to the next host. The remote command is built
 * here from the spec's path, each word quoted: nothing a remote client sent reaches a shell.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
  /** how long a host that did not answer is left alone (ms) */
  downForMs?: number;
}

interface HostState {
  running: number;
  downUntil: number;
  lastError: string;
}

export class SshEngine implements RemoteEngine {
  readonly kind = 'ssh';
  readonly #opts: SshOptions;
  readonly #hosts = new Map<string, HostState>();
  readonly #controlDir: string;
  readonly #used = new Set<string>();

  constructor(opts: SshOptions) {
    this.#opts = opts;
    for (const h of opts.hosts) this.#hosts.set(h, { running: 0, downUntil: 0, lastError: '' });
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
    state.running++;
    this.#used.add(host);
    const remote = `cd ${shellQuote(job.workDir)} && exec ${[...this.#opts.trellisCommand, 'exec', specFile].map(shellQuote).join(' ')}`;
    const log = path.join(job.workDir, 'ssh-launch.log');
    const fd = fs.openSync(log, 'a');
    let child;
    try {
      child = spawn('ssh', [...this.#baseArgs(), host, remote], { stdio: ['ignore', fd, fd], env: this.#opts.env as NodeJS.ProcessEnv });
    } finally {
      fs.closeSync(fd);
    }
    const ended = new Promise<EngineEnd>((resolve) => {
      const done = (code: number | null, signal: string | null) => {
        state.running--;
        if (code === 255 || (code === null && signal === null)) {
          const last = lastLine(log) || 'ssh could not connect';
          state.lastError = last;
          if (state.downUntil < Date.now()) this.#opts.warn(`ssh host ${host} did not answer (${last}); its jobs go to the other hosts`);
          state.downUntil = Date.now() + (this.#opts.downForMs ?? 30_000);
          resolve({ final: false, retry: true, reason: `ssh to ${host} failed: ${last}` });
          return;
        }
        const how = signal ? `was ended by ${signal}` : `exited ${code}`;
        resolve({ final: false, reason: `the ssh session to ${host} ${how}` });
      };
      child.once('error', () => done(null, null));
      child.once('exit', done);
    });
    return {
      jobId: host,
      host,
      ended,
      cancel: (remotePid?: number) => {
        child.kill('SIGTERM');
        if (remotePid !== undefined) {
          execFile('ssh', [...this.#baseArgs(), host, `kill -TERM ${Math.trunc(remotePid)}`], { env: this.#opts.env as NodeJS.ProcessEnv }, () => undefined);
        }
      },
    };
  }

  /** Closes the shared connections this launcher opened, and their sockets' folder. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.#used].map(
        (host) => new Promise<void>((resolve) => execFile('ssh', [...this.#baseArgs(), '-O', 'exit', host], { timeout: 10_000 }, () => resolve())),
      ),
    );
    fs.rmSync(this.#controlDir, { recursive: true, force: true });
  }

  #baseArgs(): string[] {
    return [
      '-o', 'BatchMode=yes',
      '-o', 'ConnectTimeout=10',
      '-o', 'ServerAliveInterval=15',
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${path.join(this.#controlDir, '%C')}`,
      '-o', 'ControlPersist=60',
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
