/**
 * Typed queries on `.db/main.db`, the runs index. Rows are mapped to RunRecord here and never
 * leave this folder raw.
 */
import type { RunColumns, RunQuery, RunRecord } from '../model/records.js';
import { pickRunColumns } from '../model/run-columns.js';
import { percentMatcher } from '../model/pattern.js';
import type { RunState } from '../model/states.js';
import { MAIN_MIGRATIONS } from './main-schema.js';
import { openDatabase, type Db } from './open.js';
import { OutcomeRows } from './outcome-rows.js';
import { PoolRows } from './pool-rows.js';
import { ResourceRows } from './resource-rows.js';
import { runInReadTransaction, runInWriteTransaction, StatementCache } from './statements.js';

interface RunRow {
  id: number;
  target: string;
  runname: string;
  keys: string;
  state: string;
  status: string;
  counts: string;
  total: number;
  created: number;
  started: number | null;
  ended: number | null;
  updated: number;
  locked_by: string | null;
  locked_at: number | null;
  params: string;
  closed_at: number | null;
}

/** What a batch of writes recomputes for a run from its toplevel tests. */
export interface RunSummary {
  state: RunState;
  status: string;
  counts: Record<string, number>;
  total: number;
  started: number | null;
  ended: number | null;
  updated: number;
}

function mapRunRow(row: RunRow): RunRecord {
  return {
    id: row.id,
    target: row.target,
    keys: JSON.parse(row.keys) as Record<string, string>,
    runname: row.runname,
    state: row.state as RunState,
    status: row.status,
    counts: JSON.parse(row.counts) as Record<string, number>,
    total: row.total,
    created: row.created,
    started: row.started,
    ended: row.ended,
    updated: row.updated,
    lockedBy: row.locked_by,
    lockedAt: row.locked_at,
    params: JSON.parse(row.params) as Record<string, string>,
    ...(row.closed_at !== null ? { closedAt: row.closed_at } : {}),
  };
}

/** The columns of a run, in the order mapRunTuple reads them. */
const RUN_COLUMNS =
  'id, target, keys, runname, state, status, counts, total, created, started, ended, updated, locked_by, locked_at, params, closed_at';
type RunTuple = [
  number,
  string,
  string,
  string,
  string,
  string,
  string,
  number,
  number,
  number | null,
  number | null,
  number,
  string | null,
  number | null,
  string,
  number | null,
];

/**
 * mapRunRow for a row read as an array (`raw`): listing 10,000 runs, better-sqlite3 building
 * an object per row took about as long as everything else the server does for the request.
 */
function mapRunTuple(r: RunTuple): RunRecord {
  const run: RunRecord = {
    id: r[0],
    target: r[1],
    keys: JSON.parse(r[2]) as Record<string, string>,
    runname: r[3],
    state: r[4] as RunState,
    status: r[5],
    counts: JSON.parse(r[6]) as Record<string, number>,
    total: r[7],
    created: r[8],
    started: r[9],
    ended: r[10],
    updated: r[11],
    lockedBy: r[12],
    lockedAt: r[13],
    params: JSON.parse(r[14]) as Record<string, string>,
  };
  if (r[15] !== null) run.closedAt = r[15];
  return run;
}

/** The runs index of one run area. */
export class MainDb {
  readonly file: string;
  /** the history index */
  readonly outcomes: OutcomeRows;
  /** the shared resources' claims */
  readonly resources: ResourceRows;
  /** the agent pool: agents and their job queue */
  readonly pool: PoolRows;
  readonly #db: Db;
  readonly #sql: StatementCache;

  private constructor(file: string, db: Db) {
    this.file = file;
    this.#db = db;
    this.#sql = new StatementCache(db);
    this.outcomes = new OutcomeRows(this.#sql);
    this.resources = new ResourceRows(this.#sql);
    this.pool = new PoolRows(this.#sql);
  }

  /** Opens (creating and migrating as needed) main.db at `file`. */
  static open(file: string): MainDb {
    return new MainDb(file, openDatabase(file, MAIN_MIGRATIONS));
  }

  /** The run area's random id, created with the file. */
  readAreaId(): string {
    const row = this.#sql.get(`SELECT value FROM meta WHERE key = 'area_id'`).get() as { value: string };
    return row.value;
  }

  /** Inserts the run unless it exists; `created` tells which happened. */
  insertRun(target: string, runname: string, keys: Record<string, string>, now: number) {
    const info = this.#sql
      .get(
        `INSERT INTO runs (target, runname, keys, created, updated) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (target, runname) DO NOTHING`,
      )
      .run(target, runname, JSON.stringify(keys), now, now);
    const run = this.findRun(target, runname);
    if (run === undefined) throw new Error(`run ${target}/${runname} vanished after insert`);
    return { run, created: info.changes === 1 };
  }

  /**
   * Puts back the row of a run that has a database but no row (a runs index lost or rebuilt), under
   * the run's own id: `trellis doctor --repair`. Its summary is the caller's to refresh.
   */
  insertRecoveredRun(id: number, target: string, runname: string, keys: Record<string, string>, created: number): RunRecord {
    this.#sql
      .get(`INSERT INTO runs (id, target, runname, keys, created, updated) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(id, target, runname, JSON.stringify(keys), created, created);
    return this.getRun(id)!;
  }

  /** Gives a rebuilt runs index the area id its run databases and `.meta/area-id` carry. */
  setAreaId(areaId: string): void {
    this.#sql.get(`UPDATE meta SET value = ? WHERE key = 'area_id'`).run(areaId);
  }

  /** The run of this target and run name. */
  findRun(target: string, runname: string): RunRecord | undefined {
    const row = this.#sql.get(`SELECT * FROM runs WHERE target = ? AND runname = ?`).get(target, runname);
    return row === undefined ? undefined : mapRunRow(row as RunRow);
  }

  /** The run with this id. */
  getRun(id: number): RunRecord | undefined {
    const row = this.#sql.get(`SELECT * FROM runs WHERE id = ?`).get(id);
    return row === undefined ? undefined : mapRunRow(row as RunRow);
  }

  /** Runs newest first, filtered by `%` patterns on target and run name. */
  listRuns(query: RunQuery = {}): RunRecord[] {
    // This SQL text is read raw only (the statement cache shares a statement per text).
    const rows = this.#sql.get(`SELECT ${RUN_COLUMNS} FROM runs ORDER BY created DESC, id DESC`).raw(true).all() as RunTuple[];
    const target = percentMatcher(query.target);
    const runname = percentMatcher(query.runname);
    const runs: RunRecord[] = [];
    for (const r of rows) if (target(r[1]) && runname(r[3])) runs.push(mapRunTuple(r));
    return runs;
  }

  /**
   * listRuns as `trellis list runs` shows it: only its columns, column by column (RunColumns).
   * SQLite writes them as one JSON text, parsed at once: over 10,000 runs that took 23 ms where
   * reading the rows and parsing each run's counts took 34 ms, and listRuns' records with three
   * parsed JSON columns 50 ms. SQLite writes REALs so that they read back as the same number.
   */
  listRunColumns(query: RunQuery = {}): RunColumns {
    const columns = JSON.parse(this.#allRunColumnsJson()) as RunColumns;
    if (query.target === undefined && query.runname === undefined) return columns;
    const target = percentMatcher(query.target);
    const runname = percentMatcher(query.runname);
    const rows: number[] = [];
    for (let i = 0; i < columns.id.length; i++) if (target(columns.target[i]!) && runname(columns.runname[i]!)) rows.push(i);
    return pickRunColumns(columns, rows);
  }

  /** listRunColumns as JSON text: SQLite's own when nothing is filtered out. */
  runColumnsJson(query: RunQuery = {}): string {
    if (query.target === undefined && query.runname === undefined) return this.#allRunColumnsJson();
    return JSON.stringify(this.listRunColumns(query));
  }

  /**
   * Every aggregate takes the rows in the subquery's order (8 ms over 10,000 runs; an ORDER BY
   * inside each aggregate, which sorts again, twice that). The SQL text is read plucked only (the
   * statement cache shares a statement per text).
   */
  #allRunColumnsJson(): string {
    const list = (column: string, as = column) => `'${as}', json_group_array(${column})`;
    return this.#sql
      .get(
        `SELECT json_object(${list('id')}, ${list('target')}, ${list('runname')}, ${list('state')}, ${list('status')},
                ${list('total')}, ${list('created')}, ${list('updated')}, ${list('closed_at', 'closedAt')}, ${list('json(counts)', 'counts')})
         FROM (SELECT * FROM runs ORDER BY created DESC, id DESC)`,
      )
      .pluck()
      .get() as string;
  }

  /** Stores what a batch recomputed; a locked run keeps its state. */
  updateSummary(id: number, s: RunSummary): void {
    this.#sql
      .get(
        `UPDATE runs SET state = CASE WHEN state = 'locked' THEN state ELSE ? END,
           status = ?, counts = ?, total = ?, started = ?, ended = ?, updated = ?
         WHERE id = ?`,
      )
      .run(s.state, s.status, JSON.stringify(s.counts), s.total, s.started, s.ended, s.updated, id);
  }

  /**
   * Sets the state; `locked` records who and when (and, `closing`, that the run is closed), any
   * other state clears the lock and opens a closed run again.
   */
  setState(id: number, state: RunState, who: string, now: number, closing = false): void {
    const locked = state === 'locked';
    this.#sql
      .get(
        `UPDATE runs SET state = ?, locked_by = ?, locked_at = ?, updated = ?,
           closed_at = CASE WHEN ? THEN ? WHEN ? THEN closed_at ELSE NULL END WHERE id = ?`,
      )
      .run(state, locked ? who : null, locked ? now : null, now, closing ? 1 : 0, now, locked ? 1 : 0, id);
  }

  /** Records the run's parameters (replacing what an earlier `trellis run` of it recorded). */
  setParams(id: number, params: Record<string, string>, now: number): void {
    this.#sql.get(`UPDATE runs SET params = ?, updated = ? WHERE id = ?`).run(JSON.stringify(params), now, id);
  }

  /** Deletes the run's row (its database file is the caller's). */
  deleteRun(id: number): void {
    this.#sql.get(`DELETE FROM runs WHERE id = ?`).run(id);
  }

  /** The area's last change number: every insert, update and removal of a run takes a new one. */
  readChangeSeq(): number {
    return (this.#sql.get(`SELECT seq FROM change_counter WHERE id = 1`).get() as { seq: number }).seq;
  }

  /** Runs created or changed after change number `seq`, newest first. */
  listRunsChangedAfter(seq: number): RunRecord[] {
    const rows = this.#sql
      // The index named: without statistics SQLite would walk every run in creation order
      // instead of picking the few that changed.
      .get(`SELECT * FROM runs INDEXED BY runs_change_seq WHERE change_seq > ? ORDER BY created DESC, id DESC`)
      .all(seq) as RunRow[];
    return rows.map(mapRunRow);
  }

  /** Ids of runs removed after change number `seq`. */
  listRemovedRunsAfter(seq: number): number[] {
    const rows = this.#sql
      .get(`SELECT id FROM removed_runs INDEXED BY removed_runs_change_seq WHERE change_seq > ? ORDER BY id`)
      .all(seq) as Array<{ id: number }>;
    return rows.map((r) => r.id);
  }

  /**
   * Runs `fn` in one read transaction: its queries see one snapshot (WAL), so a change number
   * read there matches the rows read with it.
   */
  read<T>(fn: () => T): T {
    return runInReadTransaction(this.#db, this.#sql, fn);
  }

  /** Runs `fn` in one write transaction (or the one already open): see runInWriteTransaction. */
  transaction<T>(fn: () => T): T {
    return runInWriteTransaction(this.#db, this.#sql, fn);
  }

  /** Closes the connection; the object is unusable afterwards. */
  close(): void {
    this.#db.close();
  }
}
