/**
 * The Slurm launcher: each job is an `sbatch` batch job running `trellis exec` (job name
 * `trellis:<test>[/<item>]`, output in the work folder, `--time` from runtimelim with a minute of
 * margin so the job's own limit fires first). One `squeue` call a second over every job in flight
 * notices a job that Slurm ended without exec recording it (cancelled, failed, timed out, lost),
 * which is then marked with Slurm's reason; `scancel` cancels.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { shellQuote } from '../util/shell-quote.js';
import { SbatchPipe } from './sbatch-pipe.js';
import type { JobSpec } from './job-spec.js';
import type { JobStart } from './launcher.js';
import { jobLabel, type EngineEnd, type RemoteEngine, type Submission } from './remote-job.js';

export interface SlurmOptions {
  /** sbatch options: `[slurm]` partition/account/args, then the launcher's own words */
  sbatchArgs: string[];
  /** the command that runs trellis on a compute node */
  trellisCommand: string[];
  /** the runner's environment (sbatch passes it on to the job, as Slurm does by default) */
  env: Readonly<Record<string, string | undefined>>;
  /** ms between squeue calls */
  pollMs?: number;
}

/** Job states after which nothing of the job runs. */
const ENDED = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'OUT_OF_MEMORY',
  'DEADLINE',
  'SPECIAL_EXIT',
  'REVOKED',
]);

interface Tracked {
  resolve: (end: EngineEnd) => void;
  /** told once, with the node's name, when squeue first shows the job RUNNING */
  running: (node: string) => void;
}

export class SlurmEngine implements RemoteEngine {
  readonly kind = 'slurm';
  readonly #opts: SlurmOptions;
  readonly #tracked = new Map<string, Tracked>();
  #timer: NodeJS.Timeout | undefined;
  #polling = false;
  #closed = false;
  /** the sbatch before this one: submissions go one after another */
  #submitting: Promise<void> = Promise.resolve();
  readonly #pipe: SbatchPipe;

  constructor(opts: SlurmOptions) {
    this.#opts = opts;
    this.#pipe = new SbatchPipe(opts.env);
  }

  async submit(job: JobStart, spec: JobSpec, specFile: string): Promise<Submission> {
    const script = path.join(job.workDir, '.trellis-slurm.sh');
    const command = [...this.#opts.trellisCommand, 'exec', specFile].map(shellQuote).join(' ');
    fs.writeFileSync(script, `#!/bin/sh\n# trellis ${jobLabel(job)} (${spec.target}/${spec.runname})\nexec ${command}\n`, { mode: 0o750 });
    return this.submitScript(job, script);
  }

  /**
   * Submits a batch script of the job's work folder (exec's one-liner, or a shell job that runs the
   * steps itself: shell-job.ts). `running` settles with the node's name once Slurm runs the job
   * (or with '' if it ended first).
   */
  async submitScript(job: JobStart, script: string): Promise<Submission & { running: Promise<string> }> {
    const limit = job.def.runtimelim;
    const args = [
      '--parsable',
      `--job-name=trellis:${jobLabel(job)}`,
      `--output=${path.join(job.workDir, 'slurm-%j.out')}`,
      `--chdir=${job.workDir}`,
      ...(limit !== null && limit > 0 ? [`--time=${Math.ceil(limit / 60) + 1}`] : []),
      ...this.#opts.sbatchArgs,
      script,
    ];
    // One sbatch at a time, as a loop of them would: slurmctld tries to start each job as it is
    // submitted, where a burst of hundreds waits for its scheduling passes (docs/benchmarks.md).
    // Through a small shell of its own (sbatch-pipe.ts), unless an argument cannot travel there.
    const turn = SbatchPipe.carries(args) ? this.#pipe.submit(args) : this.#submitting.then(() => run('sbatch', args, this.#opts.env));
    this.#submitting = turn.then(
      () => undefined,
      () => undefined,
    );
    const out = await turn;
    const jobId = out.trim().split(';')[0] ?? '';
    if (!/^[0-9]+(_[0-9]+)?$/.test(jobId)) throw new Error(`sbatch printed no job id (${out.trim() || 'nothing'})`);
    let onRunning: (node: string) => void = () => undefined;
    const running = new Promise<string>((resolve) => (onRunning = resolve));
    const ended = new Promise<EngineEnd>((resolve) =>
      this.#tracked.set(jobId, {
        resolve: (end) => {
          onRunning('');
          resolve(end);
        },
        running: onRunning,
      }),
    );
    this.#schedulePoll();
    return {
      jobId,
      host: '',
      ended,
      running,
      cancel: () => {
        execFile('scancel', [jobId], { env: this.#env() }, () => undefined);
      },
    };
  }

  /** Stops polling; jobs still in flight are left to Slurm. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#pipe.close();
  }

  #env(): Record<string, string | undefined> {
    return { ...this.#opts.env };
  }

  #schedulePoll(): void {
    if (this.#timer !== undefined || this.#polling || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#poll();
    }, this.#opts.pollMs ?? 1000);
  }

  async #poll(): Promise<void> {
    if (this.#tracked.size === 0 || this.#closed) return;
    this.#polling = true;
    const ids = [...this.#tracked.keys()];
    try {
      const states = await queryJobs(ids, this.#opts.env);
      for (const id of ids) {
        const st = states.get(id);
        if (st?.state === 'RUNNING') this.#tracked.get(id)?.running(st.node);
        if (st !== undefined && !ENDED.has(st.state)) continue;
        const tracked = this.#tracked.get(id);
        this.#tracked.delete(id);
        tracked?.resolve(describeEnd(id, st));
      }
    } catch {
      // squeue failed (slurmctld restarting): ask again next time.
    } finally {
      this.#polling = false;
      if (this.#tracked.size > 0) this.#schedulePoll();
    }
  }
}

/** What Slurm's end of a job means for a test that exec never finished. */
function describeEnd(id: string, st: { state: string; reason: string } | undefined): EngineEnd {
  if (st === undefined) return { final: true, reason: `Slurm no longer knows job ${id}` };
  const why = st.reason && st.reason !== 'None' ? `: ${st.reason}` : '';
  const reason = `Slurm job ${id} ${st.state}${why}`;
  if (st.state === 'CANCELLED') return { final: true, reason, mark: { state: 'KILLED', status: 'ABORT' } };
  if (st.state === 'TIMEOUT' || st.state === 'DEADLINE') return { final: true, reason, mark: { state: 'KILLED', status: 'TIMED_OUT' } };
  return { final: true, reason };
}

/** The state and reason of each job Slurm still knows, by id (`squeue -t all`). */
async function queryJobs(
  ids: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<Map<string, { state: string; reason: string; node: string }>> {
  const out = new Map<string, { state: string; reason: string; node: string }>();
  let text: string;
  try {
    text = await run('squeue', ['-h', '-t', 'all', '-j', ids.join(','), '-o', '%i|%T|%r|%N'], env);
  } catch (err) {
    // squeue exits 1 when it knows none of the ids: they are all gone.
    if (/Invalid job id/i.test((err as Error).message)) return out;
    throw err;
  }
  for (const line of text.split('\n')) {
    const [id, state, reason, node] = line.trim().split('|');
    if (id && state) out.set(id, { state: state.replace(/\+$/, ''), reason: reason ?? '', node: node ?? '' });
  }
  return out;
}

/** Runs a Slurm command (no shell); rejects with its last line of stderr. */
function run(cmd: string, args: string[], env: Readonly<Record<string, string | undefined>>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: env as NodeJS.ProcessEnv, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) {
        const last = stderr.trim().split('\n').pop() || err.message;
        reject(new Error(`${cmd} failed: ${last}`));
      } else resolve(stdout);
    });
  });
}
