/** A per-connection cache of prepared statements, keyed by their SQL text. */
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
