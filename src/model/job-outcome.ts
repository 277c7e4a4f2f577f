/**
 * How a job's steps and what its test reported about itself make the test's status: one rule for
 * the runner's own launcher, `trellis exec` on another host, and the reaper recovering a job whose
 * runner died after its steps had ended.
 */
import { worseStatus } from './states.js';

/** A step that ends with one of these ends its job: later steps do not run. */
export function endsJob(stepStatus: string): boolean {
  return stepStatus === 'FAIL' || stepStatus === 'ABORT';
}

/**
 * Whether a step's status ends its job, by the area's rule: Trellis' own areas stop on FAIL and
 * ABORT; areas read from megatest.config go on, as Megatest does, only after PASS or WARN.
 */
export function stepEndsJob(stepStatus: string, exitCodes: 'trellis' | 'megatest'): boolean {
  if (exitCodes === 'megatest') return stepStatus !== 'PASS' && stepStatus !== 'WARN';
  return endsJob(stepStatus);
}

/** What a test reported about itself (`trellis test-status`, `set-value`), read back at its end. */
export interface ReportedOutcome {
  status: string;
  comment: string;
  data: ReadonlyArray<{ name: string; value: string; status: string }>;
}

/**
 * The test's status: the worst of its steps' (`steps`, with the failing step's comment), of the
 * status it set itself, and of its judged values. A value recorded without an expected value is
 * information (status n/a) and never changes the outcome; neither does a reported `n/a`.
 */
export function judgeJob(
  steps: { status: string; comment: string },
  reported: ReportedOutcome | undefined,
): { status: string; comment: string } {
  let { status, comment } = steps;
  if (reported === undefined) return { status, comment };
  if (reported.status !== 'n/a' && worseStatus(status, reported.status) !== status) {
    status = reported.status;
    comment = reported.comment || `the test reported ${reported.status}`;
  }
  for (const d of reported.data) {
    if (d.status === 'n/a') continue;
    if (worseStatus(status, d.status) !== status) {
      status = d.status;
      comment = `value ${d.name}=${d.value} is ${d.status}`;
    }
  }
  return { status, comment };
}
