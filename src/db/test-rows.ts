/** Typed queries on a run database's `tests` table: one row per test (itempath '') and item. */
import type { CellRecord, TestQuery, TestRecord, TestRegistration } from '../model/records.js';
import { parseTestPattern } from '../model/pattern.js';
import { ACTIVE_STATES, type TestState } from '../model/states.js';
import type { StatementCache } from './statements.js';

/** The active states as an SQL list (fixed names, never user input). */
const ACTIVE_SQL = [...ACTIVE_STATES].map((st) => `'${st}'`).join(', ');

interface TestRow {
  id: number;
  testname: string;
  itempath: string;
  state: string;
  status: string;
  comment: string;
  host: string;
  pid: number | null;
  rundir: string;
  priority: number;
  start: number | null;
  end: number | null;
  duration: number | null;
  agent_id: number | null;
  launcher: string;
  job_id: string;
  launch_id: string;
  item_vars: string;
  owner: string;
  description: string;
  tags: string;
  external: number;
  updated: number;
}

/** How many rows (toplevel, or items of one test) have this state and status. */
export interface StateCount {
  state: TestState;
  status: string;
  count: number;
}

/** First start and last end over some rows (null when none has one). */
export interface TimeSpan {
  minStart: number | null;
  maxEnd: number | null;
}

/** The columns of a CellRecord: what the dashboard's matrix shows, and nothing it does not. */
const CELL_COLUMNS = 'id, testname, itempath, state, status';

/** Table access for `tests`; `runId` goes into every record. */
export class TestRows {
  readonly #sql: StatementCache;
  readonly #runId: number;

  constructor(sql: StatementCache, runId: number) {
    this.#sql = sql;
    this.#runId = runId;
  }

  #mapRow(row: TestRow): TestRecord {
    return {
      id: row.id,
      runId: this.#runId,
      testname: row.testname,
      itempath: row.itempath,
      state: row.state as TestState,
      status: row.status,
      comment: row.comment,
      host: row.host,
      pid: row.pid,
      rundir: row.rundir,
      priority: row.priority,
      start: row.start,
      end: row.end,
      duration: row.duration,
      agentId: row.agent_id,
      launcher: row.launcher,
      jobId: row.job_id,
      launchId: row.launch_id,
      // Most rows are tests without items: skip the parse (it shows in reports of 10,000 rows).
      itemVars: row.item_vars === '{}' ? {} : (JSON.parse(row.item_vars) as Record<string, string>),
      owner: row.owner,
      description: row.description,
      tags: row.tags,
      ...(row.external ? { external: true } : {}),
      updated: row.updated,
    };
  }

  #one(row: unknown): TestRecord | undefined {
    return row === undefined ? undefined : this.#mapRow(row as TestRow);
  }

  /** The row with this id. */
  get(id: number): TestRecord | undefined {
    return this.#one(this.#sql.get(`SELECT * FROM tests WHERE id = ?`).get(id));
  }

  /** The row of a test ('' itempath) or item. */
  find(testname: string, itempath: string): TestRecord | undefined {
    return this.#one(this.#sql.get(`SELECT * FROM tests WHERE testname = ? AND itempath = ?`).get(testname, itempath));
  }

  /** Inserts a new NOT_STARTED/n/a row. */
  insert(reg: TestRegistration, time: number): TestRecord {
    const row = this.#sql
      .get(
        `INSERT INTO tests (testname, itempath, rundir, priority, item_vars, owner, description, tags, updated, external)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(
        reg.testname,
        reg.itempath,
        reg.rundir,
        reg.priority,
        JSON.stringify(reg.itemVars ?? {}),
        reg.owner ?? '',
        reg.description ?? '',
        reg.tags ?? '',
        time,
        reg.external ? 1 : 0,
      );
    return this.#mapRow(row as TestRow);
  }

  /** Takes a registration's rundir, priority and metadata; state and status stay. */
  updateRegistration(id: number, reg: TestRegistration): TestRecord {
    const row = this.#sql
      .get(
        `UPDATE tests SET rundir = ?, priority = ?, item_vars = ?, owner = ?, description = ?, tags = ?
         WHERE id = ? RETURNING *`,
      )
      .get(reg.rundir, reg.priority, JSON.stringify(reg.itemVars ?? {}), reg.owner ?? '', reg.description ?? '', reg.tags ?? '', id);
    return this.#mapRow(row as TestRow);
  }

  /** Writes the changeable columns of a record back to its row. */
  save(t: TestRecord): void {
    this.#sql
      .get(
        `UPDATE tests SET state = ?, status = ?, comment = ?, host = ?, pid = ?, rundir = ?,
           start = ?, "end" = ?, duration = ?, agent_id = ?, launcher = ?, job_id = ?, launch_id = ?, updated = ?
         WHERE id = ?`,
      )
      .run(
        t.state,
        t.status,
        t.comment,
        t.host,
        t.pid,
        t.rundir,
        t.start,
        t.end,
        t.duration,
        t.agentId,
        t.launcher,
        t.jobId,
        t.launchId,
        t.updated,
        t.id,
      );
  }

  /** Rows matching the query, ordered by test name and item path. */
  list(query: TestQuery = {}): TestRecord[] {
    const sql = query.toplevelOnly
      ? `SELECT * FROM tests WHERE itempath = '' ORDER BY testname, itempath`
      : `SELECT * FROM tests ORDER BY testname, itempath`;
    const pattern = query.pattern ? parseTestPattern(query.pattern) : undefined;
    const states = query.state?.length ? new Set(query.state) : undefined;
    const statuses = query.status?.length ? new Set(query.status) : undefined;
    // A state filter uses the index: the runner asks for KILLREQ rows every second. Rows by id
    // are how a runner reads back the jobs that ended elsewhere, several at a time.
    const rows = query.ids
      ? this.#byIds(query.ids)
      : states
        ? [...states]
            .flatMap((s) => this.#sql.get(`SELECT * FROM tests WHERE state = ?`).all(s) as TestRow[])
            .sort((a, b) => (a.testname === b.testname ? cmp(a.itempath, b.itempath) : cmp(a.testname, b.testname)))
        : (this.#sql.get(sql).all() as TestRow[]);
    if (!pattern && !states && !statuses && !query.toplevelOnly) return rows.map((r) => this.#mapRow(r));
    return rows
      .filter((r) => !query.toplevelOnly || r.itempath === '')
      .filter((r) => states === undefined || states.has(r.state))
      .filter((r) => statuses === undefined || statuses.has(r.status))
      .filter((r) => pattern === undefined || pattern.matchItem(r.testname, r.itempath))
      .map((r) => this.#mapRow(r));
  }

  /** The rows of `ids` that exist, in name order. */
  #byIds(ids: readonly number[]): TestRow[] {
    const want = [...new Set(ids)];
    if (want.length === 0) return [];
    const rows = this.#sql.get(`SELECT * FROM tests WHERE id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(want)) as TestRow[];
    return rows.sort((a, b) => (a.testname === b.testname ? cmp(a.itempath, b.itempath) : cmp(a.testname, b.testname)));
  }

  /** Rows in any of `states`. */
  listInStates(states: Iterable<TestState>): TestRecord[] {
    const stmt = this.#sql.get(`SELECT * FROM tests WHERE state = ? ORDER BY testname, itempath`);
    return [...states].flatMap((s) => (stmt.all(s) as TestRow[]).map((r) => this.#mapRow(r)));
  }

  /** Every row as a cell (the change feed's full answer), ordered by test name and item path. */
  listCells(): CellRecord[] {
    return this.#sql.get(`SELECT ${CELL_COLUMNS} FROM tests ORDER BY testname, itempath`).all() as CellRecord[];
  }

  /** The cells of the rows with these ids that exist, ordered by test name and item path. */
  listCellsIn(ids: readonly number[]): CellRecord[] {
    if (ids.length === 0) return [];
    // One statement whatever the number of ids: they go in as one JSON array.
    return this.#sql
      .get(`SELECT ${CELL_COLUMNS} FROM tests WHERE id IN (SELECT value FROM json_each(?)) ORDER BY testname, itempath`)
      .all(JSON.stringify(ids)) as CellRecord[];
  }

  /** The item rows of a test, as cells. */
  listItemCells(testname: string): CellRecord[] {
    return this.#sql
      .get(`SELECT ${CELL_COLUMNS} FROM tests WHERE testname = ? AND itempath <> '' ORDER BY itempath`)
      .all(testname) as CellRecord[];
  }

  /** Toplevel rows counted by state and status: what the run's summary is made of. */
  countToplevel(): StateCount[] {
    return this.#sql.get(`SELECT state, status, count FROM toplevel_counts`).all() as StateCount[];
  }

  /** A test's items counted by state and status: what its roll-up is made of (empty: no items). */
  countItems(testname: string): StateCount[] {
    return this.#sql.get(`SELECT state, status, count FROM item_counts WHERE testname = ?`).all(testname) as StateCount[];
  }

  /** First start and last end over the toplevel rows. */
  readToplevelTimes(): TimeSpan {
    return this.#sql.get(`SELECT min(start) AS minStart, max("end") AS maxEnd FROM tests WHERE itempath = ''`).get() as TimeSpan;
  }

  /** First start and last end over a test's items. */
  readItemTimes(testname: string): TimeSpan {
    return this.#sql
      .get(`SELECT min(start) AS minStart, max("end") AS maxEnd FROM tests WHERE testname = ? AND itempath <> ''`)
      .get(testname) as TimeSpan;
  }

  /** True when the test has item rows. */
  /**
   * True when a test without items, or an item, is LAUNCHED, RUNNING or KILLREQ: one indexed
   * lookup that stops at the first, where listing the active rows read them all on every batch.
   */
  hasActiveLeaf(): boolean {
    return (
      this.#sql
        .get(
          `SELECT 1 FROM tests t WHERE t.state IN (${ACTIVE_SQL})
             AND (t.itempath <> '' OR NOT EXISTS (SELECT 1 FROM item_counts c WHERE c.testname = t.testname))
           LIMIT 1`,
        )
        .get() !== undefined
    );
  }

  hasItems(testname: string): boolean {
    return this.#sql.get(`SELECT 1 FROM item_counts WHERE testname = ? LIMIT 1`).get(testname) !== undefined;
  }

  /** Notes activity on a row (a step or a value recorded); false when there is no such row. */
  touch(id: number, time: number): boolean {
    return this.#sql.get(`UPDATE tests SET updated = max(updated, ?) WHERE id = ?`).run(time, id).changes === 1;
  }

  /** Deletes a row; its steps and data go with it (foreign keys cascade). */
  delete(id: number): void {
    this.#sql.get(`DELETE FROM tests WHERE id = ?`).run(id);
  }

  /** Deletes a test's items. */
  deleteItems(testname: string): void {
    this.#sql.get(`DELETE FROM tests WHERE testname = ? AND itempath <> ''`).run(testname);
  }
}

/** Byte-order comparison, as SQLite's ORDER BY on TEXT. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
