/**
 * A Megatest-style launcher command (`[jobtools] launcher bsub -q normal`, `nbjob run`, a script of
 * the area's own): the words, as the area wrote them, are a prefix run by the shell in the job's
 * work folder with the test's whole environment exported (MT_TEST_RUN_DIR, MT_TARGET, … as
 * Megatest does, so `bsub -o $MT_TEST_RUN_DIR/out` works), followed by the exec command, quoted
 * here. What it prints goes to `mt_launch.log` beside the job's logs. With `[setup] launchwait`
 * (the default, as in Megatest) its exit is watched: a launcher that fails before exec began marks
 * the test with its exit code and last line; one that exits 0 has handed the job on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { shellQuote } from '../util/shell-quote.js';
import type { JobSpec } from './job-spec.js';
import type { JobStart } from './launcher.js';
import type { EngineEnd, RemoteEngine, Submission } from './remote-job.js';

export interface CommandOptions {
  /** the launcher's words, for the shell */
  words: string;
  trellisCommand: string[];
  /** watch the launcher's exit (Megatest's `[setup] launchwait`, default yes) */
  launchwait: boolean;
  shell: string;
}

export class CommandEngine implements RemoteEngine {
  readonly kind = 'command';
  readonly #opts: CommandOptions;

  constructor(opts: CommandOptions) {
    this.#opts = opts;
  }

  async submit(job: JobStart, _spec: JobSpec, specFile: string): Promise<Submission> {
    const exec = [...this.#opts.trellisCommand, 'exec', specFile].map(shellQuote).join(' ');
    const command = `${this.#opts.words} ${exec}`;
    const log = path.join(job.workDir, 'mt_launch.log');
    fs.appendFileSync(log, `LAUNCHCMD: ${command}\n`);
    const fd = fs.openSync(log, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.#opts.shell, ['-c', command], {
        cwd: job.workDir,
        env: job.env,
        stdio: ['ignore', fd, fd],
        detached: true,
      });
    } finally {
      fs.closeSync(fd);
    }
    const pid = child.pid;
    const ended = new Promise<EngineEnd>((resolve) => {
      if (!this.#opts.launchwait) {
        // Not watched (Megatest's launchwait no): exec's own reports are all there is.
        child.unref();
        child.once('error', (err) =>
          resolve({ final: false, reason: `the launcher could not start: ${err.message}`, mark: { state: 'INCOMPLETE', status: 'DEAD' } }),
        );
        return;
      }
      child.once('error', (err) =>
        resolve({ final: false, reason: `the launcher could not start: ${err.message}`, mark: { state: 'INCOMPLETE', status: 'DEAD' } }),
      );
      child.once('exit', (code, signal) => {
        if (code === 0) {
          resolve({ final: false, reason: 'the launcher command exited 0 before the job began' });
          return;
        }
        const how = signal ? `was ended by ${signal}` : `exited ${code}`;
        const last = lastLine(log);
        resolve({
          final: false,
          reason: `the launcher command ${how}${last ? `: ${last}` : ''} (see ${log})`,
          mark: { state: 'INCOMPLETE', status: 'DEAD' },
        });
      });
    });
    return {
      jobId: pid === undefined ? '' : String(pid),
      host: '',
      ended,
      cancel: () => {
        if (pid === undefined) return;
        try {
          process.kill(-pid, 'SIGTERM');
        } catch {
          // already gone
        }
      },
    };
  }
}

function lastLine(file: string): string {
  try {
    const text = fs.readFileSync(file, 'utf8').slice(-4096);
    return text.trim().split('\n').pop()?.trim() ?? '';
  } catch {
    return '';
  }
}
