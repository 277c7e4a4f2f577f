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

/**
 * The columns of a test row in the order of a TestTuple: lists read rows as arrays (`raw`), which
 * for 100,000 rows took 69 MB and 0.7 s where row objects took 193 MB and 1.5 s.
 */
const TEST_COLUMNS =
  'id, testname, itempath, state, status, comment, host, pid, rundir, priority, start, "end", duration, agent_id, launcher, job_id, launch_id, item_vars, owner, description, tags, external, updated';
type TestTuple = [
  id: number,
  testname: string,
  itempath: string,
  state: string,
  status: string,
  comment: string,
  host: string,
  pid: number | null,
  rundir: string,
  priority: number,
  start: number | null,
  end: number | null,
  duration: number | null,
  agentId: number | null,
  launcher: string,
  jobId: string,
  launchId: string,
  itemVars: string,
  owner: string,
  description: string,
  tags: string,
  external: number,
  updated: number,
];

/** Name order of two tuples (test name, then item path). */
const byName = (a: TestTuple, b: TestTuple) => (a[1] === b[1] ? cmp(a[2], b[2]) : cmp(a[1], b[1]));

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

  /** #mapRow of a row read as a TestTuple: the same record, property for property. */
  #mapTuple(r: TestTuple): TestRecord {
    return {
      id: r[0],
      runId: this.#runId,
      testname: r[1],
      itempath: r[2],
      state: r[3] as TestState,
      status: r[4],
      comment: r[5],
      host: r[6],
      pid: r[7],
      rundir: r[8],
      priority: r[9],
      start: r[10],
      end: r[11],
      duration: r[12],
      agentId: r[13],
      launcher: r[14],
      jobId: r[15],
      launchId: r[16],
      itemVars: r[17] === '{}' ? {} : (JSON.parse(r[17]) as Record<string, string>),
      owner: r[18],
      description: r[19],
      tags: r[20],
      ...(r[21] ? { external: true } : {}),
      updated: r[22],
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
    const pattern = query.pattern ? parseTestPattern(query.pattern) : undefined;
    const states = query.state?.length ? new Set(query.state) : undefined;
    const statuses = query.status?.length ? new Set(query.status) : undefined;
    const out: TestRecord[] = [];
    const take = (r: TestTuple) => {
      if (query.toplevelOnly && r[2] !== '') return;
      if (states !== undefined && !states.has(r[3])) return;
      if (statuses !== undefined && !statuses.has(r[4])) return;
      if (pattern !== undefined && !pattern.matchItem(r[1], r[2])) return;
      out.push(this.#mapTuple(r));
    };
    // A state filter uses the index: the runner asks for KILLREQ rows every second. Rows by id
    // are how a runner reads back the jobs that ended elsewhere, several at a time.
    if (query.ids || states) {
      const rows = query.ids
        ? this.#byIds(query.ids)
        : [...(states ?? [])].flatMap((s) => this.#tuples(`SELECT ${TEST_COLUMNS} FROM tests WHERE state = ?`, s)).sort(byName);
      for (const r of rows) take(r);
      return out;
    }
    // Every row, one at a time: a run of 100,000 items is never held twice (as rows, then records).
    const sql = query.toplevelOnly
      ? `SELECT ${TEST_COLUMNS} FROM tests WHERE itempath = '' ORDER BY testname, itempath`
      : `SELECT ${TEST_COLUMNS} FROM tests ORDER BY testname, itempath`;
    for (const r of this.#sql.get(sql).raw(true).iterate() as IterableIterator<TestTuple>) take(r);
    return out;
  }

  /** The rows a statement reads, as tuples; its SQL text names TEST_COLUMNS, so it is read raw only. */
  #tuples(sql: string, ...params: unknown[]): TestTuple[] {
    return this.#sql
      .get(sql)
      .raw(true)
      .all(...params) as TestTuple[];
  }

  /** The rows of `ids` that exist, in name order. */
  #byIds(ids: readonly number[]): TestTuple[] {
    const want = [...new Set(ids)];
    if (want.length === 0) return [];
    return this.#tuples(`SELECT ${TEST_COLUMNS} FROM tests WHERE id IN (SELECT value FROM json_each(?))`, JSON.stringify(want)).sort(
      byName,
    );
  }

  /** Rows in any of `states`. */
  listInStates(states: Iterable<TestState>): TestRecord[] {
    const sql = `SELECT ${TEST_COLUMNS} FROM tests WHERE state = ? ORDER BY testname, itempath`;
    return [...states].flatMap((s) => this.#tuples(sql, s).map((r) => this.#mapTuple(r)));
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
