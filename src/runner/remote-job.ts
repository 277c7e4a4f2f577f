/**
 * A job run elsewhere by `trellis exec` (Slurm, ssh, a Megatest-style launcher command). The
 * runner writes the job spec into the work folder, marks the row LAUNCHED with a fresh launch id,
 * and has its engine start exec. From then on the store tells the outcome: exec claims the row,
 * runs the steps and records the end; the runner follows the row through the change feed. The
 * engine adds what only it knows: a job its scheduler lost or failed before exec began (marked with
 * the engine's reason), an ssh host that did not answer (the job goes to the next host), and how to
 * cancel a job that has not started.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { TestRecord } from '../model/records.js';
import { FINAL_STATES, type TestState } from '../model/states.js';
import { resetOpOf } from './job-run.js';
import type { Store } from '../store/store.js';
import { displayName } from '../model/display-name.js';
import { jobSpecFile } from '../store/job-files.js';
import { jobDefinitionOf, writeJobSpec, type JobSpec } from './job-spec.js';
import type { JobOutcome } from './job-run.js';
import type { JobStart, LaunchedJob } from './launcher.js';
import type { Recorder } from './recorder.js';
import type { RunFollower } from './run-follower.js';
import { KILL_GRACE_MS } from './step-process.js';

/** What the runner gives every remote job. */
export interface RemoteContext {
  store: Store;
  recorder: Recorder;
  follower: RunFollower;
  runId: number;
  runArea: string;
  areaDir: string;
  target: string;
  runname: string;
  /** the runner's agent: it owns a launched row until exec claims it */
  agentId: number;
  shell: string;
  who: string;
  force: boolean;
  deadtime: number;
  now: () => number;
  warn: (message: string) => void;
}

/** How an engine's job ended, as far as the engine can tell. */
export interface EngineEnd {
  /** what the engine says, for the test's comment when exec never reported */
  reason: string;
  /**
   * true when the engine knows no process of the job is left (Slurm: the job left the queue), so an
   * exec that claimed the row and recorded no end is dead; false when exec may live on (an ssh
   * session that dropped, a launcher that submitted elsewhere)
   */
  final: boolean;
  /** the job never reached exec and may be started again elsewhere (an ssh host that did not answer) */
  retry?: boolean;
  /** how to mark a job that never reached exec; default INCOMPLETE/DEAD */
  mark?: { state: TestState; status: string };
}

/** A job an engine started. */
export interface Submission {
  /** the engine's name for it: Slurm job id, ssh host, launcher pid */
  jobId: string;
  /** where it runs, when the engine knows before exec says (an ssh host) */
  host: string;
  /** settles when the engine sees the job end */
  ended: Promise<EngineEnd>;
  /** cancels the job (scancel, or ending the ssh client or launcher process; `remotePid`: exec's, when known) */
  cancel(remotePid?: number): void;
}

/** One way of starting `trellis exec` somewhere. */
export interface RemoteEngine {
  readonly kind: string;
  /**
   * true when `submit` sends the job's queued launch writes itself, in the request that submits it
   * (Recorder.takeOps): the agents launcher's queue. Other engines start a process that claims the
   * row, so the launch is in the store before they are asked.
   */
  readonly carriesLaunch?: boolean;
  /**
   * true when `submit` hands the spec itself to whoever runs the job (the agents' queue), who
   * writes it into the work folder it makes: the runner then writes no file and makes no folder.
   */
  readonly carriesSpec?: boolean;
  /** starts exec on `specFile`; rejects when the job could not even be submitted */
  submit(job: JobStart, spec: JobSpec, specFile: string): Promise<Submission>;
}

/** Extra time, after exec's own TERM-to-KILL grace, before the runner ends a stopped job itself (ms). */
const STOP_FALLBACK_MS = KILL_GRACE_MS + 10_000;

export class RemoteJob implements LaunchedJob {
  readonly done: Promise<JobOutcome>;
  readonly #job: JobStart;
  readonly #ctx: RemoteContext;
  readonly #engine: RemoteEngine;
  /** this launch's id, made when the job starts */
  readonly #launchId = randomUUID();
  /** the launch is in the store (or on its way with the submission): a stop must go through it */
  #launched = false;
  #submission: Submission | undefined;
  #stop: { status: string; reason: string } | undefined;
  #settle: ((o: JobOutcome) => void) | undefined;
  #fallback: NodeJS.Timeout | undefined;

  constructor(job: JobStart, ctx: RemoteContext, engine: RemoteEngine) {
    this.#job = job;
    this.#ctx = ctx;
    this.#engine = engine;
    this.done = this.#run().finally(() => {
      if (this.#fallback) clearTimeout(this.#fallback);
    });
  }

  stop(status: string, reason: string): void {
    if (this.#stop) return;
    this.#stop = { status, reason };
    if (!this.#launched) return; // not launched yet: #run sees the request
    void this.#stopLaunched(status, reason);
  }

  kill(reason: string): void {
    this.#stop ??= { status: 'ABORT', reason };
    this.#submission?.cancel();
    if (this.#launched) this.#end({ state: 'KILLED', status: this.#stop.status, comment: reason });
  }

  async #run(): Promise<JobOutcome> {
    const { recorder } = this.#ctx;
    const job = this.#job;
    const launchId = this.#launchId;
    const spec = this.#spec(launchId);
    if (job.preclean && job.startAt === 0) fs.rmSync(job.workDir, { recursive: true, force: true });
    // An engine that hands the spec over itself leaves the folder and the file to whoever runs it.
    let specFile = jobSpecFile(job.workDir);
    if (!this.#engine.carriesSpec) {
      fs.mkdirSync(job.workDir, { recursive: true });
      specFile = writeJobSpec(spec);
    }
    if (job.reset) recorder.push(resetOpOf(job));
    recorder.setTest(job.testId, {
      state: 'LAUNCHED',
      host: '',
      pid: null,
      agentId: this.#ctx.agentId,
      start: this.#ctx.now(),
      end: null,
      rundir: job.workDir,
      launcher: this.#engine.kind,
      jobId: '',
      launchId,
    });
    // exec claims the row only once it carries this launch id: it is in the store before the job
    // is submitted, or (an engine that carries it) goes in with the submission.
    const carried = this.#engine.carriesLaunch === true;
    if (!carried) await recorder.flush();
    const outcome = new Promise<JobOutcome>((resolve) => (this.#settle = resolve));
    if (this.#stop && !carried) {
      this.#launched = true;
      return this.#end({ state: 'KILLED', status: this.#stop.status, comment: this.#stop.reason });
    }
    // A stop asked from now on is a kill request the store sees after the launch (#stopLaunched); one
    // asked while the submission (and with it the launch) is on its way is acted on once it is in.
    this.#launched = !carried;
    const unwatch = this.#ctx.follower.watch(job.testId, (cell, ended) => {
      if (ended) {
        if (this.#isOurEnd(ended)) this.#end(outcomeOf(ended), false);
      } else if (endsLaunch(cell.state)) void this.#checkRow();
    });
    try {
      for (;;) {
        let sub: Submission;
        try {
          sub = await this.#engine.submit(job, spec, specFile);
        } catch (err) {
          this.#launched = true;
          return this.#end({
            state: 'INCOMPLETE',
            status: 'DEAD',
            comment: `could not start it with the ${this.#engine.kind} launcher: ${(err as Error).message}`,
          });
        }
        this.#submission = sub;
        this.#launched = true;
        // Not the host: exec's claim records the host it runs on, and this write may land after it.
        // An agent records its own name when it takes the job: nothing to say here then.
        if (sub.jobId !== '') recorder.setTest(job.testId, { jobId: sub.jobId });
        const stop = this.#stopRequest();
        if (stop) void this.#stopLaunched(stop.status, stop.reason);
        const next = await Promise.race([outcome.then((o) => ({ outcome: o })), sub.ended.then((end) => ({ end }))]);
        if ('outcome' in next) return next.outcome;
        const again = await this.#engineEnded(next.end);
        if (again === 'retry') continue;
        return await outcome;
      }
    } finally {
      unwatch();
    }
  }

  // A method, not the field, so TypeScript does not carry a narrowing across awaits.
  #stopRequest(): { status: string; reason: string } | undefined {
    return this.#stop;
  }

  /** The engine saw the job end: decide from the row what that means. */
  async #engineEnded(end: EngineEnd): Promise<'retry' | 'wait'> {
    const row = await this.#readRow();
    if (row === undefined || this.#isOurEnd(row)) {
      if (row) this.#end(outcomeOf(row), false);
      return 'wait';
    }
    const claimed = row.launchId === this.#launchId && row.agentId !== null && row.agentId !== this.#ctx.agentId;
    if (!claimed) {
      if (end.retry && !this.#stopRequest()) return 'retry';
      if (end.final || end.mark || end.retry) {
        const mark = end.mark ?? { state: 'INCOMPLETE', status: 'DEAD' };
        this.#end({ state: mark.state as JobOutcome['state'], status: mark.status, comment: end.reason });
      }
      // Otherwise the engine handed the job on (a launcher that submitted it): wait for exec.
      return 'wait';
    }
    if (end.final) {
      // exec took the job and its engine says nothing of it is left: exec died without a word.
      await this.#ctx.store.endAgent(this.#ctx.runId, row.agentId!, this.#ctx.now()).catch(() => undefined);
      await this.#ctx.store.reapDead(this.#ctx.runId, { now: this.#ctx.now(), deadtime: this.#ctx.deadtime }).catch(() => undefined);
      await this.#checkRow();
    }
    // exec may still run (an ssh session that dropped): its heartbeat, or the reaper, tells.
    return 'wait';
  }

  /** Stops a launched job: a kill request exec acts on, or a cancel when exec has not begun. */
  async #stopLaunched(status: string, reason: string): Promise<void> {
    const { recorder } = this.#ctx;
    const id = this.#job.testId;
    recorder.setTest(id, { state: 'KILLREQ', comment: reason });
    await recorder.flush();
    // Once KILLREQ is in, no exec can claim the row: if none has, none will.
    const row = await this.#readRow();
    if (row === undefined || this.#isOurEnd(row)) {
      if (row) this.#end(outcomeOf(row), false);
      return;
    }
    if (row.agentId === this.#ctx.agentId || row.agentId === null) {
      this.#submission?.cancel();
      this.#end({ state: 'KILLED', status, comment: reason });
      return;
    }
    // exec has it: it sees the request within a second or two and ends its steps. If it does not,
    // cancel the job, then end the row here.
    this.#fallback = setTimeout(() => {
      this.#submission?.cancel(row.pid ?? undefined);
      this.#fallback = setTimeout(() => {
        void this.#readRow().then((r) => {
          if (r && !this.#isOurEnd(r)) this.#end({ state: 'KILLED', status, comment: `${reason} (exec did not answer the kill request)` });
          else if (r) this.#end(outcomeOf(r), false);
        });
      }, KILL_GRACE_MS);
    }, STOP_FALLBACK_MS);
  }

  async #checkRow(): Promise<void> {
    const row = await this.#readRow();
    if (row && this.#isOurEnd(row)) this.#end(outcomeOf(row), false);
  }

  #isOurEnd(row: TestRecord): boolean {
    return row.launchId === this.#launchId && endsLaunch(row.state);
  }

  async #readRow(): Promise<TestRecord | undefined> {
    try {
      return await this.#ctx.follower.readRow(this.#job.testId);
    } catch {
      return undefined;
    }
  }

  /** Settles the job once; an end the runner decides itself is recorded first. */
  #end(outcome: JobOutcome, record = true): JobOutcome {
    if (this.#settle === undefined) return outcome;
    const settle = this.#settle;
    this.#settle = undefined;
    if (record) {
      this.#ctx.recorder.setTest(this.#job.testId, {
        state: outcome.state,
        status: outcome.status,
        comment: outcome.comment,
        end: this.#ctx.now(),
      });
    }
    settle(outcome);
    return outcome;
  }

  #spec(launchId: string): JobSpec {
    const job = this.#job;
    const c = this.#ctx;
    return {
      version: 1,
      kind: 'remote',
      launchId,
      launcher: this.#engine.kind,
      runArea: c.runArea,
      areaDir: c.areaDir,
      runId: c.runId,
      testId: job.testId,
      target: c.target,
      runname: c.runname,
      testname: job.testname,
      itempath: job.itempath,
      workDir: job.workDir,
      def: jobDefinitionOf(job.def),
      exitCodes: job.exitCodes,
      inputs: job.inputs,
      env: job.envDelta(),
      shell: c.shell,
      force: c.force,
      who: c.who,
      deadtime: c.deadtime,
      ...(job.startAt > 0 ? { startAt: job.startAt } : {}),
    };
  }
}

function outcomeOf(row: TestRecord): JobOutcome {
  const state: JobOutcome['state'] =
    row.state === 'KILLED' ? 'KILLED' : row.state === 'INCOMPLETE' ? 'INCOMPLETE' : row.state === 'WAITING' ? 'WAITING' : 'COMPLETED';
  return { state, status: row.status, comment: row.comment };
}

/** `test` or `test/item`, for engines' job names. */
export function jobLabel(job: JobStart): string {
  return displayName(job);
}

/** A launch is over when its row is final, or parked on a manual step (exec ended there). */
function endsLaunch(state: TestState): boolean {
  return FINAL_STATES.has(state) || state === 'WAITING';
}
