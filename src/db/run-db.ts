/**
 * One run's database, `.db/<run-id>.db`: its tests, steps, data, agents and change feed. The
 * typed table accessors hang off one connection so a store can group their calls into a single
 * transaction.
 */
import { DetailRows } from './detail-rows.js';
import { LogRows } from './log-rows.js';
import Database from 'better-sqlite3';
import { BUSY_TIMEOUT_MS, openDatabase, type Db } from './open.js';
import { RUN_MIGRATIONS } from './run-schema.js';
import { runInReadTransaction, runInWriteTransaction, StatementCache } from './statements.js';
import { TestRows } from './test-rows.js';

/** What a run database records about itself, so it can be told apart from a stale file. */
export interface RunDbMeta {
  runId: number;
  areaId: string;
  target: string;
  runname: string;
}

/** An open run database. */
export class RunDb {
  readonly file: string;
  readonly runId: number;
  readonly tests: TestRows;
  readonly details: DetailRows;
  readonly log: LogRows;
  readonly #db: Db;
  readonly #sql: StatementCache;

  private constructor(file: string, runId: number, db: Db) {
    this.file = file;
    this.runId = runId;
    this.#db = db;
    this.#sql = new StatementCache(db);
    this.tests = new TestRows(this.#sql, runId);
    this.details = new DetailRows(this.#sql);
    this.log = new LogRows(this.#sql);
  }

  /** Opens (creating and migrating as needed) the database of run `meta.runId`. */
  static open(file: string, meta: RunDbMeta): RunDb {
    const rdb = new RunDb(file, meta.runId, openDatabase(file, RUN_MIGRATIONS));
    rdb.#writeMeta(meta);
    return rdb;
  }

  /**
   * Opens an existing run database read-only, as it is: no migration, no meta, no write lock
   * (the history backfill reads old runs while it holds main.db's, and must not wait on theirs).
   */
  static openReadOnly(file: string, runId: number): RunDb {
    return new RunDb(file, runId, new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS }));
  }

  #writeMeta(meta: RunDbMeta): void {
    const put = this.#sql.get(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING`);
    this.transaction(() => {
      put.run('run_id', String(meta.runId));
      put.run('area_id', meta.areaId);
      put.run('target', meta.target);
      put.run('runname', meta.runname);
    });
  }

  /** Runs `fn` in one write transaction (or the one already open): see runInWriteTransaction. */
  transaction<T>(fn: () => T): T {
    return runInWriteTransaction(this.#db, this.#sql, fn);
  }

  /**
   * Runs `fn` in one read transaction: its queries see one snapshot, so the last event seq read
   * there matches the rows read with it.
   */
  read<T>(fn: () => T): T {
    return runInReadTransaction(this.#db, this.#sql, fn);
  }

  /** Closes the connection; the object is unusable afterwards. */
  close(): void {
    this.#db.close();
  }
}
