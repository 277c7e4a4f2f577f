/** Typed queries on a run database's `steps` and `test_data` tables. */
import type { DataRecord, StepRecord, WriteOp } from '../model/records.js';
import type { StatementCache } from './statements.js';

type StepOp = Extract<WriteOp, { kind: 'step' }>;
type DataOp = Extract<WriteOp, { kind: 'data' }>;

interface StepRow {
  test_id: number;
  name: string;
  seq: number;
  state: string;
  status: string;
  exit_code: number | null;
  start: number;
  end: number | null;
  logfile: string;
  comment: string;
  pid: number | null;
  proc_start: number | null;
}

interface DataRow {
  test_id: number;
  name: string;
  value: string;
  expected: string | null;
  tol: string | null;
  units: string | null;
  status: string;
  comment: string;
  time: number;
}

function mapStepRow(r: StepRow): StepRecord {
  return {
    testId: r.test_id,
    name: r.name,
    seq: r.seq,
    state: r.state as StepRecord['state'],
    status: r.status,
    exitCode: r.exit_code,
    start: r.start,
    end: r.end,
    logfile: r.logfile,
    comment: r.comment,
    pid: r.pid,
    procStart: r.proc_start,
  };
}

function mapDataRow(r: DataRow): DataRecord {
  return {
    testId: r.test_id,
    name: r.name,
    value: r.value,
    expected: r.expected,
    tol: r.tol,
    units: r.units,
    status: r.status,
    comment: r.comment,
    time: r.time,
  };
}

/** The columns of a StepRecord and a DataRecord, named as the records name them. */
const STEP_COLUMNS =
  'test_id AS testId, name, seq, state, status, exit_code AS exitCode, start, "end", logfile, comment, pid, proc_start AS procStart';
const DATA_COLUMNS = 'test_id AS testId, name, value, expected, tol, units, status, comment, time';

// seq is the order of first appearance; RUNNING (re)starts a step, COMPLETED/KILLED ends it.
// Fields the op leaves out (exit code, log file, comment) keep what the row had.
const UPSERT_STEP = `
  INSERT INTO steps (test_id, name, seq, state, status, exit_code, start, "end", logfile, comment, pid, proc_start)
  VALUES (@testId, @name, (SELECT coalesce(max(seq), 0) + 1 FROM steps WHERE test_id = @testId),
          @state, @status, @exitCode, @time, @end, coalesce(@logfile, ''), coalesce(@comment, ''), @pid, @procStart)
  ON CONFLICT (test_id, name) DO UPDATE SET
    pid = CASE WHEN @hasPid THEN excluded.pid ELSE pid END,
    proc_start = CASE WHEN @hasPid THEN excluded.proc_start ELSE proc_start END,
    state = excluded.state,
    status = excluded.status,
    exit_code = CASE WHEN @hasExitCode THEN excluded.exit_code ELSE exit_code END,
    start = CASE WHEN excluded.state = 'RUNNING' THEN excluded.start ELSE start END,
    "end" = excluded."end",
    logfile = coalesce(@logfile, logfile),
    comment = coalesce(@comment, comment)`;

const UPSERT_DATA = `
  INSERT INTO test_data (test_id, name, value, expected, tol, units, status, comment, time)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (test_id, name) DO UPDATE SET
    value = excluded.value, expected = excluded.expected, tol = excluded.tol,
    units = excluded.units, status = excluded.status, comment = excluded.comment, time = excluded.time`;

/** Table access for a test's steps and recorded data. */
export class DetailRows {
  readonly #sql: StatementCache;

  constructor(sql: StatementCache) {
    this.#sql = sql;
  }

  /** Records a step's state, creating the step on first sight. */
  upsertStep(op: StepOp): void {
    this.#sql.get(UPSERT_STEP).run({
      testId: op.testId,
      name: op.name,
      state: op.state,
      status: op.status,
      exitCode: op.exitCode ?? null,
      hasExitCode: op.exitCode === undefined ? 0 : 1,
      time: op.time,
      end: op.state === 'RUNNING' || op.state === 'WAITING' ? null : op.time,
      logfile: op.logfile ?? null,
      comment: op.comment ?? null,
      pid: op.pid ?? null,
      procStart: op.procStart ?? null,
      hasPid: op.pid === undefined ? 0 : 1,
    });
  }

  /** Records (or replaces) one named value of a test. */
  upsertData(op: DataOp): void {
    this.#sql
      .get(UPSERT_DATA)
      .run(op.testId, op.name, op.value, op.expected ?? null, op.tol ?? null, op.units ?? null, op.status, op.comment ?? '', op.time);
  }

  /**
   * Marks the test's running steps KILLED at `time`. Their process groups stay recorded (a dead
   * runner's steps may still run on its host) unless `forgetPids`: the caller has ended them.
   */
  killRunningSteps(testId: number, time: number, forgetPids: boolean): void {
    const pids = forgetPids ? ', pid = NULL, proc_start = NULL' : '';
    this.#sql.get(`UPDATE steps SET state = 'KILLED', "end" = ?${pids} WHERE test_id = ? AND state = 'RUNNING'`).run(time, testId);
  }

  /** One test's steps a dead agent left running (KILLED, their groups still recorded), forgotten as they are given. */
  takeOrphansOf(testId: number): Array<{ pid: number; procStart: number | null }> {
    const rows = this.#sql
      .get(`SELECT pid, proc_start AS procStart FROM steps WHERE test_id = ? AND pid IS NOT NULL AND state = 'KILLED'`)
      .all(testId) as Array<{ pid: number; procStart: number | null }>;
    if (rows.length > 0)
      this.#sql
        .get(`UPDATE steps SET pid = NULL, proc_start = NULL WHERE test_id = ? AND pid IS NOT NULL AND state = 'KILLED'`)
        .run(testId);
    return rows;
  }

  /**
   * Steps left running by a dead runner or exec on `host`: KILLED in the database, their process
   * groups still recorded. Forgets them: whoever asks ends them.
   */
  takeOrphans(host: string): Array<{ pid: number; procStart: number | null }> {
    const rows = this.#sql
      .get(
        `SELECT s.pid AS pid, s.proc_start AS procStart FROM steps s JOIN tests t ON t.id = s.test_id
         WHERE s.pid IS NOT NULL AND s.state = 'KILLED' AND t.host = ?`,
      )
      .all(host) as Array<{ pid: number; procStart: number | null }>;
    if (rows.length > 0) {
      this.#sql
        .get(
          `UPDATE steps SET pid = NULL, proc_start = NULL
           WHERE pid IS NOT NULL AND state = 'KILLED' AND test_id IN (SELECT id FROM tests WHERE host = ?)`,
        )
        .run(host);
    }
    return rows;
  }

  /** Forgets a test's steps and data, for a rerun. */
  deleteFor(testId: number): void {
    this.#sql.get(`DELETE FROM steps WHERE test_id = ?`).run(testId);
    this.#sql.get(`DELETE FROM test_data WHERE test_id = ?`).run(testId);
  }

  /** Deletes a test's steps from order `seq` on (a resume keeps the ones before). */
  deleteStepsFrom(testId: number, seq: number): void {
    this.#sql.get(`DELETE FROM steps WHERE test_id = ? AND seq >= ?`).run(testId, seq);
  }

  /** A test's steps in the order they first appeared. */
  listSteps(testId: number): StepRecord[] {
    return (this.#sql.get(`SELECT * FROM steps WHERE test_id = ? ORDER BY seq`).all(testId) as StepRow[]).map(mapStepRow);
  }

  /** A test's recorded data by name. */
  listData(testId: number): DataRecord[] {
    return (this.#sql.get(`SELECT * FROM test_data WHERE test_id = ? ORDER BY name`).all(testId) as DataRow[]).map(mapDataRow);
  }

  /**
   * The steps of many tests (every test's when `testIds` is undefined), by test id, each test's in
   * order: one statement for a whole run instead of one per test.
   */
  listStepsOf(testIds?: readonly number[]): Map<number, StepRecord[]> {
    return groupByTest(this.#listOf(STEP_COLUMNS, 'steps', 'seq', testIds) as StepRecord[]);
  }

  /** The data of many tests (every test's when `testIds` is undefined), by test id, by name. */
  listDataOf(testIds?: readonly number[]): Map<number, DataRecord[]> {
    return groupByTest(this.#listOf(DATA_COLUMNS, 'test_data', 'name', testIds) as DataRecord[]);
  }

  // The columns come out under the records' names: no second object per row (20,000 steps in a
  // report of 10,000 tests).
  #listOf(columns: string, table: string, order: string, testIds: readonly number[] | undefined): unknown[] {
    if (testIds === undefined) return this.#sql.get(`SELECT ${columns} FROM ${table} ORDER BY test_id, ${order}`).all();
    return this.#sql
      .get(`SELECT ${columns} FROM ${table} WHERE test_id IN (SELECT value FROM json_each(?)) ORDER BY test_id, ${order}`)
      .all(JSON.stringify(testIds));
  }
}

/** Groups records (already in test id order) into lists per test id. */
function groupByTest<T extends { testId: number }>(records: T[]): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const r of records) {
    const list = out.get(r.testId);
    if (list === undefined) out.set(r.testId, [r]);
    else list.push(r);
  }
  return out;
}
