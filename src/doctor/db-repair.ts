/**
 * The doctor's repairs of the runs index, done only while it holds the write lease: a run
 * database with no row is put back under its own id (row, summary, lock and history rebuilt from
 * the run's own database), and a lost or damaged main.db is rebuilt from every run database beside
 * it. Nothing is deleted: a damaged index and run databases that cannot be adopted are moved aside.
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { MainDb } from '../db/main-db.js';
import { RunDb } from '../db/run-db.js';
import { moveRunDbAside } from '../db/run-files.js';
import type { RunAreaPaths } from '../config/paths.js';
import type { RunRecord } from '../model/records.js';
import { isFinal } from '../model/states.js';
import { toOutcome } from '../store/outcome-index.js';
import { summarizeRun } from '../store/run-summary.js';

/** A run database to put into the index. */
export interface Adoptee {
  id: number;
  file: string;
  target: string;
  runname: string;
}

/**
 * Adds the row of run database `a` to `main` (which must not have one for its id): created at its
 * log's first event, its summary from its tests, locked again if its log ends with a lock, and its
 * final rows in the history index. One main.db transaction.
 */
export function adoptRunDb(main: MainDb, a: Adoptee, areaId: string, keys: Record<string, string>, now: number): RunRecord {
  const rdb = RunDb.open(a.file, { runId: a.id, areaId, target: a.target, runname: a.runname });
  try {
    return main.transaction(() => {
      const created = rdb.log.readFirstEventTime() ?? statSync(a.file).mtimeMs / 1000;
      const run = main.insertRecoveredRun(a.id, a.target, a.runname, keys, created);
      main.updateSummary(a.id, summarizeRun(rdb.tests, run, now, false));
      const lock = rdb.log.readLastLockEvent();
      if (lock?.kind === 'lock') main.setState(a.id, 'locked', lock.who, lock.time);
      const adopted = main.getRun(a.id)!;
      for (const t of rdb.tests.list()) if (isFinal(t.state, t.status)) main.outcomes.upsertRun(toOutcome(adopted, t));
      return adopted;
    });
  } finally {
    rdb.close();
  }
}

/**
 * Builds a new main.db from `runs` (area id `areaId`) under a temp name, moves the old one (and its
 * WAL) aside as `main.db.damaged-<stamp>`, and puts the new one in its place. Returns where the old
 * one went, if there was one.
 */
export function rebuildIndex(
  paths: RunAreaPaths,
  areaId: string,
  runs: readonly Adoptee[],
  keysOf: (target: string) => Record<string, string>,
  now: number,
): string | undefined {
  const tmp = `${paths.mainDb}.rebuild-${process.pid}`;
  const clear = (base: string) => {
    for (const s of ['', '-wal', '-shm']) rmSync(base + s, { force: true });
  };
  clear(tmp);
  const main = MainDb.open(tmp);
  try {
    main.transaction(() => main.setAreaId(areaId));
    for (const a of runs) adoptRunDb(main, a, areaId, keysOf(a.target), now);
  } finally {
    // Closing the last connection checkpoints the WAL into the file and removes it.
    main.close();
  }
  let aside: string | undefined;
  if (existsSync(paths.mainDb) || existsSync(`${paths.mainDb}-wal`)) {
    aside = `${paths.mainDb}.damaged-${Math.round(now)}`;
    for (const s of ['', '-wal', '-shm']) if (existsSync(paths.mainDb + s)) renameSync(paths.mainDb + s, aside + s);
  }
  for (const s of ['-wal', '-shm']) rmSync(tmp + s, { force: true });
  renameSync(tmp, paths.mainDb);
  return aside;
}

/** Moves a run database that cannot be adopted aside (kept as `<id>.db.orphan-<stamp>`). */
export function setAside(file: string, now: number): string | undefined {
  return moveRunDbAside(file, Math.round(now));
}
