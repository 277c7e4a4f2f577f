/**
 * Batches a runner's writes: ops queued within a couple of milliseconds, or while the previous
 * batch is on its way, go to the store as one batch (one transaction, or one HTTP request for a
 * remote store). Each op gets an id unique to this agent, so a retried batch is applied once.
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
  #pending: WriteOp[] = [];
  #counter = 0;
  #timer: { cancel(): void } | undefined;
  #inFlight: Promise<void> | undefined;
  #failure: unknown = undefined;
  #onError: (err: unknown) => void;
  readonly #delayMs: number;
  /** the number of the last op the store has (or that failed: then the run stops anyway) */
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
    this.#pending.push({ ...op, opId: `${this.#prefix}-${++this.#counter}`, time: at ?? this.#now() } as WriteOp);
    // While a batch is in flight, ops wait for it and go together when it returns.
    if (this.#timer === undefined && this.#inFlight === undefined) {
      const go = () => {
        this.#timer = undefined;
        this.#pump();
      };
      // 0: at the end of this turn of the event loop (a timer of 0 waits a millisecond or more).
      if (this.#delayMs === 0) {
        const immediate = setImmediate(go);
        this.#timer = { cancel: () => clearImmediate(immediate) };
      } else {
        const timer = setTimeout(go, this.#delayMs);
        this.#timer = { cancel: () => clearTimeout(timer) };
      }
    }
  }

  /** Queues a change of a test's fields. */
  setTest(testId: number, set: TestFields): void {
    this.push({ kind: 'test', testId, set });
  }

  /**
   * Resolves once every op queued so far is in the store (or its batch failed, which onError
   * reports). Unlike flush it waits for nothing queued later and hurries no batch.
   */
  settled(): Promise<void> {
    const upTo = this.#counter;
    if (upTo <= this.#settled) return Promise.resolve();
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
    const ops = this.#pending;
    this.#pending = [];
    this.#settle(this.#counter);
    if (ops.length === 0 || this.#failure !== undefined) return undefined;
    return { runId: this.#runId, ops, options: this.#options };
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
    // Every op queued so far is in this batch.
    const upTo = this.#counter;
    this.#pending = [];
    this.#inFlight = this.#send(batch, upTo).finally(() => {
      this.#inFlight = undefined;
      this.#pump();
    });
  }

  async #send(batch: WriteOp[], upTo: number): Promise<void> {
    try {
      if (this.#failure !== undefined) return;
      await this.#store.write(this.#runId, batch, this.#options);
    } catch (err) {
      this.#failure = err;
      this.#onError(err);
    } finally {
      this.#settle(upTo);
    }
  }

  /** Batches go one at a time, in order: ops up to `upTo` are settled. */
  #settle(upTo: number): void {
    this.#settled = upTo;
    const ready = this.#waiters.filter((w) => w.upTo <= this.#settled);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.upTo > this.#settled);
    for (const w of ready) w.resolve();
  }
}
