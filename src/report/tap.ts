/**
 * TAP version 14: one test point per test; a test with items is a subtest with one point per
 * item. Skipped and never-ran cases are `ok … # SKIP reason`; failures and errors are `not ok`.
 * Each point carries a YAML block: state, status, the step at fault, its exit code, duration,
 * host and log. Strings in YAML are written as JSON strings (valid YAML double-quoted scalars).
 */
import { describeParams } from '../model/run-params.js';
import type { TestDetail } from '../model/records.js';
import { countCases, groupCases, judgeItems, judgeTest, type CaseGroup, type Verdict } from './cases.js';
import { cleanLine, cleanText } from './clean-text.js';
import type { ReportInput } from './reporters.js';
import { isoTime } from './table.js';
import { termJson, termLine } from '../util/terminal-text.js';

/** The whole report as a TAP 14 stream. */
export function formatTap(input: ReportInput): string {
  const { run } = input;
  const groups = groupCases(input.tests, input.itemParents).filter((g) => g.cases.length > 0);
  const counts = countCases(groups);
  const out: string[] = [
    'TAP version 14',
    `# ${comment(`trellis ${run.target}/${run.runname}: run ${run.state}, status ${run.status}`)}`,
    ...(Object.keys(run.params ?? {}).length > 0 ? [`# ${comment(`parameters: ${describeParams(run.params)}`)}`] : []),
    `1..${groups.length}`,
  ];
  for (const [i, g] of groups.entries()) formatGroup(out, g, i + 1);
  out.push(
    `# ${counts.total} cases: ${counts.passed} passed, ${counts.failed} failed, ${counts.errors} errors, ${counts.skipped} skipped`,
    '',
  );
  return out.join('\n');
}

function formatGroup(out: string[], g: CaseGroup, n: number): void {
  if (!g.hasItems) {
    const c = g.cases[0]!;
    formatPoint(out, '', n, g.testname, c, judgeTest(c));
    return;
  }
  out.push(`# Subtest: ${description(g.testname)}`, `    1..${g.cases.length}`);
  const verdicts = g.cases.map(judgeTest);
  for (const [i, c] of g.cases.entries()) formatPoint(out, '    ', i + 1, c.itempath, c, verdicts[i]!);
  const bad = verdicts.some((v) => v.outcome === 'failed' || v.outcome === 'error');
  out.push(`${bad ? 'not ok' : 'ok'} ${n} - ${description(g.testname)}`, '  ---');
  if (g.row) out.push(`  message: ${yamlString(judgeItems(g.row, g.cases).message)}`, ...yamlFields(g.row, undefined).map((l) => `  ${l}`));
  out.push('  ...');
}

function formatPoint(out: string[], indent: string, n: number, name: string, c: TestDetail, v: Verdict): void {
  const ok = v.outcome === 'passed' || v.outcome === 'skipped';
  // A test parked on a sign-off is not skipped but pending: TAP's TODO says that.
  const skip = v.outcome === 'skipped' ? ` # ${c.state === 'WAITING' ? 'TODO' : 'SKIP'} ${comment(v.message)}` : '';
  out.push(`${indent}${ok ? 'ok' : 'not ok'} ${n} - ${description(name)}${skip}`, `${indent}  ---`);
  if (v.message) out.push(`${indent}  message: ${yamlString(v.message)}`);
  for (const line of yamlFields(c, v)) out.push(`${indent}  ${line}`);
  out.push(`${indent}  ...`);
}

/** The YAML lines (unindented) describing a row and the step at fault. */
function yamlFields(c: TestDetail, v: Verdict | undefined): string[] {
  const lines = [`state: ${c.state}`, `status: ${yamlString(c.status)}`];
  if (c.comment) lines.push(`comment: ${yamlString(c.comment)}`);
  if (c.host) lines.push(`host: ${yamlString(c.host)}`);
  if (c.start !== null) lines.push(`start: ${yamlString(isoTime(c.start)!)}`);
  if (c.duration !== null) lines.push(`duration: ${Number(c.duration.toFixed(3))}`);
  if (c.rundir) lines.push(`rundir: ${yamlString(c.rundir)}`);
  // The step at fault, else the last one that ran: where to look either way.
  const step = v === undefined ? undefined : (v.step ?? c.steps[c.steps.length - 1]);
  if (step) {
    lines.push(`step: ${yamlString(step.name)}`, `exitCode: ${step.exitCode === null ? 'null' : step.exitCode}`);
    if (step.logfile) lines.push(`log: ${yamlString(step.logfile)}`);
  }
  return lines;
}

/** A test point's description: one line, with `#` and `\` escaped as TAP 14 says. */
function description(name: string): string {
  return comment(name).replace(/\\/g, '\\\\').replace(/#/g, '\\#');
}

/** One line of TAP for a terminal as much as for a parser: C1, separators and bidi controls escaped too. */
function comment(text: string): string {
  return termLine(cleanLine(text));
}

/**
 * A YAML double-quoted scalar: JSON's string syntax is a subset of it, but YAML wants DEL and the
 * C1 controls escaped too (they are not printable there); termJson does, and the terminal's rule.
 */
function yamlString(text: string): string {
  return termJson(cleanText(text));
}
