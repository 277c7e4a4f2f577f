/**
 * Executing a planned run: the scheduler decides what is ready, the executor hands each ready job
 * to its launcher, follows it to its end, and tells the scheduler once that end is recorded, so
 * nothing that waits on a test starts before its result is durable (design §6). It also stops
 * everything on Ctrl-C or a failed write, and stops single jobs on kill requests. It knows no
 * launcher in particular: tests give it a fake one.
 */
import type { JobOutcome } from './job-run.js';
import type { JobStart, LaunchedJob, Launcher } from './launcher.js';
import type { Recorder } from './recorder.js';
import { Scheduler, type Job, type TestNode } from './scheduler.js';

/** What the runner tells whoever prints progress. */
export interface RunObserver {
  started(job: Job): void;
  ended(job: Job, status: string, comment: string, seconds: number | null): void;
  /** a job waits for shared resources (without a slot): what it waits for and who holds it */
  waiting?(job: Job, comment: string): void;
  /** a job reached a manual step and waits for its sign-off, holding no slot */
  parked?(job: Job, comment: string): void;
}

export interface ExecutorOptions {
  /** most jobs at once */
  limit: number;
  /** [jobgroups] NAME N */
  groups: ReadonlyMap<string, number>;
  recorder: Recorder;
  /** the launcher that runs this job */
  launcherFor(job: Job): Launcher;
  /** everything a launcher needs to start the job */
  startOf(job: Job): JobStart;
  /** expands a lazy test's items (registering them); resolves with their jobs */
  expand(node: TestNode): Promise<Job[]>;
  observer: RunObserver;
  now: () => number;
  /** shared resources: a job that names some starts only with a share of each (runner/resource-gate.ts) */
  gate?: JobGate;
}

/** What the executor asks of shared resources (ResourceGate; tests pass their own). */
export interface JobGate {
  /** true when the job must claim resources before it starts */
  needs(job: Job): boolean;
  /** true when the job has its shares; false when it must wait (then `wait` is called) */
  claim(job: Job): Promise<boolean>;
  /** the job gave its slot back and waits; `retry` queues it again */
  wait(job: Job, retry: () => void): void;
  /** the job ended or was cancelled: give back what it holds or waits for */
  leave(job: Job): void;
}

interface Running {
  job: Job;
  launched: LaunchedJob;
  t0: number;
}

export class RunExecutor {
  readonly #opts: ExecutorOptions;
  readonly #scheduler: Scheduler;
  readonly #running = new Map<number, Running>();
  readonly #jobsByRow = new Map<number, Job>();
  /** rows whose resources are being claimed, and the kill reason of those asked to stop meanwhile */
  readonly #claiming = new Map<number, string | undefined>();
  /** jobs parked on a sign-off, by row id */
  readonly #parked = new Map<number, Job>();
  /** keeps the process alive while only parked jobs are left (every other timer is unref'd) */
  #keepAlive: NodeJS.Timeout | undefined;
  #interrupted = false;
  /** jobs still parked on a sign-off when Ctrl-C stopped the run (they stay parked) */
  #parkedAtStop = 0;
  #idle: (() => void) | undefined;

  constructor(opts: ExecutorOptions) {
    this.#opts = opts;
    this.#scheduler = new Scheduler(opts.limit, opts.groups, {
      launch: (job) => this.#launch(job),
      settle: (rowId, status, comment, job) => {
        const state = status === 'ABORT' && job ? 'KILLED' : 'NOT_STARTED';
        opts.recorder.setTest(rowId, { state, status, comment });
        if (job) opts.observer.ended(job, status, comment, null);
      },
      expand: async (node) => {
        const jobs = await opts.expand(node);
        for (const j of jobs) this.#track(j);
        return jobs;
      },
      idle: () => {
        this.#parked.clear();
        this.#syncKeepAlive();
        this.#idle?.();
      },
    });
  }

  /** True once Ctrl-C or a failed write stopped the run. */
  get interrupted(): boolean {
    return this.#interrupted;
  }

  /** Schedules the nodes (in dependency order); resolves when every launched job has ended and is recorded. */
  async execute(nodes: readonly TestNode[]): Promise<void> {
    for (const node of nodes) for (const job of node.jobs ?? []) this.#track(job);
    const idle = new Promise<void>((resolve) => (this.#idle = resolve));
    this.#scheduler.start(nodes);
    await idle;
  }

  /** How many jobs were parked on a sign-off when the run was stopped: they stay parked, not KILLED. */
  get parkedAtStop(): number {
    return this.#parkedAtStop;
  }

  /** Stops launching and stops every running job (KILLED/ABORT with `reason`); parked jobs stay parked. */
  stopEverything(reason: string): void {
    if (this.#interrupted) return;
    this.#interrupted = true;
    this.#parkedAtStop = this.#parked.size;
    this.#scheduler.stop();
    for (const { launched } of this.#running.values()) launched.stop('ABORT', reason);
  }

  /** KILLs every running job at once (a second Ctrl-C). */
  killEverything(reason: string): void {
    for (const { launched } of this.#running.values()) launched.kill(reason);
  }

  /** A kill request for row `rowId`: stop it if it runs, settle it if it is still queued or parked. */
  killRequested(rowId: number, reason: string): void {
    const entry = this.#running.get(rowId);
    if (entry) {
      entry.launched.stop('ABORT', reason);
      return;
    }
    if (this.#claiming.has(rowId)) {
      // Its claim is on the way: settled when the answer comes, before anything starts.
      this.#claiming.set(rowId, reason);
      return;
    }
    const job = this.#jobsByRow.get(rowId);
    if (this.#parked.delete(rowId)) this.#syncKeepAlive();
    if (job) {
      this.#scheduler.cancel(job, 'ABORT', reason);
      if (job.phase === 'done') this.#opts.gate?.leave(job);
    }
  }

  /** The jobs parked on a sign-off now. */
  parkedJobs(): Job[] {
    return [...this.#parked.values()];
  }

  /** A parked job's sign-off was approved: it queues again, to start at step index `startAt`. */
  signedOff(job: Job, startAt: number): void {
    if (!this.#parked.delete(job.row.id)) return;
    this.#syncKeepAlive();
    job.start = { startAt, reset: false, parked: false };
    this.#scheduler.resume(job);
  }

  /** A parked job ended without running on (rejected, or ended by someone else): what waits on it learns. */
  endedWhileParked(job: Job, status: string, comment: string): void {
    if (!this.#parked.delete(job.row.id)) return;
    this.#syncKeepAlive();
    this.#opts.observer.ended(job, status, comment, null);
    this.#scheduler.finish(job, status, comment);
  }

  #track(job: Job): void {
    this.#jobsByRow.set(job.row.id, job);
    if (job.run && job.start.parked) this.#parked.set(job.row.id, job);
    this.#syncKeepAlive();
  }

  #syncKeepAlive(): void {
    if (this.#parked.size > 0 && this.#keepAlive === undefined) this.#keepAlive = setInterval(() => undefined, 60_000);
    else if (this.#parked.size === 0 && this.#keepAlive !== undefined) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
    }
  }

  /** A job has a slot: it starts, unless it must first get shares of shared resources. */
  #launch(job: Job): void {
    const gate = this.#opts.gate;
    if (gate === undefined || !gate.needs(job)) {
      this.#start(job);
      return;
    }
    this.#claiming.set(job.row.id, undefined);
    gate.claim(job).then(
      (granted) => {
        const killed = this.#claiming.get(job.row.id);
        this.#claiming.delete(job.row.id);
        if (killed !== undefined) {
          gate.leave(job);
          this.#scheduler.defer(job);
          this.#scheduler.cancel(job, 'ABORT', killed);
        } else if (this.#interrupted) {
          // Stopped while it asked: it never starts, and what it got goes back.
          gate.leave(job);
          this.#scheduler.defer(job);
        } else if (granted) this.#start(job);
        else {
          this.#scheduler.defer(job);
          gate.wait(job, () => this.#scheduler.requeue(job));
        }
      },
      // The store could not be asked: the job ends as one that could not be launched.
      (err: Error) => {
        this.#claiming.delete(job.row.id);
        this.#start(job, new Error(`its resources could not be claimed: ${err.message}`));
      },
    );
  }

  #start(job: Job, failure?: Error): void {
    const { opts } = { opts: this.#opts };
    let launched: LaunchedJob;
    try {
      if (failure) throw failure;
      launched = opts.launcherFor(job).launch(opts.startOf(job));
    } catch (err) {
      // A launcher that cannot even start the job (its spec cannot be written): the job ends here.
      launched = { done: Promise.reject(err), stop: () => undefined, kill: () => undefined };
    }
    this.#running.set(job.row.id, { job, launched, t0: opts.now() });
    opts.observer.started(job);
    void launched.done
      .catch((err: Error): JobOutcome => {
        const outcome: JobOutcome = { state: 'INCOMPLETE', status: 'ABORT', comment: `could not run it: ${err.message}` };
        opts.recorder.setTest(job.row.id, { state: outcome.state, status: outcome.status, comment: outcome.comment, end: opts.now() });
        return outcome;
      })
      .then((outcome) => this.#ended(job, outcome));
  }

  #ended(job: Job, outcome: JobOutcome): void {
    const entry = this.#running.get(job.row.id);
    this.#running.delete(job.row.id);
    // Its shares go back as soon as its processes are gone: a test waiting in another run may start.
    this.#opts.gate?.leave(job);
    if (outcome.state === 'WAITING' && !this.#interrupted) {
      this.#parked.set(job.row.id, job);
      this.#syncKeepAlive();
      this.#opts.observer.parked?.(job, outcome.comment);
      this.#scheduler.park(job);
      return;
    }
    if (outcome.state === 'WAITING') {
      // Ctrl-C came as it parked: it stays parked in the store, and this run stops waiting for it.
      this.#scheduler.park(job);
      return;
    }
    this.#opts.observer.ended(job, outcome.status, outcome.comment, entry ? this.#opts.now() - entry.t0 : null);
    // The slot goes to the next job now; what waits on this one waits for its end to be recorded.
    this.#scheduler.release(job);
    void this.#opts.recorder.settled().then(() => this.#scheduler.finish(job, outcome.status, outcome.comment));
  }
}
