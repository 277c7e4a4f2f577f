/**
 * Following one run through the store's change feed, for launchers whose jobs report from
 * elsewhere (`trellis exec` on another host): every cell change of a watched row wakes its job.
 * A row that ended comes whole with its cell (the feed's `endedRows`), so a job learns how it
 * ended without reading its row back; other changes are read back when the job needs them.
 * Event-driven through the server's long poll; a `--direct` store is asked every 250 ms instead
 * (pollChanges). Runs only while something is watched.
 */
import { pollChanges } from '../store/poll-changes.js';
import type { CellRecord, FeedBatch, FeedCursor, TestRecord } from '../model/records.js';
import type { Store } from '../store/store.js';
import { perTurn } from '../util/per-turn.js';

/** The change feed's wait: the server's long poll, or pollChanges over a direct store. */
export type WaitForChanges = (cursor: FeedCursor, waitMs: number, signal: AbortSignal) => Promise<FeedBatch>;

/** How long one wait may take (ms); under the server's 25 s limit. */
const WAIT_MS = 20_000;
/** After a failed wait (server restarting), wait this long before asking again (ms). */
const RETRY_MS = 1000;
/**
 * After an answer with changes, wait this long before asking again (ms), so that the ends of jobs
 * finishing together come in one answer: each answer is a request the server and the runner pay
 * for, and a busy pool ends several jobs within a few milliseconds.
 */
const GATHER_MS = 20;

/** Told of each change of a watched row: its cell, and the whole row when it ended. */
export type Watcher = (cell: CellRecord, ended: TestRecord | undefined) => void;

export class RunFollower {
  readonly #runId: number;
  readonly #readRow: (testId: number) => Promise<TestRecord | undefined>;
  readonly #wait: WaitForChanges;
  readonly #watchers = new Map<number, Watcher>();
  #cursor: FeedCursor;
  #loop: Promise<void> | undefined;
  #abort: AbortController | undefined;
  #closed = false;

  constructor(store: Store, runId: number, wait?: WaitForChanges) {
    this.#runId = runId;
    this.#readRow = perTurn(async (ids: number[]) => {
      const rows = new Map((await store.listTests(runId, { ids })).map((r) => [r.id, r]));
      return ids.map((id) => rows.get(id));
    });
    this.#wait = wait ?? ((cursor, waitMs, signal) => pollChanges(store, cursor, waitMs, undefined, signal));
    // Only this run's cells. A runsSeq past any change number skips the first whole runs index;
    // later answers carry the runs that changed, which cost little and are ignored.
    this.#cursor = { runsSeq: Number.MAX_SAFE_INTEGER, runs: { [String(runId)]: 0 }, endedRows: true };
  }

  /** Calls `onChange` with each change of row `testId` from now on; returns the way to stop. */
  watch(testId: number, onChange: Watcher): () => void {
    this.#watchers.set(testId, onChange);
    if (this.#loop === undefined && !this.#closed) this.#loop = this.#run();
    return () => {
      if (this.#watchers.get(testId) === onChange) this.#watchers.delete(testId);
    };
  }

  /**
   * Reads row `testId` of the run. The rows asked for in one turn of the event loop (the jobs a
   * feed answer ended) are read in one request.
   */
  readRow(testId: number): Promise<TestRecord | undefined> {
    return this.#readRow(testId);
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
      this.#cursor = { runsSeq: batch.cursor.runsSeq, runs: { [String(this.#runId)]: seq ?? 0 }, endedRows: true };
      let changed = false;
      for (const change of batch.cells) {
        if (change.runId !== this.#runId) continue;
        changed ||= change.cells.length > 0;
        const ended = new Map((change.ended ?? []).map((r) => [r.id, r]));
        for (const cell of change.cells) this.#watchers.get(cell.id)?.(cell, ended.get(cell.id));
      }
      if (changed && !this.#closed) await new Promise((r) => setTimeout(r, GATHER_MS));
    }
  }
}
