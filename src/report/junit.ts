/**
 * JUnit XML for Jenkins (design §8): `<testsuites>` holding one `<testsuite>` for the run, one
 * `<testcase>` per item (or per test without items). Jenkins splits `classname` at its last dot
 * into package and class, so the classname is `<target>.<test>` with every `.` and `/` inside
 * them made `_`: package = target, class = test, case = item path. The mapping and the status
 * table are in docs/jenkins.md. Valid against junit-10.xsd: times with 3 decimals, no `skipped`
 * on `<testsuites>`, escaped text instead of CDATA, invalid characters replaced.
 */
import type { StepRecord, StepRuleRecord, TestDetail } from '../model/records.js';
import { describePlacement, displayName } from '../model/display-name.js';
import type { LogExcerpt } from '../util/log-excerpt.js';
import { countCases, groupCases, judgeTest, type Verdict } from './cases.js';
import { xmlAttr, xmlText } from './clean-text.js';
import type { ReportInput } from './reporters.js';
import { failedRules, ruleExpectation, ruleFinding } from '../model/rule-text.js';
import { isoTime } from './table.js';

/** How much of each step log a case's `system-out` shows: its start and its end. */
export const JUNIT_LOG_CAPS = { headBytes: 4096, tailBytes: 12288 } as const;
/** How much of the failing step's log's end goes into `<failure>` / `<error>` (characters). */
const FAILURE_TAIL_CHARS = 4096;

/** `linux/x86_64` + `unit.fast` → `linux_x86_64.unit_fast`: always exactly one dot. */
export function junitClassname(target: string, testname: string): string {
  return `${flattenName(target)}.${flattenName(testname)}`;
}

function flattenName(name: string): string {
  return name.replace(/[./]/g, '_');
}

/** The log files formatJunit shows: every step of the cases that carry output, and each failing step. */
export function junitLogsWanted(input: Omit<ReportInput, 'logs'>): string[] {
  const files = new Set<string>();
  for (const g of groupCases(input.tests, input.itemParents)) {
    for (const c of g.cases) {
      const v = judgeTest(c);
      if (showsOutput(input.logMode, v)) for (const s of c.steps) if (s.logfile) files.add(s.logfile);
      if (v.step?.logfile && (v.outcome === 'failed' || v.outcome === 'error')) files.add(v.step.logfile);
    }
  }
  return [...files];
}

/** The whole report as one XML document. */
export function formatJunit(input: ReportInput): string {
  const { run } = input;
  const groups = groupCases(input.tests, input.itemParents);
  const cases = groups.flatMap((g) => g.cases);
  const verdicts = new Map(cases.map((c) => [c, judgeTest(c)]));
  const counts = countCases(groups, (c) => verdicts.get(c)!);
  const hosts = [...new Set(cases.map((c) => c.host).filter((h) => h !== ''))].sort();
  const span = timeSpan(cases);
  const name = `${run.target}/${run.runname}`;
  const totals = `tests="${counts.total}" failures="${counts.failed}" errors="${counts.errors}"`;
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlAttr(name)}" ${totals} time="${seconds(span.seconds)}">`,
    `  <testsuite name="${xmlAttr(name)}" ${totals} skipped="${counts.skipped}" time="${seconds(span.seconds)}"` +
      ` timestamp="${isoTime(span.start ?? run.started ?? run.created)}" hostname="${xmlAttr(hosts.join(',') || 'unknown')}">`,
    '    <properties>',
  ];
  const props: Array<[string, string]> = [
    ['trellis.target', run.target],
    ['trellis.runname', run.runname],
    ['trellis.run.state', run.state],
    ['trellis.run.status', run.status],
    ['trellis.hosts', hosts.join(',')],
    ['trellis.launchers', [...new Set(cases.map((c) => c.launcher).filter((l) => l !== ''))].sort().join(',')],
    ...Object.entries(run.keys).map(([k, v]): [string, string] => [`trellis.key.${k}`, v]),
    ...Object.entries(run.params ?? {}).map(([k, v]): [string, string] => [`trellis.param.${k}`, v]),
  ];
  // Where each test ran when it ran elsewhere (JUnit has no properties per test case).
  for (const c of cases) {
    if (c.launcher === '' || c.launcher === 'local') continue;
    props.push([`trellis.job.${junitClassname(run.target, c.testname)}.${c.itempath || c.testname}`, describePlacement(c)]);
  }
  if (run.lockedBy) props.push(['trellis.run.lockedBy', run.lockedBy]);
  for (const [k, v] of props) out.push(`      <property name="${xmlAttr(k)}" value="${xmlAttr(v)}"/>`);
  out.push('    </properties>');
  for (const c of cases) out.push(formatCase(c, verdicts.get(c)!, input));
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}

function formatCase(c: TestDetail, v: Verdict, input: ReportInput): string {
  const head = `    <testcase classname="${xmlAttr(junitClassname(input.run.target, c.testname))}" name="${xmlAttr(c.itempath || c.testname)}" time="${seconds(c.duration)}"`;
  const body: string[] = [];
  if (v.outcome === 'skipped') body.push(`      <skipped message="${xmlAttr(v.message)}"/>`);
  else if (v.outcome === 'failed' || v.outcome === 'error') {
    const tag = v.outcome === 'failed' ? 'failure' : 'error';
    const detail = v.step ? failureDetail(v.step, input.logs.get(v.step.logfile), failedRules(c.rules, v.step.name)) : '';
    body.push(`      <${tag} type="${xmlAttr(c.status)}" message="${xmlAttr(v.message)}">${xmlText(detail)}</${tag}>`);
  }
  if (showsOutput(input.logMode, v)) body.push(`      <system-out>${xmlText(caseOutput(c, input.logs))}</system-out>`);
  return body.length === 0 ? `${head}/>` : `${head}>\n${body.join('\n')}\n    </testcase>`;
}

function showsOutput(mode: ReportInput['logMode'], v: Verdict): boolean {
  return mode === 'all' || (mode === 'failed' && (v.outcome === 'failed' || v.outcome === 'error'));
}

/** The failure's body: the log rules that were not met and their first lines, where the log is, then its last lines. */
function failureDetail(step: StepRecord, log: LogExcerpt | undefined, failed: readonly StepRuleRecord[]): string {
  const rules = failed.map((r) =>
    [
      `log rule rule-${r.num} (${r.kind}) ${JSON.stringify(r.description)}: expected ${ruleExpectation(r)}, found ${ruleFinding(r)}`,
      ...r.lines.map((l) => `  line ${l.line}: ${l.text}`),
    ].join('\n'),
  );
  const head = rules.length > 0 ? `${rules.join('\n')}\n` : '';
  return head + logDetail(step, log);
}

function logDetail(step: StepRecord, log: LogExcerpt | undefined): string {
  if (!step.logfile) return `step ${step.name} has no log`;
  const where = `step ${step.name}: log ${step.logfile}`;
  if (log === undefined) return where;
  if (log.error !== undefined) return `${where} (not readable: ${log.error})`;
  const text = log.cut > 0 ? log.tail : log.head;
  if (text === '') return `${where} (empty)`;
  let last = text.length > FAILURE_TAIL_CHARS ? text.slice(text.length - FAILURE_TAIL_CHARS) : text;
  if (last.length < text.length) last = last.slice(last.indexOf('\n') + 1);
  return `${where} (${bytes(log.size)}); its last lines:\n${last}`;
}

/** A case's `system-out`: what it was, then each step with the head and tail of its log. */
function caseOutput(c: TestDetail, logs: ReadonlyMap<string, LogExcerpt>): string {
  const lines = [
    `${displayName(c)}: ${c.state} ${c.status}${c.comment ? ` - ${c.comment}` : ''}`,
    `host ${describePlacement(c)}; started ${isoTime(c.start) ?? '-'}; ${seconds(c.duration)} s; folder ${c.rundir || '-'}`,
  ];
  for (const s of c.steps) {
    const code = s.exitCode === null ? 'no exit code' : `exit code ${s.exitCode}`;
    lines.push(
      `--- step ${s.name}: ${s.state} ${s.status}, ${code}, ${seconds(s.end === null ? null : s.end - s.start)} s, log ${s.logfile || '-'}`,
    );
    const log = s.logfile ? logs.get(s.logfile) : undefined;
    if (log === undefined) continue;
    if (log.error !== undefined) {
      lines.push(`(log not readable: ${log.error})`);
      continue;
    }
    lines.push(withoutFinalNewline(log.head));
    if (log.cut > 0) {
      lines.push(
        `[... ${bytes(log.cut)} of ${bytes(log.size)} cut here; the whole log is ${s.logfile} ...]`,
        withoutFinalNewline(log.tail),
      );
    }
  }
  return lines.join('\n');
}

function withoutFinalNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** First start and the time from it to the last end, over the cases that ran. */
function timeSpan(cases: readonly TestDetail[]): { start: number | null; seconds: number } {
  let start: number | null = null;
  let end: number | null = null;
  for (const c of cases) {
    if (c.start !== null && (start === null || c.start < start)) start = c.start;
    const e = c.end ?? c.start;
    if (e !== null && (end === null || e > end)) end = e;
  }
  return { start, seconds: start === null || end === null ? 0 : end - start };
}

/** Seconds with exactly 3 decimals, never negative (junit-10.xsd allows no more, and no sign). */
function seconds(s: number | null): string {
  return s === null || !(s > 0) ? '0.000' : s.toFixed(3);
}

/** `52,428,800 bytes` (not toLocaleString: that builds a number formatter per call). */
function bytes(n: number): string {
  return `${String(n).replace(/\B(?=(\d{3})+$)/g, ',')} bytes`;
}
