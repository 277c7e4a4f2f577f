/**
 * What every report format agrees on: which rows are cases (each item, or a test without items;
 * a test's rolled-up row is not one), and what each case's state and status mean to a CI server
 * (passed, failed, error, skipped) with a one-line message naming the step at fault.
 */
import type { StepRecord, TestDetail } from '../model/records.js';
import { awaitsSignOff, isSuccess } from '../model/states.js';
import { describeFailedRules, failedRules } from '../model/rule-text.js';

export type Outcome = 'passed' | 'failed' | 'error' | 'skipped';

/** How one case ended, for people and CI. */
export interface Verdict {
  outcome: Outcome;
  /** one line: status, the step at fault and its exit code, the comment; '' for a plain pass */
  message: string;
  /** the step that failed or was stopped, when there is one */
  step?: StepRecord;
}

/** A test and the cases it contributes: its items, or itself when it has none. */
export interface CaseGroup {
  testname: string;
  /** the test's own row (rolled up from its items when it has some); absent when filtered out */
  row?: TestDetail;
  /** the rows that are cases, in list order */
  cases: TestDetail[];
  /** true when the cases are items */
  hasItems: boolean;
}

/** Cases counted by outcome. */
export interface CaseCounts {
  total: number;
  passed: number;
  failed: number;
  errors: number;
  skipped: number;
}

const ACTIVE = new Set(['LAUNCHED', 'RUNNING', 'KILLREQ']);
const NEVER_RAN = new Set(['n/a', 'PREQ_FAIL', 'ZERO_ITEMS', 'SKIP']);
const DEFAULT_SKIP_REASON: Record<string, string> = {
  'n/a': 'not started',
  PREQ_FAIL: 'a prerequisite did not pass',
  ZERO_ITEMS: 'the test has no items',
  SKIP: 'skipped',
};

/** The outcome of a test or item row (the table in docs/jenkins.md). */
export function classifyOutcome(state: string, status: string): Outcome {
  if (state === 'KILLED' || state === 'INCOMPLETE' || status === 'TIMED_OUT' || status === 'DEAD') return 'error';
  if (state === 'COMPLETED') {
    if (isSuccess(status) && status !== 'SKIP') return 'passed';
    return status === 'SKIP' || status === 'PREQ_FAIL' || status === 'ZERO_ITEMS' ? 'skipped' : 'failed';
  }
  // A never-ran reason is not a failure of this test; anything else recorded on it is.
  if (state === 'NOT_STARTED') return NEVER_RAN.has(status) ? 'skipped' : 'failed';
  // Still running (a report of a live run), DELETED, ARCHIVED: no result yet.
  return 'skipped';
}

// Rows are not changed once read: a reporter may ask about the same row more than once.
const judged = new WeakMap<TestDetail, Verdict>();

/** The outcome of a row with its message and the step at fault. */
export function judgeTest(t: TestDetail): Verdict {
  let v = judged.get(t);
  if (v === undefined) {
    v = judgeRow(t);
    judged.set(t, v);
  }
  return v;
}

function judgeRow(t: TestDetail): Verdict {
  const outcome = classifyOutcome(t.state, t.status);
  const comment = t.comment.trim();
  if (outcome === 'passed') return { outcome, message: t.status === 'PASS' ? '' : joinParts(t.status, comment) };
  if (outcome === 'skipped' && t.state === 'WAITING') {
    // Parked on a manual step: pending, with the prompt (its comment) for whoever reads the report.
    const step = t.steps.find((s) => s.state === 'WAITING');
    const message = awaitsSignOff(t)
      ? `waiting for a sign-off${comment ? `: ${comment.replace(/^sign-off due at /, '')}` : ''}`
      : `signed off, waiting for a runner to go on${comment ? `: ${comment}` : ''}`;
    return withStep({ outcome, message }, step);
  }
  if (outcome === 'skipped') {
    // The launcher's [skip] comments already start with 'skipped: '.
    const said = comment.replace(/^skipped:\s*/, '');
    const reason = ACTIVE.has(t.state)
      ? `still ${t.state} when the report was made`
      : said || DEFAULT_SKIP_REASON[t.status] || `${t.state}/${t.status}`;
    return { outcome, message: ACTIVE.has(t.state) || t.status === 'n/a' ? reason : `${t.status}: ${reason}` };
  }
  if (outcome === 'error') {
    const step = t.steps.find((s) => s.state === 'KILLED' || s.state === 'RUNNING');
    const where = step ? `; step ${step.name} was running` : '';
    return withStep({ outcome, message: `${joinParts(`${t.state}/${t.status}`, comment)}${where}` }, step);
  }
  const step = t.steps.find((s) => s.status === t.status) ?? t.steps.find((s) => !isSuccess(s.status) && s.status !== 'n/a');
  if (step === undefined) return { outcome, message: joinParts(t.status, comment || 'no step failed') };
  const code = step.exitCode === null ? 'no exit code' : `exit code ${step.exitCode}`;
  const failed = failedRules(t.rules, step.name);
  if (failed.length > 0) {
    // The runner's own comment says the same of this step: the rules say it better.
    const own = comment === '' || comment.startsWith(`step ${step.name} `) || comment.startsWith(`step ${step.name}:`);
    return {
      outcome,
      message: `${t.status}: step ${step.name}, ${code}, log rules: ${describeFailedRules(failed)}${own ? '' : `; ${comment}`}`,
      step,
    };
  }
  // The launcher's own comment repeats step and code: say them once.
  const extra = comment === '' || comment === `step ${step.name} exited ${step.exitCode}` ? '' : `; ${comment}`;
  return { outcome, message: `${t.status}: step ${step.name}, ${code}${extra}`, step };
}

/** Groups rows (in list order: a test, then its items) into tests and their cases. */
export function groupCases(rows: readonly TestDetail[], itemParents: ReadonlySet<string> = new Set()): CaseGroup[] {
  const groups: CaseGroup[] = [];
  let current: CaseGroup | undefined;
  for (const row of rows) {
    if (current === undefined || current.testname !== row.testname) {
      current = { testname: row.testname, cases: [], hasItems: itemParents.has(row.testname) };
      groups.push(current);
    }
    if (row.itempath === '') current.row = row;
    else {
      current.hasItems = true;
      current.cases.push(row);
    }
  }
  for (const g of groups) if (!g.hasItems && g.row) g.cases.push(g.row);
  return groups;
}

/** Counts the cases of the groups by outcome. */
export function countCases(groups: readonly CaseGroup[], verdictOf: (t: TestDetail) => Verdict = judgeTest): CaseCounts {
  const counts: CaseCounts = { total: 0, passed: 0, failed: 0, errors: 0, skipped: 0 };
  for (const g of groups) {
    for (const c of g.cases) {
      counts.total++;
      const o = verdictOf(c).outcome;
      if (o === 'passed') counts.passed++;
      else if (o === 'failed') counts.failed++;
      else if (o === 'error') counts.errors++;
      else counts.skipped++;
    }
  }
  return counts;
}

/** A test with items: its rolled-up row's outcome, and a message counting its items' outcomes. */
export function judgeItems(row: TestDetail, items: readonly TestDetail[]): Verdict {
  const c = countCases([{ testname: row.testname, row, cases: [...items], hasItems: true }]);
  const message = `${c.total} items: ${c.passed} passed, ${c.failed} failed, ${c.errors} errors, ${c.skipped} skipped`;
  return { outcome: classifyOutcome(row.state, row.status), message };
}

function joinParts(head: string, comment: string): string {
  return comment === '' ? head : `${head}: ${comment}`;
}

function withStep(v: Verdict, step: StepRecord | undefined): Verdict {
  return step === undefined ? v : { ...v, step };
}
