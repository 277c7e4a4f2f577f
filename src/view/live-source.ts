/**
 * Keeps MatrixData current from the change feed: one snapshot at start, then long polls (or, with
 * --direct, polls of the databases) with a cursor, one at a time. Runs that come into view are
 * asked for in the next poll, a few at a time (MatrixData.cursor); when the followed runs change
 * while a poll only waits, that poll is ended so the new cursor goes out at once. While a hosts view
 * is open it follows the agent pool too (the cursor's poolSeq), so a job taken or an agent leaving
 * is shown at once rather than at the view's next read.
 */
import type { FeedBatch, FeedCursor } from '../model/records.js';
import type { MatrixData } from './matrix-data.js';

export interface FeedAccess {
  /** answers at once */
  changes(cursor: FeedCursor): Promise<FeedBatch>;
  /** answers when something changed, or after `waitMs` (or when `signal` aborts) with an empty batch */
  waitForChanges(cursor: FeedCursor, waitMs: number, signal: AbortSignal): Promise<FeedBatch>;
}

export interface LiveSourceOptions {
  feed: FeedAccess;
  data: MatrixData;
  /** new data arrived */
  onUpdate: () => void;
  /** the feed failed (a message for the banner), or works again (undefined) */
  onTrouble: (message: string | undefined) => void;
  /** following the pool (followPool): a job was queued, taken or ended, or an agent joined, drained or left */
  onPoolChange?: () => void;
  /** how long one poll may wait on the server */
  waitMs?: number;
  /** least time between polls, so a busy run is drawn a few times a second, not per change */
  minIntervalMs?: number;
  /** wait before trying again after a failure */
  retryMs?: number;
}

interface Poll {
  controller: AbortController;
  /** it asks for whole runs, so it answers at once: worth letting finish */
  fetching: boolean;
}

export class LiveSource {
  readonly #o: Required<Omit<LiveSourceOptions, 'onPoolChange'>> & Pick<LiveSourceOptions, 'onPoolChange'>;
  #inFlight: Poll | undefined;
  /** the followed runs changed since the poll in flight was sent */
  #stale = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #troubled = false;
  /** the pool's change number last seen while following it; undefined: not followed */
  #poolSeq: number | undefined;

  constructor(opts: LiveSourceOptions) {
    this.#o = { waitMs: 10_000, minIntervalMs: 100, retryMs: 1_000, ...opts };
  }

  /** Loads every run; call follow() next with the runs on screen. */
  async start(): Promise<void> {
    const batch = await this.#o.feed.changes(this.#o.data.cursor());
    if (this.#o.data.apply(batch)) this.#o.onUpdate();
    this.#poll();
  }

  /** Follows these runs' cells, loading them in this order. */
  follow(runIds: Iterable<number>): void {
    if (this.#stopped || !this.#o.data.follow(runIds)) return;
    this.#sendCursorNow();
  }

  /** The cursor changed: poll now, or end the poll that only waits so the next goes out at once. */
  #sendCursorNow(): void {
    if (this.#inFlight === undefined) {
      this.#pollNow();
      return;
    }
    this.#stale = true;
    if (!this.#inFlight.fetching) this.#inFlight.controller.abort();
  }

  /**
   * Follows the agent pool (true) or stops (false). The first answer after starting reports a
   * change, since the view's own read may have been just before the one the cursor starts from.
   */
  followPool(on: boolean): void {
    if (this.#stopped || on === (this.#poolSeq !== undefined)) return;
    this.#poolSeq = on ? 0 : undefined;
    this.#sendCursorNow();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#inFlight?.controller.abort();
  }

  #pollNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#poll();
  }

  #poll(): void {
    if (this.#stopped || this.#inFlight !== undefined) return;
    const data = this.#o.data;
    const cursor = this.#poolSeq === undefined ? data.cursor() : { ...data.cursor(), poolSeq: this.#poolSeq };
    const poll: Poll = { controller: new AbortController(), fetching: Object.values(cursor.runs).includes(0) };
    this.#inFlight = poll;
    this.#stale = false;
    this.#o.feed.waitForChanges(cursor, this.#o.waitMs, poll.controller.signal).then(
      (batch) =>
        this.#done(() => {
          this.#setTrouble(undefined);
          const pending = data.pending().length;
          if (data.apply(batch)) this.#o.onUpdate();
          this.#applyPool(cursor, batch);
          // A new cursor to send, or more runs to load (and this answer brought some): at once;
          // else pace the polls.
          const loading = data.pending().length > 0 && data.pending().length < pending;
          return this.#stale || loading ? 0 : this.#o.minIntervalMs;
        }),
      (err: Error) =>
        this.#done(() => {
          this.#setTrouble(err.message);
          return this.#o.retryMs;
        }),
    );
  }

  /** Ends the poll in flight and schedules the next after what `handle` says (ms). */
  #done(handle: () => number): void {
    this.#inFlight = undefined;
    if (this.#stopped) return;
    const delay = handle();
    if (delay === 0) {
      this.#poll();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#poll();
    }, delay);
    this.#timer.unref();
  }

  /** Takes the pool's part of an answer to a poll sent with `sent`, while the pool is still followed. */
  #applyPool(sent: FeedCursor, batch: FeedBatch): void {
    if (this.#poolSeq === undefined || sent.poolSeq === undefined || batch.cursor.poolSeq === undefined) return;
    // An answer to a poll sent before a stop and a new start: the new start's first answer reports.
    if (sent.poolSeq !== this.#poolSeq) return;
    this.#poolSeq = batch.cursor.poolSeq;
    if (batch.poolChanged) this.#o.onPoolChange?.();
  }

  #setTrouble(message: string | undefined): void {
    if (message === undefined && !this.#troubled) return;
    this.#troubled = message !== undefined;
    this.#o.onTrouble(message);
  }
}
