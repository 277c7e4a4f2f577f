/**
 * `trellis exec`, the remote side of a launcher (design §6): read the job spec from the work
 * folder, find (or start) the run area's server with invocation `exec`, claim the job (a second
 * exec of the same launch sees the first alive and leaves without touching it), run the steps
 * exactly as the local launcher does, and record the end before leaving. A kill request in the
 * store, or TERM from the job's engine (scancel), ends the steps' process groups: KILLED.
 */
import fs from 'node:fs';
import { isSuccess } from '../model/states.js';
import type { Store } from '../store/store.js';
import { killStepGroup } from '../util/process-info.js';
import { readJobSpec, type JobSpec } from './job-spec.js';
import { JobRun, type JobOutcome } from './job-run.js';
import { Recorder } from './recorder.js';
import { RunWatch } from './run-watch.js';
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
}

export interface ExecResult {
  spec: JobSpec;
  outcome: JobOutcome;
}

/** Runs the job of `specFile`; throws JOB_BUSY/JOB_GONE when it is not this process's to run. */
export async function executeJob(specFile: string, ctx: ExecContext): Promise<ExecResult> {
  const spec = await readJobSpec(specFile);
  const store = await ctx.openStore(spec);
  try {
    const { agent } = await store.claimJob(
      spec.runId,
      spec.testId,
      spec.launchId,
      { kind: 'exec', host: ctx.host, pid: ctx.pid, procStart: ctx.procStart },
      { now: ctx.now(), deadtime: spec.deadtime },
    );
    // Steps a dead runner or exec of this run left running on this host.
    for (const orphan of await store.takeOrphans(spec.runId, ctx.host).catch(() => [])) killStepGroup(orphan.pid, orphan.procStart);
    let failure: unknown;
    let job: JobRun | undefined;
    const recorder = new Recorder({
      store,
      runId: spec.runId,
      prefix: `x${agent.id}`,
      now: ctx.now,
      options: spec.force ? { force: true, who: spec.who } : { who: spec.who },
      onError: (err) => {
        failure ??= err;
        job?.stop('ABORT', `its results could not be recorded: ${(err as Error).message}`);
      },
    });
    const shell = fs.existsSync(spec.shell) ? spec.shell : '/bin/sh';
    job = new JobRun(
      {
        testId: spec.testId,
        testname: spec.testname,
        itempath: spec.itempath,
        def: spec.def,
        workDir: spec.workDir,
        env: execEnv(ctx.env, spec.env, ctx.binDir),
        preclean: false,
        reset: false,
      },
      {
        recorder,
        host: ctx.host,
        pid: ctx.pid,
        agentId: agent.id,
        shell,
        now: ctx.now,
        readTest: (id) => store.getTestById(spec.runId, id),
        role: 'exec',
      },
    );
    const running = job;
    const onSignal = () => running.stop('ABORT', `terminated by ${String(ctx.signal.reason ?? 'a signal')} (scancel, or a kill of trellis exec)`);
    const onHard = () => running.kill(`killed by a second ${String(ctx.hardSignal.reason ?? 'signal')}`);
    ctx.signal.addEventListener('abort', onSignal);
    ctx.hardSignal.addEventListener('abort', onHard);
    if (ctx.signal.aborted) onSignal();
    const watch = new RunWatch({
      store,
      runId: spec.runId,
      agentId: agent.id,
      now: ctx.now,
      everySeconds: ctx.pollSeconds ?? 1,
      onKillRequest: (id) => {
        if (id !== spec.testId) return;
        void store.getTestById(spec.runId, id).then(
          (row) => running.stop('ABORT', row?.comment || 'killed on request (trellis kill)'),
          () => running.stop('ABORT', 'killed on request (trellis kill)'),
        );
      },
    });
    watch.start();
    let outcome: JobOutcome;
    try {
      outcome = await running.done;
    } finally {
      watch.stop();
      ctx.signal.removeEventListener('abort', onSignal);
      ctx.hardSignal.removeEventListener('abort', onHard);
      await recorder.flush();
      await store.endAgent(spec.runId, agent.id, ctx.now()).catch(() => undefined);
    }
    if (failure) throw failure;
    return { spec, outcome };
  } finally {
    await store.close();
  }
}

/** exec's exit code: 0 when the job succeeded, 1 when it did not, 130 when it was stopped by a signal. */
export function execExitCode(result: ExecResult, signalled: boolean): number {
  if (signalled) return 130;
  return result.outcome.state === 'COMPLETED' && isSuccess(result.outcome.status) ? 0 : 1;
}
