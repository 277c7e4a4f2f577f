/**
 * Where a job starts when it runs again (docs/workflows.md#resume): a resume starts at the test's
 * failed step, or at `--from-step NAME`, moved back over `{restartable=no}` steps; a test approved
 * after its sign-off goes on with the step after it. Pure: steps and their records in, an index out.
 */
import type { Step } from '../config/types.js';
import type { StepRecord, TestDetail } from '../model/records.js';
import { awaitsSignOff, isSuccess } from '../model/states.js';
import { TrellisError } from '../util/errors.js';
import type { StartPoint } from './scheduler.js';

/** Index of the first step that did not pass (or never ran); `steps.length` when all passed. */
export function failedStepIndex(steps: readonly Step[], recorded: readonly StepRecord[]): number {
  const byName = new Map(recorded.map((r) => [r.name, r]));
  const i = steps.findIndex((s) => {
    const r = byName.get(s.name);
    return r === undefined || r.state !== 'COMPLETED' || !isSuccess(r.status);
  });
  return i < 0 ? steps.length : i;
}

/**
 * The last restartable step at or before `index` (0 when there is none): a `{restartable=no}`
 * step is never where a resume starts, so the resume starts at the nearest step before it that is.
 */
export function restartableAtOrBefore(steps: readonly Step[], index: number): number {
  let i = Math.min(index, steps.length - 1);
  while (i > 0 && steps[i]!.restartable === false) i--;
  return Math.max(i, 0);
}

/**
 * Where a resume of `test` starts: `fromStep` when given, else its failed step; moved back over
 * steps that are not restartable. All passed (the test failed for another reason): the beginning.
 * `fromStep` after the failed step is refused: the steps between would be kept without passing.
 */
export function resumePoint(steps: readonly Step[], test: Pick<TestDetail, 'steps' | 'testname' | 'itempath'>, fromStep?: string): number {
  const failed = failedStepIndex(steps, test.steps);
  let at = failed >= steps.length ? 0 : failed;
  if (fromStep !== undefined) {
    const i = steps.findIndex((s) => s.name === fromStep);
    if (i < 0) return restartableAtOrBefore(steps, at);
    if (i > failed) {
      const label = test.itempath === '' ? test.testname : `${test.testname}/${test.itempath}`;
      throw new TrellisError(
        'BAD_VALUE',
        `--from-step ${fromStep}: ${label} did not pass step ${steps[failed]!.name}, which comes before it`,
        `resume ${label} from step ${steps[failed]!.name} or an earlier one (or leave --from-step out)`,
      );
    }
    at = i;
  }
  return restartableAtOrBefore(steps, at);
}

/** After a sign-off: the step after the last one recorded (the approved manual step). */
export function continuationPoint(steps: readonly Step[], recorded: readonly StepRecord[]): number {
  const names = new Set(recorded.map((r) => r.name));
  let last = -1;
  steps.forEach((s, i) => {
    if (names.has(s.name)) last = i;
  });
  return last + 1;
}

/**
 * Where a job of a row starts in this run: parked (its sign-off still due), going on after an
 * approval, resumed (`--resume`), or from the beginning.
 */
export function startPointOf(
  steps: readonly Step[],
  detail: TestDetail | undefined,
  opts: { resume: boolean; fromStep?: string | undefined },
): StartPoint {
  if (detail === undefined) return { startAt: 0, reset: undefined, parked: false };
  if (detail.state === 'WAITING') {
    if (awaitsSignOff(detail)) return { startAt: 0, reset: false, parked: true };
    return { startAt: continuationPoint(steps, detail.steps), reset: false, parked: false };
  }
  if (!opts.resume || isSuccess(detail.status) || detail.steps.length === 0) return { startAt: 0, reset: undefined, parked: false };
  const startAt = resumePoint(steps, detail, opts.fromStep);
  return { startAt, reset: true, parked: false };
}
