/**
 * Looking into database files without changing them, for `trellis doctor`: SQLite's own
 * consistency check, the runs of main.db, and what a run database says it belongs to. Every read
 * is read-only (a live server may be writing) and every failure is an answer, not a throw.
 */
import Database from 'better-sqlite3';
import { BUSY_TIMEOUT_MS } from './open.js';

/** A run as main.db lists it (only what the doctor needs). */
export interface IndexedRun {
  id: number;
  target: string;
  runname: string;
  state: string;
  total: number;
}

/** What a run database says it is: its meta rows. */
export interface RunDbIdentity {
  runId: number | undefined;
  areaId: string | undefined;
  target: string | undefined;
  runname: string | undefined;
}

function withReadOnly<T>(file: string, fn: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const describe = (err: unknown) => {
  const e = err as { code?: string; message?: string };
  return e.code && e.message && !e.message.startsWith(e.code) ? `${e.code}: ${e.message}` : (e.message ?? String(err));
};

/** SQLite's quick_check of the file: undefined when it is consistent, else what is wrong (first lines). */
export function quickCheck(file: string): string | undefined {
  try {
    const rows = withReadOnly(file, (db) => db.pragma('quick_check(5)', { simple: false }) as Array<{ quick_check: string }>);
    const problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
    return problems.length === 0 ? undefined : problems.join('; ');
  } catch (err) {
    return describe(err);
  }
}

/** main.db's area id and runs; a string says why they cannot be read. */
export function readIndex(file: string): { areaId: string; runs: IndexedRun[] } | string {
  try {
    return withReadOnly(file, (db) => {
      const areaId = (db.prepare(`SELECT value FROM meta WHERE key = 'area_id'`).get() as { value: string } | undefined)?.value;
      if (areaId === undefined) return 'it has no area id';
      const runs = db.prepare(`SELECT id, target, runname, state, total FROM runs ORDER BY id`).all() as IndexedRun[];
      return { areaId, runs };
    });
  } catch (err) {
    return describe(err);
  }
}

/** What a run database says it belongs to; a string says why it cannot be read. */
export function readRunDbIdentity(file: string): RunDbIdentity | string {
  try {
    return withReadOnly(file, (db) => {
      const rows = db.prepare(`SELECT key, value FROM meta`).all() as Array<{ key: string; value: string }>;
      const m = new Map(rows.map((r) => [r.key, r.value]));
      const id = m.get('run_id');
      return {
        runId: id === undefined ? undefined : Number(id),
        areaId: m.get('area_id'),
        target: m.get('target'),
        runname: m.get('runname'),
      };
    });
  } catch (err) {
    return describe(err);
  }
}

/** The work folders a run database records (each test's and item's rundir); empty when unreadable. */
export function readRundirs(file: string): string[] {
  try {
    return withReadOnly(file, (db) =>
      (db.prepare(`SELECT rundir FROM tests WHERE rundir != ''`).all() as Array<{ rundir: string }>).map((r) => r.rundir),
    );
  } catch {
    return [];
  }
}
