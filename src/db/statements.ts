/** A per-connection cache of prepared statements, keyed by their SQL text, and read transactions on it. */
import type { Statement } from 'better-sqlite3';
import type { Db } from './open.js';

/** Prepares each distinct SQL text once per connection; preparing is the slow part of a query. */
export class StatementCache {
  readonly #db: Db;
  readonly #cache = new Map<string, Statement>();

  constructor(db: Db) {
    this.#db = db;
  }

  /** The prepared statement for `sql`, prepared on first use. */
  get(sql: string): Statement {
    let stmt = this.#cache.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare(sql);
      this.#cache.set(sql, stmt);
    }
    return stmt;
  }
}

/**
 * Runs `fn` in a deferred (read) transaction, or as part of the one already open. In WAL mode its
 * reads share one snapshot: no writer's commit shows up halfway through.
 */
export function runInReadTransaction<T>(db: Db, sql: StatementCache, fn: () => T): T {
  if (db.inTransaction) return fn();
  sql.get('BEGIN DEFERRED').run();
  try {
    return fn();
  } finally {
    if (db.inTransaction) sql.get('COMMIT').run();
  }
}

/**
 * Runs `fn` in one IMMEDIATE transaction (the write lock taken up front, so a batch never fails
 * halfway with SQLITE_BUSY when it turns from reading into writing), or inside the one already
 * open. Hand-rolled instead of db.transaction(fn): that builds a new wrapper on every call, a
 * measurable share of a one-op batch.
 */
export function runInWriteTransaction<T>(db: Db, sql: StatementCache, fn: () => T): T {
  if (db.inTransaction) return fn();
  return bracketed(db, sql, 'BEGIN IMMEDIATE', 'COMMIT', ['ROLLBACK'], fn);
}

/**
 * Runs `fn` inside the write transaction already open on `db`, as one savepoint: when `fn` throws,
 * what it wrote is undone and the error goes on to the caller, whose transaction stays open — unless
 * the error took it (SQLite rolls back by itself on some I/O and full-disk errors): see
 * `db.inTransaction`.
 */
export function runInSavepoint<T>(db: Db, sql: StatementCache, fn: () => T): T {
  if (!db.inTransaction) throw new Error('runInSavepoint: no transaction is open');
  return bracketed(db, sql, 'SAVEPOINT part', 'RELEASE part', ['ROLLBACK TO part', 'RELEASE part'], fn);
}

/** Runs `fn` between `begin` and `end`; when it throws, `undo` while the transaction is still open. */
function bracketed<T>(db: Db, sql: StatementCache, begin: string, end: string, undo: readonly string[], fn: () => T): T {
  sql.get(begin).run();
  try {
    const result = fn();
    sql.get(end).run();
    return result;
  } catch (err) {
    if (db.inTransaction) for (const statement of undo) sql.get(statement).run();
    throw err;
  }
}
