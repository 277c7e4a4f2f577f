/**
 * The (target, run name) of every run, read from main.db without writing anything: for shell
 * completion, which must be quick and must never create, migrate or lock a database.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';

export interface RunKey {
  target: string;
  runname: string;
}

/** The runs of main.db, newest first; none when it does not exist yet. */
export function readRunKeys(mainDb: string): RunKey[] {
  if (!existsSync(mainDb)) return [];
  const db = new Database(mainDb, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT target, runname FROM runs ORDER BY created DESC').all() as RunKey[];
  } finally {
    db.close();
  }
}
