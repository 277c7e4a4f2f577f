/**
 * Keeping the history index (main.db `outcomes`) in step with the run databases: a batch's final
 * rows are upserted and the rows that left a final state or were removed are dropped, in main.db's
 * transaction of that batch; runs made before the index existed are indexed once, on first open.
 */
import fs from 'node:fs';
import type { MainDb } from '../db/main-db.js';
import type { OutcomeRows } from '../db/outcome-rows.js';
import { RunDb } from '../db/run-db.js';
import type { RunAreaPaths } from '../config/paths.js';
import type { OutcomeRecord, RunRecord, TestRecord } from '../model/records.js';
import { isFinal, isSuccessfulOutcome } from '../model/states.js';
import type { ChangeTracker } from './test-changes.js';

/** The history entry of a test or item of `run` in a final state. */
export function toOutcome(run: RunRecord, t: TestRecord): OutcomeRecord {
  return {
    kind: 'run',
    runId: run.id,
    target: run.target,
    runname: run.runname,
    testname: t.testname,
    itempath: t.itempath,
    state: t.state,
    status: t.status,
    success: isSuccessfulOutcome(t.state, t.status),
    host: t.host,
    start: t.start,
    end: t.end,
    duration: t.duration,
    comment: t.comment,
    // A test that never ran (PREQ_FAIL) has no times: it happened when it was decided.
    time: t.start ?? t.end ?? t.updated,
  };
}

/** True when the batch changed something the history index holds. */
export function hasOutcomeChanges(tracker: ChangeTracker): boolean {
  return tracker.outcomes.size > 0 || tracker.removedTests.size > 0;
}

/** Applies the batch's outcome changes to the index; the caller holds main.db's transaction. */
export function indexOutcomes(rows: OutcomeRows, run: RunRecord, tracker: ChangeTracker): void {
  for (const testname of tracker.removedTests) rows.deleteRunTest(run.id, testname);
  for (const change of tracker.outcomes.values()) {
    if (change.row === null) rows.deleteRunRow(run.id, change.testname, change.itempath);
    else rows.upsertRun(toOutcome(run, change.row));
  }
  tracker.outcomes.clear();
  tracker.removedTests.clear();
}

/**
 * Indexes the final rows of every run made before the index existed, once per run area: the
 * migration leaves main.db's `outcomes_backfill` pending, and this marks it done. Runs whose
 * database cannot be read are skipped (the run itself reports that when used). Returns the
 * number of outcomes indexed.
 */
export function backfillOutcomes(main: MainDb, paths: RunAreaPaths, now: number): number {
  if (!main.outcomes.isBackfillPending()) return 0;
  // Under main.db's write lock: a second process opening the area at the same time waits, then
  // finds the work done. Run databases are read without locks, so no writer can deadlock us.
  return main.transaction(() => {
    if (!main.outcomes.isBackfillPending()) return 0;
    let indexed = 0;
    for (const run of main.listRuns()) {
      const finals = readFinalRows(run, paths.runDb(run.id));
      for (const t of finals) main.outcomes.upsertRun(toOutcome(run, t));
      indexed += finals.length;
    }
    main.outcomes.markBackfilled(now);
    return indexed;
  });
}

/** The rows of a run's database in a final state; none when it has no readable database. */
function readFinalRows(run: RunRecord, file: string): TestRecord[] {
  if (!fs.existsSync(file)) return [];
  let rdb: RunDb | undefined;
  try {
    rdb = RunDb.openReadOnly(file, run.id);
    return rdb.tests.list().filter((t) => isFinal(t.state, t.status));
  } catch {
    // An unreadable or foreign file: the run's own commands say so; history goes on without it.
    return [];
  } finally {
    rdb?.close();
  }
}
