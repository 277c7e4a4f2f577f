/**
 * The history queries and wrap/record jobs over main.db's history index: one test's outcomes,
 * the per-test summary `trellis check` judges, and a recorded job checked before it is stored.
 */
import type { OutcomeRows } from '../db/outcome-rows.js';
import { parseTestPattern } from '../model/pattern.js';
import type { HistoryQuery, OutcomeJob, OutcomeRecord, OutcomeSummary, OutcomeSummaryQuery } from '../model/records.js';
import { checkJobName } from '../model/outcome-check.js';
import { isSuccessfulOutcome } from '../model/states.js';
import { TrellisError } from '../util/errors.js';

/** Outcomes `history` returns when the query sets no limit. */
export const DEFAULT_HISTORY_LIMIT = 20;
/** Successes before the latest outcome that make a test's mean duration, unless asked otherwise. */
export const DEFAULT_BASELINE = 5;

/** One test's (or item's) outcomes, newest first. */
export function readHistory(rows: OutcomeRows, q: HistoryQuery): OutcomeRecord[] {
  const limit = q.limit ?? DEFAULT_HISTORY_LIMIT;
  return rows.history(q.testname, q.itempath ?? '', q.target, q.successOnly === true, limit);
}

/**
 * Per target, test and item matching the query: the latest outcome, the last success and the
 * mean duration of the successes before the latest. Items of run tests are left out unless the
 * pattern names items (`unit/%`): a test with items already shows their roll-up. Jobs recorded
 * by wrap/record count whatever their name.
 */
export function summarizeOutcomes(rows: OutcomeRows, q: OutcomeSummaryQuery): OutcomeSummary[] {
  const pattern = q.pattern === undefined || q.pattern.trim() === '' ? undefined : parseTestPattern(q.pattern);
  const namesItems = pattern !== undefined && namesItemsIn(pattern.source);
  const baseline = q.baseline ?? DEFAULT_BASELINE;
  const out: OutcomeSummary[] = [];
  for (const key of rows.listKeys(q.target)) {
    if (pattern !== undefined && !pattern.matchItem(key.testname, key.itempath)) continue;
    const stats = rows.readStats(key, baseline);
    if (stats === undefined) continue;
    if (key.itempath !== '' && stats.latest.kind === 'run' && !namesItems) continue;
    out.push({ ...key, ...stats });
  }
  return out;
}

/** True when a positive element of the pattern has an item part (`test/item`). */
function namesItemsIn(source: string): boolean {
  return source.split(',').some((e) => !e.trim().startsWith('~') && e.includes('/'));
}

const JOB_STATES: ReadonlySet<string> = new Set(['RUNNING', 'COMPLETED', 'KILLED']);

/** Checks a wrap/record job and turns it into its history entry; BAD_VALUE names what is wrong. */
export function toJobOutcome(job: OutcomeJob): OutcomeRecord {
  const itempath = job.itempath ?? '';
  const name = checkJobName(job.testname, itempath);
  if (!JOB_STATES.has(job.state)) throw new TrellisError('BAD_VALUE', `job state '${job.state}'`, 'use RUNNING, COMPLETED or KILLED');
  if (job.status.trim() === '') throw new TrellisError('BAD_VALUE', 'a job status must not be empty', 'use e.g. PASS or FAIL');
  if (!Number.isFinite(job.start) || (job.end !== null && !Number.isFinite(job.end))) {
    throw new TrellisError('BAD_VALUE', `job '${name}': start and end must be times in seconds since the epoch`, 'give numbers');
  }
  if (job.end !== null && job.end < job.start) {
    throw new TrellisError('BAD_VALUE', `job '${name}' ends before it starts`, 'give an end at or after the start');
  }
  return {
    kind: job.kind,
    runId: null,
    target: job.target ?? '',
    runname: '',
    testname: job.testname,
    itempath,
    state: job.state,
    status: job.status,
    success: isSuccessfulOutcome(job.state, job.status),
    host: job.host,
    start: job.start,
    end: job.end,
    duration: job.end === null ? null : job.end - job.start,
    comment: job.comment ?? '',
    time: job.start,
  };
}
