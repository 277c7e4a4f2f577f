/**
 * The change feed (Store.changes) over the SQLite files: which runs changed since a change number
 * of main.db, and which cells changed since an event seq of each followed run. Each part is read
 * in one read transaction, so the cursor handed back never runs ahead of the rows read with it: a
 * change racing the read is sent now or next time (at worst twice), never lost. When nothing
 * changed it costs one row of main.db and one max() per followed run.
 */
import type { MainDb } from '../db/main-db.js';
import type { RunDb } from '../db/run-db.js';
import type { FeedBatch, FeedCursor, RunCellChanges, RunRecord } from '../model/records.js';
import { FINAL_STATES } from '../model/states.js';
import { isDamagedRunDb } from '../util/errors.js';

/** A reader further behind than this many changed rows gets the run's whole set of cells instead. */
export const FULL_RESET_AFTER = 5000;

/** What the feed reads from: the runs index, and a followed run's database (undefined: gone). */
export interface FeedSource {
  main: MainDb;
  openRun(runId: number): RunDb | undefined;
}

interface RunsPart {
  runsSeq: number;
  runs: RunRecord[];
  removedRuns: number[];
}

/** Reads everything that changed after `cursor`. */
export function readChanges(source: FeedSource, cursor: FeedCursor): FeedBatch {
  const runsPart = readRunChanges(source.main, cursor.runsSeq);
  const removed = new Set(runsPart.removedRuns);
  const runs: Record<string, number> = {};
  const cells: RunCellChanges[] = [];
  for (const [key, since] of Object.entries(cursor.runs)) {
    const runId = Number(key);
    // A key that names no possible run is dropped from the cursor, like a run that is gone.
    if (!Number.isSafeInteger(runId) || runId < 1) continue;
    let rdb: RunDb | undefined;
    try {
      rdb = source.openRun(runId);
    } catch (err) {
      // A run whose database is missing or damaged has no cells to show; the others still do.
      if (!isDamagedRunDb(err)) throw err;
      runs[key] = since;
      continue;
    }
    if (rdb === undefined) {
      // Dropped from the cursor too, so the next call does not report it again.
      removed.add(runId);
      continue;
    }
    const change = readCellChanges(rdb, since, cursor.endedRows === true);
    runs[key] = change?.seq ?? since;
    if (change !== undefined && (change.full || change.cells.length > 0 || change.removed.length > 0)) cells.push(change);
  }
  const batch: FeedBatch = {
    cursor: { runsSeq: runsPart.runsSeq, runs },
    runs: runsPart.runs,
    removedRuns: [...removed],
    cells,
  };
  if (cursor.endedRows === true) batch.cursor.endedRows = true;
  // Followed only by those who ask (a runner waiting for a share): the others' answers stay as they were.
  if (cursor.resourcesSeq !== undefined) {
    const seq = source.main.resources.readSeq();
    batch.cursor.resourcesSeq = seq;
    batch.resourcesChanged = seq !== cursor.resourcesSeq;
  }
  // Followed by agents waiting for a job and by the hosts views.
  if (cursor.poolSeq !== undefined) {
    const seq = source.main.pool.readSeq();
    batch.cursor.poolSeq = seq;
    batch.poolChanged = seq !== cursor.poolSeq;
  }
  return batch;
}

/** Runs changed after change number `since`; every run (and no removals) when it is 0. */
export function readRunChanges(main: MainDb, since: number): RunsPart {
  return main.read(() => {
    const runsSeq = main.readChangeSeq();
    if (since === 0) return { runsSeq, runs: main.listRuns(), removedRuns: [] };
    if (runsSeq === since) return { runsSeq, runs: [], removedRuns: [] };
    return { runsSeq, runs: main.listRunsChangedAfter(since), removedRuns: main.listRemovedRunsAfter(since) };
  });
}

/**
 * The cells of run `rdb` that changed after event seq `since`; undefined when no event came
 * since. A change that touched no cell (a run state, an agent) still moves the seq on, with
 * empty lists. `endedRows`: the whole rows of the changed cells that ended, read with them.
 */
export function readCellChanges(rdb: RunDb, since: number, endedRows = false): RunCellChanges | undefined {
  return rdb.read(() => {
    const seq = rdb.log.readLastSeq();
    if (seq === since) return undefined;
    const runId = rdb.runId;
    // since > seq: the reader knows a later state than there is; start it over rather than guess.
    if (since === 0 || since > seq) return { runId, seq, full: true, cells: rdb.tests.listCells(), removed: [] };
    const ids = rdb.log.listChangedTestIds(since, FULL_RESET_AFTER + 1);
    if (ids.length > FULL_RESET_AFTER) return { runId, seq, full: true, cells: rdb.tests.listCells(), removed: [] };
    const cells = rdb.tests.listCellsIn(ids);
    const present = new Set(cells.map((c) => c.id));
    const removed = ids.filter((id) => !present.has(id)).sort((a, b) => a - b);
    if (!endedRows) return { runId, seq, full: false, cells, removed };
    const endedIds = cells.filter((c) => FINAL_STATES.has(c.state) || c.state === 'WAITING').map((c) => c.id);
    return { runId, seq, full: false, cells, removed, ended: endedIds.length === 0 ? [] : rdb.tests.list({ ids: endedIds }) };
  });
}
