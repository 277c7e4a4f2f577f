/**
 * A runner's side of shared resources (docs/workflows.md, "Shared resources"). A job that names
 * resources claims one share of each through the store when it gets a slot; refused, it gives the
 * slot back (Scheduler.defer) and waits here, holding nothing, while the change feed is asked to
 * wake it on the next change of the claims (a share given back by any runner, on any host). Then
 * every waiting job queues again and asks again. A holder that dies gives nothing back, so when
 * the feed stays quiet for a while the gate asks the store to free dead holders' claims, which is
 * itself a change that wakes everyone waiting.
 */
import { hasFeedChanges } from '../model/protocol.js';
import type { FeedBatch, FeedCursor } from '../model/records.js';
import { describeClaimant, type ResourceClaim, type ResourceHolder } from '../model/resources.js';
import type { Store } from '../store/store.js';
import type { Recorder } from './recorder.js';
import type { Job } from './scheduler.js';

/** How long the gate waits for a change before it looks for dead holders (ms). */
export const DEAD_HOLDER_RECHECK_MS = 2000;

export interface ResourceGateOptions {
  store: Pick<Store, 'claimResources' | 'releaseResources' | 'listResourceClaims'>;
  /** the run and its runner: who holds the shares */
  runner: Omit<ResourceHolder, 'testId' | 'testname' | 'itempath'>;
  /** `[resources] NAME COUNT` of the area */
  limits: ReadonlyMap<string, number>;
  /** seconds without a renewal after which a holder on another host is dead */
  deadtime: number;
  now: () => number;
  /** the change feed's wait: the server's long poll, or polling the databases (--direct) */
  waitForChanges: (cursor: FeedCursor, waitMs: number, signal: AbortSignal) => Promise<FeedBatch>;
  /** where a waiting test's comment ("waiting for resource …") is written */
  recorder: Pick<Recorder, 'setTest'>;
  /** a call to the store failed where no job can take the blame (a release, the wait) */
  warn: (message: string) => void;
  /** a job began to wait, or now waits for other holders: the comment it shows */
  onWaiting?: (job: Job, comment: string) => void;
  recheckMs?: number;
}

export class ResourceGate {
  readonly #opts: ResourceGateOptions;
  /** jobs waiting for a share, each with what queues it again */
  readonly #waiting = new Map<Job, () => void>();
  /** jobs holding their shares (or that asked and may) */
  readonly #claimed = new Set<Job>();
  /** the comment each waiting job shows, so it is written only when it changes */
  readonly #shown = new Map<Job, string>();
  /** where the wait for changes stands: only the claims' change number matters */
  #cursor: FeedCursor | undefined;
  /** the lowest change number of the refusals since the feed was last asked */
  #floor: number | undefined;
  #loop: Promise<void> | undefined;
  readonly #abort = new AbortController();
  readonly #releases = new Set<Promise<unknown>>();

  constructor(opts: ResourceGateOptions) {
    this.#opts = opts;
  }

  /** True when the job names shared resources. */
  needs(job: Job): boolean {
    return job.node.def.resources.length > 0;
  }

  /**
   * Asks for one share of each of the job's resources: true when it has them (it may start),
   * false when it must wait (call `wait`). Throws when the store cannot be asked.
   */
  async claim(job: Job): Promise<boolean> {
    const { opts } = { opts: this.#opts };
    const def = job.node.def;
    this.#claimed.add(job);
    const answer = await opts.store.claimResources(
      {
        holder: { ...opts.runner, testId: job.row.id, testname: def.name, itempath: job.itempath },
        wants: def.resources.map((name) => ({ name, count: opts.limits.get(name) ?? 1 })),
      },
      { now: opts.now(), deadtime: opts.deadtime },
    );
    if (answer.granted) {
      if (this.#shown.delete(job)) opts.recorder.setTest(job.row.id, { comment: '' });
      return true;
    }
    // The lowest change number of those waiting: a change after any of their answers wakes them all.
    const seq = answer.resourcesSeq;
    this.#floor = Math.min(this.#floor ?? seq, seq);
    if (this.#cursor === undefined || this.#loop === undefined) this.#cursor = { runsSeq: answer.runsSeq, runs: {}, resourcesSeq: seq };
    else this.#cursor.resourcesSeq = Math.min(this.#cursor.resourcesSeq ?? seq, seq);
    const comment = `waiting for resource ${describeWait(answer.blockers)}`.slice(0, 4000);
    if (this.#shown.get(job) !== comment) {
      this.#shown.set(job, comment);
      opts.recorder.setTest(job.row.id, { comment });
      opts.onWaiting?.(job, comment);
    }
    return false;
  }

  /** The job (refused by `claim`, its slot given back) waits; `retry` queues it again. */
  wait(job: Job, retry: () => void): void {
    if (this.#abort.signal.aborted) return;
    this.#waiting.set(job, retry);
    this.#loop ??= this.#watch().finally(() => {
      this.#loop = undefined;
      // A job that came to wait while the loop was ending is not left without a watcher.
      if (this.#waiting.size > 0 && !this.#abort.signal.aborted) this.#loop = this.#watch();
    });
  }

  /** The job ended, or was cancelled while it waited: its shares (or its wait) go back at once. */
  leave(job: Job): void {
    this.#waiting.delete(job);
    this.#shown.delete(job);
    if (!this.#claimed.delete(job)) return;
    const { opts } = { opts: this.#opts };
    const p = opts.store
      .releaseResources({ runId: opts.runner.runId, agentId: opts.runner.agentId, testId: job.row.id })
      .catch((err: Error) => opts.warn(`could not give back the resources of ${job.key}: ${err.message}`))
      .finally(() => this.#releases.delete(p));
    this.#releases.add(p);
  }

  /** Stops waiting and gives back every share and wait of this runner (the run ends). */
  async close(): Promise<void> {
    this.#abort.abort();
    this.#waiting.clear();
    await this.#loop?.catch(() => undefined);
    await Promise.all([...this.#releases]);
    if (this.#claimed.size === 0 && this.#cursor === undefined) return;
    this.#claimed.clear();
    const { opts } = { opts: this.#opts };
    await opts.store
      .releaseResources({ runId: opts.runner.runId, agentId: opts.runner.agentId })
      .catch((err: Error) => opts.warn(`could not give back this run's resources: ${err.message}`));
  }

  /** Waits for changes of the claims while jobs wait; queues them all again on each one. */
  async #watch(): Promise<void> {
    const { opts } = { opts: this.#opts };
    const signal = this.#abort.signal;
    const recheckMs = opts.recheckMs ?? DEAD_HOLDER_RECHECK_MS;
    while (this.#waiting.size > 0 && !signal.aborted) {
      const cursor = { ...this.#cursor! };
      this.#floor = undefined;
      let batch: FeedBatch;
      try {
        batch = await opts.waitForChanges(cursor, recheckMs, signal);
      } catch (err) {
        if (signal.aborted) return;
        opts.warn(`waiting for resources: ${(err as Error).message}`);
        batch = { cursor, runs: [], removedRuns: [], cells: [] };
      }
      if (signal.aborted) return;
      if (batch.resourcesChanged) {
        // A job refused while the feed was asked may have seen less than this answer: it is woken
        // by what it did not see (at worst once more than needed), never left waiting for it.
        const seq = Math.min(batch.cursor.resourcesSeq ?? 0, this.#floor ?? Number.POSITIVE_INFINITY);
        this.#cursor = { runsSeq: batch.cursor.runsSeq, runs: {}, resourcesSeq: seq };
        this.#retryAll();
      } else if (hasFeedChanges(batch)) {
        // Runs changed, not the claims: follow on from there.
        this.#cursor = { ...this.#cursor!, runsSeq: batch.cursor.runsSeq };
      } else {
        // Quiet for a while: free the claims of holders that died (a change, if there were any).
        try {
          await opts.store.listResourceClaims({ now: opts.now(), deadtime: opts.deadtime });
        } catch (err) {
          if (!signal.aborted) opts.warn(`looking for dead resource holders: ${(err as Error).message}`);
        }
      }
    }
  }

  #retryAll(): void {
    const retries = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const retry of retries) retry();
  }
}

/** `deploy (held by deploy of run linux/r1, runner pid 12 on host h1)`, one per resource. */
export function describeWait(blockers: readonly ResourceClaim[]): string {
  const byResource = new Map<string, ResourceClaim[]>();
  for (const c of blockers) byResource.set(c.resource, [...(byResource.get(c.resource) ?? []), c]);
  return [...byResource]
    .map(
      ([name, held]) => `${name} (held by ${held.map((c) => `${describeClaimant(c)}, runner pid ${c.pid} on host ${c.host}`).join('; ')})`,
    )
    .join(', ');
}
