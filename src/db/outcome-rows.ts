/**
 * Typed queries on main.db's `outcomes` table, the history index (main-schema.ts version 3).
 * Every read names one test, so it is an index range of `outcomes_test`, whatever the number of
 * runs. Rows are mapped to OutcomeRecord here and never leave this folder raw.
 */
import type { OutcomeKind, OutcomeRecord } from '../model/records.js';
import type { StatementCache } from './statements.js';

interface OutcomeRow {
  id: number;
  kind: string;
  run_id: number | null;
  target: string;
  runname: string;
  testname: string;
  itempath: string;
  state: string;
  status: string;
  success: number;
  host: string;
  started: number | null;
  ended: number | null;
  duration: number | null;
  at: number;
  comment: string;
}

/** One test (or job) on one target: what the summary of `trellis check` is made per. */
export interface OutcomeKey {
  target: string;
  testname: string;
  itempath: string;
}

/** What the summary reads of one key, in SQL. */
export interface OutcomeStats {
  count: number;
  latest: OutcomeRecord;
  lastSuccess: OutcomeRecord | null;
  meanDuration: number | null;
  baselineCount: number;
}

const BACKFILL_KEY = 'outcomes_backfill';
const COLUMNS = `kind, run_id, job_key, target, runname, testname, itempath, state, status, success, host, started, ended, duration, at, comment`;
const VALUES = `?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?`;
const UPDATE = `target = excluded.target, runname = excluded.runname, state = excluded.state, status = excluded.status,
  success = excluded.success, host = excluded.host, started = excluded.started, ended = excluded.ended,
  duration = excluded.duration, at = excluded.at, comment = excluded.comment`;
const ONE_KEY = `testname = ? AND itempath = ? AND target = ?`;
const NEWEST = `ORDER BY at DESC, id DESC`;

function mapOutcomeRow(row: OutcomeRow): OutcomeRecord {
  return {
    kind: row.kind as OutcomeKind,
    runId: row.run_id,
    target: row.target,
    runname: row.runname,
    testname: row.testname,
    itempath: row.itempath,
    state: row.state,
    status: row.status,
    success: row.success === 1,
    host: row.host,
    start: row.started,
    end: row.ended,
    duration: row.duration,
    comment: row.comment,
    time: row.at,
  };
}

/**
 * A `%` pattern as a GLOB, which SQLite matches in the query (case-sensitive, like matchPercent):
 * `%` becomes `*`, and GLOB's own wildcards are bracketed so they match themselves.
 */
export function percentToGlob(pattern: string): string {
  return pattern.replace(/[*?[]/g, (c) => `[${c}]`).replace(/%/g, '*');
}

/** Table access for `outcomes`. */
export class OutcomeRows {
  readonly #sql: StatementCache;

  constructor(sql: StatementCache) {
    this.#sql = sql;
  }

  #values(o: OutcomeRecord, jobKey: string | null): unknown[] {
    return [
      o.kind,
      o.runId,
      jobKey,
      o.target,
      o.runname,
      o.testname,
      o.itempath,
      o.state,
      o.status,
      o.success ? 1 : 0,
      o.host,
      o.start,
      o.end,
      o.duration,
      o.time,
      o.comment,
    ];
  }

  /** Indexes the final outcome of a test or item of a run, replacing the one it had. */
  upsertRun(o: OutcomeRecord): void {
    this.#sql
      .get(`INSERT INTO outcomes (${COLUMNS}) VALUES (${VALUES})
            ON CONFLICT (run_id, testname, itempath) WHERE run_id IS NOT NULL DO UPDATE SET ${UPDATE}`)
      .run(...this.#values(o, null));
  }

  /** Records a wrap/record job under `key`: the first call adds the row, later ones update it. */
  upsertJob(key: string, o: OutcomeRecord): OutcomeRecord {
    const row = this.#sql
      .get(`INSERT INTO outcomes (${COLUMNS}) VALUES (${VALUES})
            ON CONFLICT (job_key) WHERE job_key IS NOT NULL DO UPDATE SET ${UPDATE} RETURNING *`)
      .get(...this.#values(o, key)) as OutcomeRow;
    return mapOutcomeRow(row);
  }

  /** Drops the outcome of one test or item of a run (it was reset, or removed). */
  deleteRunRow(runId: number, testname: string, itempath: string): void {
    this.#sql.get(`DELETE FROM outcomes WHERE run_id = ? AND testname = ? AND itempath = ?`).run(runId, testname, itempath);
  }

  /** Drops the outcomes of a test of a run and of all its items. */
  deleteRunTest(runId: number, testname: string): void {
    this.#sql.get(`DELETE FROM outcomes WHERE run_id = ? AND testname = ?`).run(runId, testname);
  }

  /** One test's (or item's) outcomes, newest first, on targets matching `targetPattern`. */
  history(testname: string, itempath: string, targetPattern: string | undefined, successOnly: boolean, limit: number): OutcomeRecord[] {
    const rows = this.#sql
      .get(`SELECT * FROM outcomes WHERE testname = ? AND itempath = ? AND target GLOB ? AND success >= ? ${NEWEST} LIMIT ?`)
      .all(testname, itempath, percentToGlob(targetPattern ?? '%'), successOnly ? 1 : 0, limit) as OutcomeRow[];
    return rows.map(mapOutcomeRow);
  }

  /** Every (target, test, item) with an outcome on a target matching `targetPattern`. */
  listKeys(targetPattern: string | undefined): OutcomeKey[] {
    return this.#sql
      .get(`SELECT DISTINCT target, testname, itempath FROM outcomes WHERE target GLOB ? ORDER BY testname, itempath, target`)
      .all(percentToGlob(targetPattern ?? '%')) as OutcomeKey[];
  }

  /**
   * The latest outcome of one key, its last success, how many there are, and the mean duration
   * of up to `baseline` successes before the latest (the yardstick for "slow"). Undefined when
   * the key has no outcome.
   */
  readStats(key: OutcomeKey, baseline: number): OutcomeStats | undefined {
    const args = [key.testname, key.itempath, key.target];
    const latest = this.#sql.get(`SELECT * FROM outcomes WHERE ${ONE_KEY} ${NEWEST} LIMIT 1`).get(...args) as OutcomeRow | undefined;
    if (latest === undefined) return undefined;
    const success = this.#sql.get(`SELECT * FROM outcomes WHERE ${ONE_KEY} AND success = 1 ${NEWEST} LIMIT 1`).get(...args) as
      | OutcomeRow
      | undefined;
    const { count } = this.#sql.get(`SELECT count(*) AS count FROM outcomes WHERE ${ONE_KEY}`).get(...args) as { count: number };
    const mean = this.#sql
      .get(
        `SELECT avg(duration) AS mean, count(*) AS n FROM (
           SELECT duration FROM outcomes WHERE ${ONE_KEY} AND success = 1 AND duration IS NOT NULL AND id <> ? ${NEWEST} LIMIT ?)`,
      )
      .get(...args, latest.id, baseline) as { mean: number | null; n: number };
    return {
      count,
      latest: mapOutcomeRow(latest),
      lastSuccess: success === undefined ? null : mapOutcomeRow(success),
      meanDuration: mean.mean,
      baselineCount: mean.n,
    };
  }

  /** True until the runs made before the index existed have been indexed. */
  isBackfillPending(): boolean {
    const row = this.#sql.get(`SELECT value FROM meta WHERE key = ?`).get(BACKFILL_KEY) as { value: string } | undefined;
    return row?.value === 'pending';
  }

  /** Notes that the runs made before the index existed are in it. */
  markBackfilled(time: number): void {
    this.#sql.get(`UPDATE meta SET value = ? WHERE key = ?`).run(`done ${new Date(time * 1000).toISOString()}`, BACKFILL_KEY);
  }
}
