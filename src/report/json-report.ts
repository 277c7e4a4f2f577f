/**
 * `trellis report json`: the run and every test and item with its steps and values, in the
 * documented `--json` shapes (docs/cli.md), plus each row's outcome as JUnit and TAP see it.
 * Stable: fields are added, never renamed or removed.
 */
import { countCases, groupCases, judgeItems, judgeTest } from './cases.js';
import { runJson, testDetailJson } from './records-json.js';
import type { ReportInput } from './reporters.js';
import { isoTime } from './table.js';
import { termJson } from '../util/terminal-text.js';

/** The report as an object (what `formatJsonReport` prints). */
export function buildJsonReport(input: ReportInput) {
  const groups = groupCases(input.tests, input.itemParents);
  const cases = new Set(groups.flatMap((g) => g.cases));
  // A test's rolled-up row speaks for its items.
  const rolledUp = new Map(groups.filter((g) => g.hasItems && g.row).map((g) => [g.row!, judgeItems(g.row!, g.cases)]));
  return {
    generated: isoTime(input.now),
    run: { ...runJson(input.run), cases: countCases(groups) },
    tests: input.tests.map((t) => {
      const v = rolledUp.get(t) ?? judgeTest(t);
      return { ...testDetailJson(t), case: cases.has(t), outcome: v.outcome, message: v.message, step: v.step?.name ?? null };
    }),
  };
}

/** The report as indented JSON text. */
export function formatJsonReport(input: ReportInput): string {
  return `${termJson(buildJsonReport(input))}\n`;
}
