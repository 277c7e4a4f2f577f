/**
 * `trellis exec`, the remote side of a launcher (design §6): read a job spec from its work folder,
 * find (or start) the run area's server with invocation `exec`, claim the job (a second exec of the
 * same launch sees the first alive and leaves without touching it), run the steps exactly as the
 * local launcher does, and record the end. A kill request in the store, or TERM from the job's
 * engine (scancel), ends the steps' process groups: KILLED.
 *
 * Two forms: one job (`trellis exec SPEC`, what Slurm and launcher commands start), or a stream of
 * jobs (`trellis exec --serve`, spec paths one per line on stdin, what the ssh launcher keeps one
 * of per host, so a job costs neither an ssh session nor a Node start). A served process that
 * loses its input (the session dropped) finishes the jobs it has and takes no more.
 */
import fs from 'node:fs';
import type { CarriedWrites } from '../model/pool.js';
import { isSuccess } from '../model/states.js';
import type { JobClaim, Store } from '../store/store.js';
import { isTrellisError } from '../util/errors.js';
import { killStepGroup } from '../util/process-info.js';
import { readJobSpec, reviveJobDefinition, type JobSpec } from './job-spec.js';
import { JobRun, type InTestSetup, type JobOutcome } from './job-run.js';
import { Recorder } from './recorder.js';
import { endChannels } from './job-channel.js';
import { endSpawner } from './step-process.js';
import { execEnv } from './test-env.js';

export interface ExecContext {
  env: Readonly<Record<string, string | undefined>>;
  host: string;
  pid: number;
  procStart: number | null;
  /** this installation's bin folder (put first on the tests' PATH) */
  binDir: string;
  now: () => number;
  /** aborted on TERM/INT: stop the steps (TERM, then KILL) */
  signal: AbortSignal;
  /** aborted on a second one: KILL at once */
  hardSignal: AbortSignal;
  /** opens the store of the spec's run area, as a client of its server */
  openStore(spec: JobSpec): Promise<Store>;
  /** seconds between looks for kill requests (default 1) */
  pollSeconds?: number;
  /** reads a test's `trellis step|test-status|set-value` (the CLI's parser) */
  parseHelper: InTestSetup['parseHelper'];
  /** the pool agent (`trellis agent`) running the jobs: its name is recorded as each test's job */
  poolAgent?: string;
}

export interface ExecResult {
  spec: JobSpec;
  outcome: JobOutcome;
}

/** How often a job's agent heartbeats (seconds). */
const HEARTBEAT_SECONDS = 10;

/** Runs the job of `specFile`; throws JOB_BUSY/JOB_GONE when it is not this process's to run. */
export async function executeJob(specFile: string, ctx: ExecContext): Promise<ExecResult> {
  const spec = await readJobSpec(specFile);
  const store = await ctx.openStore(spec);
  const jobs = new JobSet(ctx, () => store);
  try {
    return { spec, outcome: await jobs.run(spec) };
  } finally {
    jobs.close();
    await endSpawner();
    await endChannels();
    await store.close();
  }
}

/** What a served exec says on stdout about each job (the ssh launcher reads it). */
export type ServeEvent =
  | { kind: 'claimed'; spec: string; testId: number }
  | { kind: 'refused'; spec: string; message: string; code: string }
  | { kind: 'ended'; spec: string; outcome: JobOutcome };

/**
 * Runs the jobs whose spec paths come in on `lines`, each as soon as it arrives, until the input
 * ends and every job has ended. A job that cannot be run is refused (said on `say`) and the others
 * go on.
 */
export async function serveJobs(lines: AsyncIterable<string>, ctx: ExecContext, say: (e: ServeEvent) => void): Promise<void> {
  const stores = new Map<string, Promise<Store>>();
  const jobs = new JobSet(ctx, (spec) => {
    let store = stores.get(spec.runArea);
    if (!store) {
      store = ctx.openStore(spec);
      // A store that could not be opened is asked again for the next job.
      store.catch(() => stores.delete(spec.runArea));
      stores.set(spec.runArea, store);
    }
    return store;
  });
  const running = new Set<Promise<void>>();
  const specs = new Map<string, JobSpec>();
  const start = (specFile: string) => {
    const p = (async () => {
      try {
        const spec = await readJobSpec(specFile);
        specs.set(specFile, spec);
        const outcome = await jobs.run(spec, () => say({ kind: 'claimed', spec: specFile, testId: spec.testId }));
        say({ kind: 'ended', spec: specFile, outcome });
      } catch (err) {
        say({ kind: 'refused', spec: specFile, message: (err as Error).message, code: isTrellisError(err) ? err.code : 'INTERNAL' });
      } finally {
        specs.delete(specFile);
      }
    })();
    running.add(p);
    void p.finally(() => running.delete(p));
  };
  try {
    for await (const line of lines) {
      const text = line.trim();
      if (text === '') continue;
      if (ctx.signal.aborted) break;
      // `kill SPEC`: the runner's last word on a job that did not answer its kill request.
      if (text.startsWith('kill ')) {
        const spec = specs.get(text.slice(5));
        if (spec) jobs.stop(spec, 'killed on request (trellis kill)');
        continue;
      }
      start(text);
    }
    while (running.size > 0) await Promise.all([...running]);
  } finally {
    jobs.close();
    await endSpawner();
    await endChannels();
    for (const s of stores.values())
      await s.then(
        (st) => st.close(),
        () => undefined,
      );
  }
}

/**
 * How long an agent's job lets its first writes wait for more (ms); see Recorder. A job of `true`
 * took 20-50 ms from claim to end on the 2-vCPU VM at loads 2-9 (bench/agents.mjs): at 20 ms most
 * of them sent a write of their own mid-job under load. Nothing is lost by the wait: the pool
 * counts a test claimed for an agent's exec as begun (store/pool.ts hasBegun), and a reaper finds
 * its steps' exit and group files.
 */
const AGENT_BATCH_MS = 100;

/**
 * The jobs one exec process runs: each claimed under an agent of its own, all watched together (one
 * look per run for kill requests every second, heartbeats every ten), all stopped on TERM.
 */
export class JobSet {
  readonly #ctx: ExecContext;
  readonly #storeFor: (spec: JobSpec) => Store | Promise<Store>;
  readonly #live = new Map<string, { store: Store; runId: number; agentId: number; testId: number; job: JobRun }>();
  #timer: NodeJS.Timeout | undefined;
  #lastBeat = 0;
  #busy = false;
  /** runs whose orphans on this host were taken */
  readonly #orphansTaken = new Set<string>();
  readonly #onSignal: () => void;
  readonly #onHard: () => void;

  constructor(ctx: ExecContext, storeFor: (spec: JobSpec) => Store | Promise<Store>) {
    this.#ctx = ctx;
    this.#storeFor = storeFor;
    const why = () => `terminated by ${String(ctx.signal.reason ?? 'a signal')} (scancel, or a kill of trellis exec)`;
    this.#onSignal = () => {
      for (const { job } of this.#live.values()) job.stop('ABORT', why());
    };
    this.#onHard = () => {
      for (const { job } of this.#live.values()) job.kill(`killed by a second ${String(ctx.hardSignal.reason ?? 'signal')}`);
    };
    ctx.signal.addEventListener('abort', this.#onSignal);
    ctx.hardSignal.addEventListener('abort', this.#onHard);
  }

  /**
   * Claims and runs one job; resolves with how it ended, once its end is recorded. An agent that
   * took the job with its claim (`how.claimed`) runs it as claimed, and ends its exec agent itself
   * with the queue's word (`how.keepAgent`), and its last writes too (`how.carry` gets them instead
   * of the store): one request fewer each. `how.writeSpec`: the spec came from the queue, not a
   * file: it is written into the work folder when that is made.
   */
  async run(
    spec: JobSpec,
    onClaimed: () => void = () => undefined,
    how: { claimed?: JobClaim; keepAgent?: boolean; carry?: (writes: CarriedWrites) => void; writeSpec?: boolean } = {},
  ): Promise<JobOutcome> {
    const ctx = this.#ctx;
    const store = await this.#storeFor(spec);
    const { agent } =
      how.claimed ??
      (await store.claimJob(
        spec.runId,
        spec.testId,
        spec.launchId,
        {
          kind: 'exec',
          host: ctx.host,
          pid: ctx.pid,
          procStart: ctx.procStart,
          ...(ctx.poolAgent !== undefined ? { poolAgent: ctx.poolAgent } : {}),
        },
        { now: ctx.now(), deadtime: spec.deadtime },
      ));
    onClaimed();
    // Steps a dead runner or exec of this run left running on this host.
    // Once per run for a process that runs many jobs (exec --serve, an agent): they are the same.
    const runKey = `${spec.runArea}\u0000${spec.runId}`;
    if (!this.#orphansTaken.has(runKey)) {
      this.#orphansTaken.add(runKey);
      for (const orphan of await store.takeOrphans(spec.runId, ctx.host).catch(() => [])) killStepGroup(orphan.pid, orphan.procStart);
    }
    let failure: unknown;
    let job: JobRun | undefined;
    const recorder = new Recorder({
      store,
      runId: spec.runId,
      prefix: `x${agent.id}`,
      now: ctx.now,
      // An agent runs many short jobs side by side, each writing through the server: a job that
      // ends within this time says its start and its end in one request (its flush at the end).
      ...(how.claimed ? { delayMs: AGENT_BATCH_MS } : {}),
      options: spec.force ? { force: true, who: spec.who, asAgent: agent.id } : { who: spec.who, asAgent: agent.id },
      onError: (err) => {
        failure ??= err;
        job?.stop('ABORT', `its results could not be recorded: ${(err as Error).message}`);
      },
    });
    job = new JobRun(
      {
        testId: spec.testId,
        testname: spec.testname,
        itempath: spec.itempath,
        def: reviveJobDefinition(spec.def),
        workDir: spec.workDir,
        env: execEnv(ctx.env, spec.env, ctx.binDir),
        preclean: false,
        reset: false,
        startAt: spec.startAt ?? 0,
        exitCodes: spec.exitCodes,
        inputs: spec.inputs,
        ...(how.writeSpec ? { specText: `${JSON.stringify(spec, null, 1)}\n` } : {}),
      },
      {
        recorder,
        host: ctx.host,
        pid: ctx.pid,
        agentId: agent.id,
        shell: fs.existsSync(spec.shell) ? spec.shell : '/bin/sh',
        now: ctx.now,
        readTest: (id) => store.getTestById(spec.runId, id),
        role: 'exec',
        inTest: {
          store,
          runId: spec.runId,
          runArea: spec.runArea,
          writeOptions: spec.force ? { force: true, who: spec.who, asAgent: agent.id } : { who: spec.who, asAgent: agent.id },
          parseHelper: ctx.parseHelper,
        },
      },
    );
    const key = `${spec.runArea}\u0000${spec.runId}\u0000${spec.testId}`;
    this.#live.set(key, { store, runId: spec.runId, agentId: agent.id, testId: spec.testId, job });
    if (ctx.signal.aborted) this.#onSignal();
    this.#startWatching();
    try {
      const outcome = await job.done;
      if (how.carry) {
        const carried = await recorder.handOff();
        if (carried) how.carry(carried);
      } else await recorder.flush();
      if (failure) throw failure;
      return outcome;
    } finally {
      this.#live.delete(key);
      if (!how.keepAgent) await store.endAgent(spec.runId, agent.id, ctx.now()).catch(() => undefined);
    }
  }

  /** Stops one job this process runs (KILLED/ABORT with `reason`). */
  stop(spec: JobSpec, reason: string): void {
    this.#live.get(`${spec.runArea}\u0000${spec.runId}\u0000${spec.testId}`)?.job.stop('ABORT', reason);
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#ctx.signal.removeEventListener('abort', this.#onSignal);
    this.#ctx.hardSignal.removeEventListener('abort', this.#onHard);
  }

  #startWatching(): void {
    if (this.#timer) return;
    this.#lastBeat = this.#ctx.now();
    this.#timer = setInterval(() => void this.#tick(), (this.#ctx.pollSeconds ?? 1) * 1000);
    this.#timer.unref();
  }

  /** Heartbeats, and kill requests for the jobs that run here (one look per run). */
  async #tick(): Promise<void> {
    if (this.#busy || this.#live.size === 0) return;
    this.#busy = true;
    try {
      const now = this.#ctx.now();
      const beat = now - this.#lastBeat >= HEARTBEAT_SECONDS;
      if (beat) this.#lastBeat = now;
      const runs = new Map<Store, Map<number, Array<{ agentId: number; testId: number; job: JobRun }>>>();
      for (const live of this.#live.values()) {
        const byRun = runs.get(live.store) ?? new Map<number, Array<{ agentId: number; testId: number; job: JobRun }>>();
        runs.set(live.store, byRun);
        byRun.set(live.runId, [...(byRun.get(live.runId) ?? []), live]);
      }
      for (const [store, byRun] of runs) {
        for (const [runId, jobs] of byRun) {
          if (beat) for (const j of jobs) await store.heartbeat(runId, j.agentId, now).catch(() => undefined);
          const asked = await store.listTests(runId, { state: ['KILLREQ'] }).catch(() => []);
          for (const row of asked) {
            const j = jobs.find((x) => x.testId === row.id);
            j?.job.stop('ABORT', row.comment || 'killed on request (trellis kill)');
          }
        }
      }
    } finally {
      this.#busy = false;
    }
  }
}

/** exec's exit code: 0 when the job succeeded, 1 when it did not, 130 when it was stopped by a signal. */
export function execExitCode(result: ExecResult, signalled: boolean): number {
  if (signalled) return 130;
  // Parked on a manual step is not a failure: the job did what it could until its sign-off.
  if (result.outcome.state === 'WAITING') return 0;
  return result.outcome.state === 'COMPLETED' && isSuccess(result.outcome.status) ? 0 : 1;
}
