/** Typed queries on a run database's `step_rules` table: what the log rules found in each step's log. */
import type { RuleSummary, StepRuleRecord } from '../model/records.js';
import type { StatementCache } from './statements.js';

interface RuleRow {
  testId: number;
  step: string;
  num: number;
  kind: string;
  description: string;
  comparator: string;
  expected: string;
  count: number;
  ok: number;
  status: string;
  lines: string;
  measured: string | null;
  pass: number;
  fail: number;
  expired: number;
}

const COLUMNS =
  'test_id AS testId, step, num, kind, description, comparator, expected, count, ok, status, lines, measured, pass, fail, expired';

const INSERT = `
  INSERT OR REPLACE INTO step_rules
    (test_id, step, num, kind, description, comparator, expected, count, ok, status, lines, measured, pass, fail, expired)
  VALUES (@testId, @step, @num, @kind, @description, @comparator, @expected, @count, @ok, @status, @lines, @measured, @pass, @fail, @expired)`;

function mapRow(r: RuleRow): StepRuleRecord {
  return {
    testId: r.testId,
    step: r.step,
    num: r.num,
    kind: r.kind,
    description: r.description,
    comparator: r.comparator,
    expected: r.expected,
    count: r.count,
    ok: r.ok !== 0,
    status: r.status,
    lines: parseLines(r.lines),
    measured: r.measured,
    pass: r.pass,
    fail: r.fail,
    expired: r.expired !== 0,
  };
}

/** The stored lines, or none when the column holds something else (never trusted blindly). */
function parseLines(text: string): Array<{ line: number; text: string }> {
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value)) return [];
    return value.filter(
      (l): l is { line: number; text: string } =>
        typeof l === 'object' && l !== null && typeof l.line === 'number' && typeof l.text === 'string',
    );
  } catch {
    return [];
  }
}

/** Table access for the per-rule summaries of a test's steps. */
export class RuleRows {
  readonly #sql: StatementCache;

  constructor(sql: StatementCache) {
    this.#sql = sql;
  }

  /** Replaces the summary of one step's log with `rules`. */
  replace(testId: number, step: string, rules: readonly RuleSummary[]): void {
    this.deleteStep(testId, step);
    const insert = this.#sql.get(INSERT);
    for (const r of rules) {
      insert.run({
        testId,
        step,
        num: r.num,
        kind: r.kind,
        description: r.description,
        comparator: r.comparator,
        expected: r.expected,
        count: r.count,
        ok: r.ok ? 1 : 0,
        status: r.status,
        lines: JSON.stringify(r.lines),
        measured: r.measured,
        pass: r.pass,
        fail: r.fail,
        expired: r.expired ? 1 : 0,
      });
    }
  }

  /** Forgets one step's summary (the step runs again). */
  deleteStep(testId: number, step: string): void {
    this.#sql.get(`DELETE FROM step_rules WHERE test_id = ? AND step = ?`).run(testId, step);
  }

  /** Forgets every summary of a test (a rerun). */
  deleteFor(testId: number): void {
    this.#sql.get(`DELETE FROM step_rules WHERE test_id = ?`).run(testId);
  }

  /** A test's summaries, by step then rule number. */
  list(testId: number): StepRuleRecord[] {
    return (this.#sql.get(`SELECT ${COLUMNS} FROM step_rules WHERE test_id = ? ORDER BY step, num`).all(testId) as RuleRow[]).map(mapRow);
  }

  /** The summaries of many tests (every test's when `testIds` is undefined), by test id. */
  listOf(testIds?: readonly number[]): Map<number, StepRuleRecord[]> {
    const rows = (
      testIds === undefined
        ? this.#sql.get(`SELECT ${COLUMNS} FROM step_rules ORDER BY test_id, step, num`).all()
        : this.#sql
            .get(`SELECT ${COLUMNS} FROM step_rules WHERE test_id IN (SELECT value FROM json_each(?)) ORDER BY test_id, step, num`)
            .all(JSON.stringify(testIds))
    ) as RuleRow[];
    const out = new Map<number, StepRuleRecord[]>();
    for (const row of rows) {
      const r = mapRow(row);
      const list = out.get(r.testId);
      if (list === undefined) out.set(r.testId, [r]);
      else list.push(r);
    }
    return out;
  }
}
