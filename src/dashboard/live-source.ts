/**
 * Keeps MatrixData current from the change feed: one snapshot at start, then long polls (or, with
 * --direct, polls of the databases) with a cursor. When the runs on screen change, the runs that
 * came into view are fetched at once and a new poll replaces the running one; an older poll's
 * answer is still applied, which is safe because MatrixData ignores anything older than it has.
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
  /** how long one poll may wait on the server */
  waitMs?: number;
  /** least time between polls, so a busy run is drawn a few times a second, not per change */
  minIntervalMs?: number;
  /** wait before trying again after a failure */
  retryMs?: number;
}

export class LiveSource {
  readonly #o: Required<LiveSourceOptions>;
  #generation = 0;
  /** ends the poll in flight when the followed runs change, so polls never pile up */
  #inFlight: AbortController | undefined;
  #stopped = false;
  #troubled = false;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(opts: LiveSourceOptions) {
    this.#o = { waitMs: 10_000, minIntervalMs: 100, retryMs: 1_000, ...opts };
  }

  /** Loads every run; call follow() next with the runs on screen. */
  async start(): Promise<void> {
    const batch = await this.#o.feed.changes(this.#o.data.cursor());
    if (this.#o.data.apply(batch)) this.#o.onUpdate();
    this.#poll(this.#generation);
  }

  /** Follows these runs' cells: the new ones are fetched now. */
  follow(runIds: Iterable<number>): void {
    if (this.#stopped || !this.#o.data.follow(runIds)) return;
    this.#generation++;
    this.#inFlight?.abort();
    this.#poll(this.#generation);
  }

  stop(): void {
    this.#stopped = true;
    this.#inFlight?.abort();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #poll(generation: number): void {
    const data = this.#o.data;
    const controller = new AbortController();
    this.#inFlight = controller;
    // Runs not loaded yet make the server answer at once (cursor 0), so no separate fetch is needed.
    this.#o.feed
      .waitForChanges(data.cursor(), this.#o.waitMs, controller.signal)
      .finally(() => {
        if (this.#inFlight === controller) this.#inFlight = undefined;
      })
      .then(
        (batch) => {
          if (this.#stopped) return;
          this.#setTrouble(undefined);
          if (data.apply(batch)) this.#o.onUpdate();
          this.#next(generation, this.#o.minIntervalMs);
        },
        (err: Error) => {
          if (this.#stopped) return;
          this.#setTrouble(err.message);
          this.#next(generation, this.#o.retryMs);
        },
      );
  }

  #next(generation: number, delayMs: number): void {
    if (generation !== this.#generation || this.#stopped) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.#poll(generation);
    }, delayMs);
    t.unref();
    this.#timers.add(t);
  }

  #setTrouble(message: string | undefined): void {
    if (message === undefined && !this.#troubled) return;
    this.#troubled = message !== undefined;
    this.#o.onTrouble(message);
  }
}
