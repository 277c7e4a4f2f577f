/**
 * The run area's database files seen from outside, without SQLite (clients that never open a
 * database use this too): whether a file is there and looks like a SQLite database, which run
 * databases lie in `.db/`, and whether main.db may be opened (or created) beside them.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import { TrellisError } from './errors.js';

/** What a database file looks like from outside, before SQLite is let near it. */
export type DbFileState = 'ok' | 'missing' | 'empty' | 'not-sqlite' | 'not-a-file';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Looks at a database file without opening it: there, a regular file, not empty, and starting with
 * SQLite's header. SQLite itself would take a missing or 0-byte file for a new empty database.
 */
export function inspectDbFile(file: string): DbFileState {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return 'not-a-file';
    if (st.size === 0) return 'empty';
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    const n = readSync(fd, head, 0, head.length, 0);
    return n === head.length && head.equals(SQLITE_MAGIC) ? 'ok' : 'not-sqlite';
  } finally {
    closeSync(fd);
  }
}

/** A database file's state in words, for messages: `is missing`, `is empty (0 bytes)`, … */
export function describeDbFileState(state: Exclude<DbFileState, 'ok'>): string {
  switch (state) {
    case 'missing':
      return 'is missing';
    case 'empty':
      return 'is empty (0 bytes)';
    case 'not-sqlite':
      return 'is not a SQLite database (its header is wrong)';
    case 'not-a-file':
      return 'is not a regular file';
  }
}

/** A run database's file name: `<id>.db`. */
const RUN_DB_NAME = /^([1-9][0-9]*)\.db$/;

/** The run ids that have a database file in `dbDir`, ascending. */
export function listRunDbIds(dbDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dbDir);
  } catch {
    return [];
  }
  return names
    .map((n) => RUN_DB_NAME.exec(n)?.[1])
    .filter((id): id is string => id !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * Refuses to open a runs index that is missing or empty while run databases lie beside it: SQLite
 * would make a new empty one, every run would vanish from the lists, and the next run would move
 * an old run's database aside. A damaged one is refused by SQLite itself (DB_DAMAGED).
 */
export function checkMainDbFile(mainDb: string, dbDir: string): void {
  const state = inspectDbFile(mainDb);
  if (state === 'ok' || state === 'not-sqlite' || state === 'not-a-file') return;
  const ids = listRunDbIds(dbDir);
  if (ids.length === 0) return;
  const shown =
    ids
      .slice(0, 5)
      .map((id) => `${id}.db`)
      .join(', ') + (ids.length > 5 ? ', …' : '');
  throw new TrellisError(
    state === 'missing' ? 'DB_MISSING' : 'DB_DAMAGED',
    `the runs index ${mainDb} ${describeDbFileState(state)} but ${path.dirname(mainDb)} holds ${ids.length} run database${ids.length === 1 ? '' : 's'} (${shown})`,
    '`trellis doctor --repair` rebuilds the index from them (or restore main.db from a backup)',
  );
}
