/**
 * Batches a runner's writes: ops queued in one turn of the event loop go to the store as one
 * batch (one transaction, or one HTTP request for a remote store). Each op gets an id unique to
 * this agent, so a retried batch is applied once.
 */
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
  #scheduled = false;
  #chain: Promise<void> = Promise.resolve();
  #failure: unknown = undefined;
  #onError: (err: unknown) => void;

  constructor(opts: {
    store: Store;
    runId: number;
    /** unique per agent: ops are named `<prefix>-<n>` */
    prefix: string;
    now: () => number;
    options?: WriteOptions;
    /** called once with the first failed batch's error */
    onError: (err: unknown) => void;
  }) {
    this.#store = opts.store;
    this.#runId = opts.runId;
    this.#prefix = opts.prefix;
    this.#now = opts.now;
    this.#options = opts.options ?? {};
    this.#onError = opts.onError;
  }

  /** Queues one write for the next batch. */
  push(op: PendingOp): void {
    this.#pending.push({ ...op, opId: `${this.#prefix}-${++this.#counter}`, time: this.#now() } as WriteOp);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        void this.flush();
      });
    }
  }

  /** Queues a change of a test's fields. */
  setTest(testId: number, set: TestFields): void {
    this.push({ kind: 'test', testId, set });
  }

  /** Sends everything queued so far; resolves when the store has it. */
  flush(): Promise<void> {
    if (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      this.#chain = this.#chain.then(() => this.#send(batch));
    }
    return this.#chain;
  }

  /** The first error a batch met, if any. */
  get failure(): unknown {
    return this.#failure;
  }

  async #send(batch: WriteOp[]): Promise<void> {
    if (this.#failure !== undefined) return;
    try {
      await this.#store.write(this.#runId, batch, this.#options);
    } catch (err) {
      this.#failure = err;
      this.#onError(err);
    }
  }
}
