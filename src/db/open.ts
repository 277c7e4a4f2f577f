/**
 * Opening a SQLite file: create its folder, configure the connection (WAL, busy timeout, foreign
 * keys) and bring the schema up to date with numbered migrations kept in PRAGMA user_version.
 * Every failure leaves here as a TrellisError that names the file and says what to do.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { runAreaUnwritable, TrellisError } from '../util/errors.js';

export type Db = Database.Database;

/** One schema step; `version` counts up from 1 and is stored in user_version when applied. */
export interface Migration {
  version: number;
  up: string;
}

/** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 10_000;

export interface OpenOptions {
  /**
   * Page size of a database this call creates (bytes, a power of two from 512); a file that
   * exists keeps its own. It must be set before the first table, and before WAL mode.
   */
  pageSize?: number;
  /** the page cache's size (KiB) for this connection; SQLite's default when unset */
  cacheKiB?: number;
}

/** Opens (creating as needed) a database file and applies the migrations it has not seen. */
export function openDatabase(file: string, migrations: readonly Migration[], opts: OpenOptions = {}): Db {
  createFolder(path.dirname(file));
  let db: Db | undefined;
  try {
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    if (opts.pageSize !== undefined) db.pragma(`page_size = ${opts.pageSize}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    if (opts.cacheKiB !== undefined) db.pragma(`cache_size = -${opts.cacheKiB}`);
    migrate(db, file, migrations);
    return db;
  } catch (err) {
    db?.close();
    throw mapOpenError(err, file);
  }
}

/** The schema version a migration list leads to. */
export function getLatestVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

function createFolder(dir: string): void {
  try {
    // 0750: results are for the group that shares the run area, not for everyone on the host.
    mkdirSync(dir, { recursive: true, mode: 0o750 });
  } catch (err) {
    throw runAreaUnwritable(dir, err);
  }
}

function readVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, file: string, migrations: readonly Migration[]): void {
  const latest = getLatestVersion(migrations);
  if (readVersion(db) === latest) return;
  // IMMEDIATE takes the write lock before the version is read again, so two processes opening a
  // fresh file at once apply each migration exactly once.
  db.transaction(() => {
    const current = readVersion(db);
    if (current > latest) throw makeTooNewError(file, current, latest);
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= current) continue;
      db.exec(m.up);
      db.pragma(`user_version = ${m.version}`);
    }
  }).immediate();
}

function makeTooNewError(file: string, found: number, known: number): TrellisError {
  return new TrellisError(
    'DB_TOO_NEW',
    `${file} has schema version ${found}, but this Trellis knows only up to version ${known}`,
    'a newer Trellis wrote this run area: upgrade Trellis on this host (every host that shares the run area needs that version or newer)',
  );
}

const UNWRITABLE_SQLITE = /^SQLITE_(CANTOPEN|READONLY|PERM|IOERR|FULL|AUTH)/;

/** Maps an error from opening or migrating `file` to a TrellisError. */
function mapOpenError(err: unknown, file: string): TrellisError {
  const mapped = mapStorageError(err, file);
  return mapped instanceof TrellisError ? mapped : makeDbError(err, file);
}

/**
 * Maps a SQLite or file-system failure on `where` to a TrellisError: RUNAREA_UNWRITABLE when the
 * run area cannot be written, DB_ERROR for other SQLite errors. Anything else (a bug) is returned
 * unchanged, so it is not passed off as a storage problem.
 */
export function mapStorageError(err: unknown, where: string): unknown {
  if (err instanceof TrellisError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return err;
  if (UNWRITABLE_SQLITE.test(code) || /^E[A-Z]+$/.test(code)) return runAreaUnwritable(where, err);
  if (code.startsWith('SQLITE_')) return makeDbError(err, where);
  return err;
}

/** Wraps an unexpected SQLite failure on `file` as DB_ERROR, or DB_DAMAGED when the file is. */
function makeDbError(err: unknown, file: string): TrellisError {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^SQLITE_(NOTADB|CORRUPT)/.test(code)) {
    return new TrellisError('DB_DAMAGED', `database ${file} is damaged: ${(err as Error).message}`, DAMAGED_HINT, { cause: err });
  }
  const hint =
    code === 'SQLITE_BUSY'
      ? 'another process held the database for too long; try again'
      : 'run again with --debug and report the output if it persists';
  return new TrellisError('DB_ERROR', `database ${file}: ${(err as Error).message}`, hint, { cause: err });
}

/** What to do about a damaged database file. */
const DAMAGED_HINT = 'restore it from a backup or move it aside; `trellis doctor` checks every database of the run area';
