/**
 * Batches a runner's writes: ops queued within a couple of milliseconds, or while the previous
 * batch is on its way, go to the store as one batch (one transaction, or one HTTP request for a
 * remote store). Each op gets an id unique to this agent, so a retried batch is applied once.
 * Another request may carry some tests' ops instead (takeOps): they count as unsettled until it
 * is answered.
 */
import type { CarriedWrites } from '../model/pool.js';
import type { TestFields, WriteOp, WriteOptions } from '../model/records.js';
import type { Store } from '../store/store.js';

type Distribute<T> = T extends unknown ? Omit<T, 'opId' | 'time'> : never;
export type PendingOp = Distribute<WriteOp>;

export class Recorder {
  readonly #store: Store;
  readonly #runId: number;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #options: WriteOptions;
  /** queued ops with their numbers, in the order they were queued */
  #pending: Array<{ n: number; op: WriteOp }> = [];
  #counter = 0;
  /** the numbers of the ops of the batch in flight, and of those another request carries */
  #inFlightNums: number[] = [];
  #inFlightTests = new Set<number>();
  readonly #carried = new Set<number[]>();
  /** the queued batch's send, at the end of the turn or after the gathering delay */
  #timer: { atTurnEnd: boolean; cancel(): void } | undefined;
  #inFlight: Promise<void> | undefined;
  #failure: unknown = undefined;
  #onError: (err: unknown) => void;
  readonly #delayMs: number;
  /**
   * every op up to this number is in the store (or failed: then the run stops anyway, or the
   * request that carried it said so)
   */
  #settled = 0;
  #waiters: Array<{ upTo: number; resolve: () => void }> = [];

  constructor(opts: {
    store: Store;
    runId: number;
    /** unique per agent: ops are named `<prefix>-<n>` */
    prefix: string;
    now: () => number;
    options?: WriteOptions;
    /** called once with the first failed batch's error */
    onError: (err: unknown) => void;
    /**
     * how long a queued op may wait for others to join its batch (ms); default 2. 0: to the end of
     * the turn (a store in this process, where a batch costs a transaction, not a round trip)
     */
    delayMs?: number;
  }) {
    this.#store = opts.store;
    this.#runId = opts.runId;
    this.#prefix = opts.prefix;
    this.#now = opts.now;
    this.#options = opts.options ?? {};
    this.#onError = opts.onError;
    this.#delayMs = opts.delayMs ?? 2;
  }

  /**
   * Queues one write for the next batch, stamped now, or at `at` (seconds since the epoch) for a
   * change that happened earlier and is recorded only now (a Slurm job's steps, read from its files).
   */
  push(op: PendingOp, at?: number): void {
    const n = ++this.#counter;
    this.#pending.push({ n, op: { ...op, opId: `${this.#prefix}-${n}`, time: at ?? this.#now() } as WriteOp });
    // While a batch is in flight, ops wait for it and go together when it returns.
    if (this.#timer === undefined && this.#inFlight === undefined) this.#schedule(this.#delayMs);
  }

  /** Sends the queued batch after `delayMs`; 0: at the end of this turn of the event loop. */
  #schedule(delayMs: number): void {
    this.#timer?.cancel();
    const go = () => {
      this.#timer = undefined;
      this.#pump();
    };
    // A timer of 0 waits a millisecond or more: the end of the turn is setImmediate's.
    if (delayMs === 0) {
      const immediate = setImmediate(go);
      this.#timer = { atTurnEnd: true, cancel: () => clearImmediate(immediate) };
    } else {
      const timer = setTimeout(go, delayMs);
      this.#timer = { atTurnEnd: false, cancel: () => clearTimeout(timer) };
    }
  }

  /** Queues a change of a test's fields. */
  setTest(testId: number, set: TestFields): void {
    this.push({ kind: 'test', testId, set });
  }

  /**
   * Resolves once every op queued so far is in the store (or its batch failed, which onError
   * reports). Unlike flush it waits for nothing queued later. `hurry`: a batch gathering for a
   * while leaves at the end of this turn instead (a job that waits for its launch to land has
   * nothing to gain from the wait; what the same turn queues still joins it).
   */
  settled(hurry = false): Promise<void> {
    const upTo = this.#counter;
    if (upTo <= this.#settled) return Promise.resolve();
    if (hurry && this.#timer !== undefined && !this.#timer.atTurnEnd) this.#schedule(0);
    return new Promise((resolve) => this.#waiters.push({ upTo, resolve }));
  }

  /**
   * Sends everything queued so far; resolves when the store has it. The batch leaves at the end of
   * this turn of the event loop: what else is queued in the same turn (jobs launched together, each
   * flushing its launch) goes with it.
   */
  async flush(): Promise<void> {
    if (this.#pending.length > 0 && this.#inFlight === undefined) await new Promise((r) => setImmediate(r));
    while (this.#pending.length > 0 || this.#inFlight !== undefined) {
      this.#pump();
      await this.#inFlight;
    }
  }

  /**
   * Hands on what is queued and not sent, for another request to carry (an agent's claim), once
   * the batches in flight are in; the recorder keeps nothing of it. Undefined when nothing is left.
   */
  async handOff(): Promise<CarriedWrites | undefined> {
    while (this.#inFlight !== undefined) await this.#inFlight;
    this.#timer?.cancel();
    this.#timer = undefined;
    const ops = this.#pending.map((p) => p.op);
    this.#pending = [];
    this.#settle();
    if (ops.length === 0 || this.#failure !== undefined) return undefined;
    return { runId: this.#runId, ops, options: this.#options };
  }

  /**
   * Takes out the queued ops of these tests, in the order they were queued, for another request to
   * carry (the agents launcher's enqueueJobs carries its jobs' LAUNCHED marks: one request where
   * there were two, one after the other). A batch in flight that writes to one of them is waited
   * for first, so nothing of theirs sent earlier lands after what is carried; the other tests' ops
   * stay queued. The caller queues nothing more of these tests until the carrier is answered, and
   * then calls `settle` (answered or failed: the carrier's caller reports a failure). Until then
   * `settled()` counts them as on their way. Undefined when none is queued, or a batch failed.
   */
  async takeOps(testIds: ReadonlySet<number>): Promise<{ writes: CarriedWrites; settle: () => void } | undefined> {
    while (this.#inFlight !== undefined && [...testIds].some((id) => this.#inFlightTests.has(id))) await this.#inFlight;
    const taken = this.#pending.filter((p) => testIds.has(p.op.testId));
    if (taken.length === 0 || this.#failure !== undefined) return undefined;
    this.#pending = this.#pending.filter((p) => !testIds.has(p.op.testId));
    if (this.#pending.length === 0) {
      this.#timer?.cancel();
      this.#timer = undefined;
    }
    const nums = taken.map((p) => p.n);
    this.#carried.add(nums);
    return {
      writes: { runId: this.#runId, ops: taken.map((p) => p.op), options: this.#options },
      settle: () => {
        if (this.#carried.delete(nums)) this.#settle();
      },
    };
  }

  /** The first error a batch met, if any. */
  get failure(): unknown {
    return this.#failure;
  }

  /** Sends the queued ops as one batch unless one is in flight (it sends them when it returns). */
  #pump(): void {
    if (this.#inFlight !== undefined || this.#pending.length === 0) return;
    if (this.#timer !== undefined) {
      this.#timer.cancel();
      this.#timer = undefined;
    }
    const batch = this.#pending;
    this.#pending = [];
    this.#inFlightNums = batch.map((p) => p.n);
    this.#inFlightTests = new Set(batch.map((p) => p.op.testId));
    this.#inFlight = this.#send(batch.map((p) => p.op)).finally(() => {
      this.#inFlight = undefined;
      this.#pump();
    });
  }

  async #send(batch: WriteOp[]): Promise<void> {
    try {
      if (this.#failure !== undefined) return;
      await this.#store.write(this.#runId, batch, this.#options);
    } catch (err) {
      this.#failure = err;
      this.#onError(err);
    } finally {
      this.#inFlightNums = [];
      this.#inFlightTests = new Set();
      this.#settle();
    }
  }

  /** Every op below the lowest one still queued, in flight or carried is settled. */
  #settle(): void {
    let lowest = this.#pending[0]?.n ?? this.#counter + 1;
    if (this.#inFlightNums.length > 0) lowest = Math.min(lowest, this.#inFlightNums[0]!);
    for (const nums of this.#carried) lowest = Math.min(lowest, nums[0]!);
    this.#settled = lowest - 1;
    const ready = this.#waiters.filter((w) => w.upTo <= this.#settled);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.upTo > this.#settled);
    for (const w of ready) w.resolve();
  }
}
