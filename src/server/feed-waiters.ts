/**
 * The long poll behind `POST /v1/feed`: a request whose cursor has nothing new waits here until
 * the store shows a change or its time is up. Waiters are checked again when the server has just
 * served a write (notify) and every `recheckMs` (writers that bypass the server: `--direct`
 * processes). The recheck timer exists only while someone waits; a waiter leaves — its timeout
 * cleared, its abort listener removed, the timer stopped with the last one — whichever way its
 * request ends.
 */
import { hasFeedChanges } from '../model/protocol.js';
import type { FeedBatch, FeedCursor } from '../model/records.js';
import type { Store } from '../store/store.js';

/** How often waiting requests look for changes nobody told the server about (ms). */
export const FEED_RECHECK_MS = 250;

export interface FeedWaitersOptions {
  store: Pick<Store, 'changes'>;
  recheckMs?: number;
  /** the number of waiting requests, each time it changes */
  onCount?: (count: number) => void;
}

interface Waiter {
  cursor: FeedCursor;
  /** the last answer read for it: what it gets when its time is up */
  last: FeedBatch;
  finish(batch: FeedBatch): void;
  fail(err: unknown): void;
}

/** The waiting feed requests of one server. */
export class FeedWaiters {
  readonly #store: Pick<Store, 'changes'>;
  readonly #recheckMs: number;
  readonly #onCount: (count: number) => void;
  readonly #waiters = new Set<Waiter>();
  #timer: NodeJS.Timeout | undefined;
  #checking = false;
  #checkAgain = false;
  #ended = false;

  constructor(opts: FeedWaitersOptions) {
    this.#store = opts.store;
    this.#recheckMs = opts.recheckMs ?? FEED_RECHECK_MS;
    this.#onCount = opts.onCount ?? (() => undefined);
  }

  /**
   * The changes after `cursor`: at once when there are some (or waitMs is 0), else as soon as
   * there are, or the empty batch after `waitMs`. An aborted signal (the client went away) ends
   * the wait with the last batch read.
   */
  async wait(cursor: FeedCursor, waitMs: number, signal?: AbortSignal): Promise<FeedBatch> {
    const first = await this.#store.changes(cursor);
    if (waitMs <= 0 || hasFeedChanges(first) || this.#ended || signal?.aborted) return first;
    return new Promise<FeedBatch>((resolve, reject) => {
      let timeout: NodeJS.Timeout | undefined;
      const onAbort = () => waiter.finish(waiter.last);
      /** Removes every trace of the waiter; false when it had left already. */
      const leave = (): boolean => {
        if (!this.#waiters.delete(waiter)) return false;
        clearTimeout(timeout);
        signal?.removeEventListener('abort', onAbort);
        if (this.#waiters.size === 0) this.#stopTimer();
        this.#onCount(this.#waiters.size);
        return true;
      };
      const waiter: Waiter = {
        cursor,
        last: first,
        finish: (batch) => {
          if (leave()) resolve(batch);
        },
        fail: (err) => {
          if (leave()) reject(err);
        },
      };
      this.#waiters.add(waiter);
      // Not unref'd: an open request should keep the process alive until it is answered, and the
      // timer goes with the waiter whichever way it leaves.
      timeout = setTimeout(() => waiter.finish(waiter.last), waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#startTimer();
      this.#onCount(this.#waiters.size);
    });
  }

  /** Something was written: check the waiters now instead of at the next tick. */
  notify(): void {
    if (this.#waiters.size > 0) void this.#recheck();
  }

  /** Answers every waiter with what it has and lets no one wait from now on (server stopping). */
  endAll(): void {
    this.#ended = true;
    for (const waiter of [...this.#waiters]) waiter.finish(waiter.last);
  }

  #startTimer(): void {
    // Runs only while someone waits (stopped with the last waiter), so it may keep the process up.
    this.#timer ??= setInterval(() => void this.#recheck(), this.#recheckMs);
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reads each waiter's changes once; a recheck asked for meanwhile runs right after. */
  async #recheck(): Promise<void> {
    if (this.#checking) {
      this.#checkAgain = true;
      return;
    }
    this.#checking = true;
    try {
      do {
        this.#checkAgain = false;
        for (const waiter of [...this.#waiters]) {
          if (!this.#waiters.has(waiter)) continue;
          try {
            const batch = await this.#store.changes(waiter.cursor);
            waiter.last = batch;
            if (hasFeedChanges(batch)) waiter.finish(batch);
          } catch (err) {
            waiter.fail(err);
          }
        }
      } while (this.#checkAgain && this.#waiters.size > 0);
    } finally {
      this.#checking = false;
    }
  }
}
