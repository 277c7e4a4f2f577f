/**
 * Following one run through the store's change feed, for launchers whose jobs report from
 * elsewhere (`trellis exec` on another host): every cell change of a watched row wakes its job,
 * which reads the row back. Event-driven through the server's long poll; a `--direct` store is
 * asked every 250 ms instead (pollChanges). Runs only while something is watched.
 */
import { pollChanges } from '../store/poll-changes.js';
import type { CellRecord, FeedBatch, FeedCursor } from '../model/records.js';
import type { Store } from '../store/store.js';

/** The change feed's wait: the server's long poll, or pollChanges over a direct store. */
export type WaitForChanges = (cursor: FeedCursor, waitMs: number, signal: AbortSignal) => Promise<FeedBatch>;

/** How long one wait may take (ms); under the server's 25 s limit. */
const WAIT_MS = 20_000;
/** After a failed wait (server restarting), wait this long before asking again (ms). */
const RETRY_MS = 1000;

export class RunFollower {
  readonly #runId: number;
  readonly #wait: WaitForChanges;
  readonly #watchers = new Map<number, (cell: CellRecord) => void>();
  #cursor: FeedCursor;
  #loop: Promise<void> | undefined;
  #abort: AbortController | undefined;
  #closed = false;

  constructor(store: Store, runId: number, wait?: WaitForChanges) {
    this.#runId = runId;
    this.#wait = wait ?? ((cursor, waitMs, signal) => pollChanges(store, cursor, waitMs, undefined, signal));
    // Only this run's cells. A runsSeq past any change number skips the first whole runs index;
    // later answers carry the runs that changed, which cost little and are ignored.
    this.#cursor = { runsSeq: Number.MAX_SAFE_INTEGER, runs: { [String(runId)]: 0 } };
  }

  /** Calls `onChange` with each change of row `testId` from now on; returns the way to stop. */
  watch(testId: number, onChange: (cell: CellRecord) => void): () => void {
    this.#watchers.set(testId, onChange);
    if (this.#loop === undefined && !this.#closed) this.#loop = this.#run();
    return () => {
      if (this.#watchers.get(testId) === onChange) this.#watchers.delete(testId);
    };
  }

  /** Stops following (a wait in flight is abandoned). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort?.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      if (this.#watchers.size === 0) {
        // Nothing to follow: the next watch() starts the loop again.
        this.#loop = undefined;
        return;
      }
      this.#abort = new AbortController();
      let batch: FeedBatch;
      try {
        batch = await this.#wait(this.#cursor, WAIT_MS, this.#abort.signal);
      } catch {
        if (this.#closed) return;
        await new Promise((r) => setTimeout(r, RETRY_MS).unref());
        continue;
      }
      const seq = batch.cursor.runs[String(this.#runId)];
      this.#cursor = { runsSeq: batch.cursor.runsSeq, runs: { [String(this.#runId)]: seq ?? 0 } };
      for (const change of batch.cells) {
        if (change.runId !== this.#runId) continue;
        for (const cell of change.cells) this.#watchers.get(cell.id)?.(cell);
      }
    }
  }
}
