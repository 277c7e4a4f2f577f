/**
 * One run's database, `.db/<run-id>.db`: its tests, steps, data, agents and change feed. The
 * typed table accessors hang off one connection so a store can group their calls into a single
 * transaction.
 */
import { DetailRows } from './detail-rows.js';
import { LogRows } from './log-rows.js';
import Database from 'better-sqlite3';
import { TrellisError } from '../util/errors.js';
import { describeDbFileState, inspectDbFile } from '../util/db-files.js';
import { BUSY_TIMEOUT_MS, openDatabase, type Db } from './open.js';
import { RuleRows } from './rule-rows.js';
import { RUN_MIGRATIONS } from './run-schema.js';
import { runInReadTransaction, runInSavepoint, runInWriteTransaction, StatementCache } from './statements.js';
import { TestRows } from './test-rows.js';

/** What a run database records about itself, so it can be told apart from a stale file. */
export interface RunDbMeta {
  runId: number;
  areaId: string;
  target: string;
  runname: string;
}

/** An open run database. */
/**
 * Run databases use 512-byte pages: an empty run is then 18 KB on disk instead of 76 KB (its 17
 * tables and indexes take a page each, the schema 5 more), which counts in an area of 10,000 runs.
 * Measured on 100,000 tests, inserting, updating and reading them all cost the same as with SQLite's
 * default 4 KB pages (the file is 14 % larger); a small write rewrites less (docs/benchmarks.md).
 */
export const RUN_DB_PAGE_SIZE = 512;

/**
 * SQLite's page cache per run database (KiB). The default (16 MB, about 22 MB of memory in 512-byte
 * pages) stays with every open database, and a server keeps up to 128 open: one read of a run of
 * 100,000 items filled it. Updating rows of such a run at random took the same time with 2 MB.
 */
export const RUN_DB_CACHE_KIB = 2048;

export class RunDb {
  readonly file: string;
  readonly runId: number;
  readonly tests: TestRows;
  readonly details: DetailRows;
  readonly rules: RuleRows;
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
    this.rules = new RuleRows(this.#sql);
    this.log = new LogRows(this.#sql);
  }

  /**
   * Opens the database of run `meta.runId`, migrating it as needed. Only with `create` may the file
   * be missing (a run being created): otherwise a missing, empty or foreign file is DB_MISSING or
   * DB_DAMAGED naming the run and the file — SQLite would quietly make an empty database of it,
   * and the run would look like one that never ran a test.
   */
  static open(file: string, meta: RunDbMeta, opts: { create?: boolean } = {}): RunDb {
    const state = inspectDbFile(file);
    const run = `run ${meta.target}/${meta.runname}`;
    if (state !== 'ok' && !(opts.create && state === 'missing')) {
      throw new TrellisError(
        state === 'missing' ? 'DB_MISSING' : 'DB_DAMAGED',
        `the database of ${run} (${file}) ${describeDbFileState(state)}`,
        `restore it from a backup, or remove the run (its results are gone) with \`trellis remove -t ${meta.target} -r ${meta.runname}\`; \`trellis doctor\` checks the whole run area`,
      );
    }
    const rdb = new RunDb(file, meta.runId, openDatabase(file, RUN_MIGRATIONS, { pageSize: RUN_DB_PAGE_SIZE, cacheKiB: RUN_DB_CACHE_KIB }));
    try {
      rdb.#checkMeta(meta, run);
      rdb.#writeMeta(meta);
    } catch (err) {
      rdb.close();
      throw err;
    }
    return rdb;
  }

  /** Refuses a file that says it belongs to another run or area (copied, or left from another main.db). */
  #checkMeta(meta: RunDbMeta, run: string): void {
    const rows = this.#sql.get(`SELECT key, value FROM meta WHERE key IN ('run_id', 'area_id', 'target', 'runname')`).all() as Array<{
      key: string;
      value: string;
    }>;
    const has = new Map(rows.map((r) => [r.key, r.value]));
    const runId = has.get('run_id');
    const areaId = has.get('area_id');
    if ((runId !== undefined && runId !== String(meta.runId)) || (areaId !== undefined && areaId !== meta.areaId)) {
      const theirs = `run ${runId ?? '?'} (${has.get('target') ?? '?'}/${has.get('runname') ?? '?'}) of area ${areaId ?? '?'}`;
      throw new TrellisError(
        'DB_DAMAGED',
        `${this.file} holds ${theirs}, not ${run} (id ${meta.runId}) of area ${meta.areaId}`,
        "it is another run's file (copied, or left from another main.db): move it aside; `trellis doctor` checks the whole run area",
      );
    }
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

  /** Runs `fn` as one savepoint of the write transaction already open: see runInSavepoint. */
  savepoint<T>(fn: () => T): T {
    return runInSavepoint(this.#db, this.#sql, fn);
  }

  /** True while a transaction is open on the connection. */
  get inTransaction(): boolean {
    return this.#db.inTransaction;
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
