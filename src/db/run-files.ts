/** A run database on disk is up to three files: `<id>.db` and its `-wal` and `-shm` companions. */
import { existsSync, renameSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { inspectDbFile } from '../util/db-files.js';

const SUFFIXES = ['', '-wal', '-shm'] as const;

/** Deletes a run database with its WAL and shared-memory files (close it first). */
export function deleteRunDbFiles(file: string): void {
  for (const suffix of SUFFIXES) rmSync(file + suffix, { force: true });
}

/**
 * Moves a run database that is not the run's (left from an earlier main.db) to
 * `<file>.orphan-<stamp>`, keeping its WAL beside it so nothing in it is lost. Returns the new
 * name, or undefined when there was no such file.
 */
export function moveRunDbAside(file: string, stamp: number): string | undefined {
  if (!existsSync(file)) return undefined;
  const aside = `${file}.orphan-${stamp}`;
  for (const suffix of SUFFIXES) {
    if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
  }
  return aside;
}

/**
 * Removes a removed run's database: deleted when it is the run's own (its meta says so), moved
 * aside (`.orphan-<stamp>`, kept) when it is damaged or another run's, so `trellis remove` of a run
 * with a bad file never destroys what may be the only copy of something else.
 */
export function retireRunDbFiles(file: string, runId: number, areaId: string, stamp: number): 'deleted' | 'moved-aside' | 'none' {
  const state = inspectDbFile(file);
  if (state === 'missing') {
    deleteRunDbFiles(file);
    return 'none';
  }
  if (state === 'ok' && isOwnRunDb(file, runId, areaId)) {
    deleteRunDbFiles(file);
    return 'deleted';
  }
  moveRunDbAside(file, stamp);
  return 'moved-aside';
}

function isOwnRunDb(file: string, runId: number, areaId: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const rows = db.prepare(`SELECT key, value FROM meta WHERE key IN ('run_id', 'area_id')`).all() as Array<{
      key: string;
      value: string;
    }>;
    const has = new Map(rows.map((r) => [r.key, r.value]));
    return (has.get('run_id') ?? String(runId)) === String(runId) && (has.get('area_id') ?? areaId) === areaId;
  } catch {
    return false;
  } finally {
    db?.close();
  }
}
