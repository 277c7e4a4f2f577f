/**
 * Recovering what a dead runner or `trellis exec` left behind (design §6): each step's shell wrote
 * its exit code beside its log before anything reported it, so a step that ended is recorded with
 * its real status, and a job whose steps all ended (or one that failed, which ends a job) is
 * recorded COMPLETED with the status they make instead of INCOMPLETE/DEAD. A step still running
 * whose pid the database never got (it travels in the runner's next batch) gets the process group
 * its shell wrote first thing, so the reaper ends it like any other. Runs inside the reaper's
 * transaction.
 */
import type { RunDb } from '../db/run-db.js';
import type { StepRecord, TestRecord } from '../model/records.js';
import { judgeJob, stepEndsJob } from '../model/job-outcome.js';
import { statusFromExit, worseStatus } from '../model/states.js';
import { readJobSteps, readStepExit, readStepGroup, readStepVerdict, stepLogFile } from './job-files.js';

/** What the work folder says of a job whose process died. */
export interface Recovered {
  /** true when the job had ended: every step left its exit code, or one failed */
  ended: boolean;
  status: string;
  comment: string;
}

/**
 * Records the exit codes found for the test's steps (those the database still shows RUNNING, or
 * never saw), and the process group of the one still running when the database has none; says
 * whether the job had ended, and how.
 */
export function recoverSteps(rdb: RunDb, test: TestRecord, now: number): Recovered {
  const none: Recovered = { ended: false, status: 'n/a', comment: '' };
  if (test.rundir === '') return none;
  const job = readJobSteps(test.rundir);
  const recorded = new Map(rdb.details.listSteps(test.id).map((s) => [s.name, s]));
  // Without the job's own list, only the steps the database saw are known; a job is then known to
  // have ended only through a failing step.
  const names = job?.steps ?? [...recorded.keys()];
  let status = 'PASS';
  let comment = '';
  let ended = job !== undefined;
  for (const name of names) {
    const code = readStepExit(test.rundir, name);
    // A step with log rules counts once its log was judged; its verdict is its status.
    const verdict = job?.judged.has(name) ? readStepVerdict(test.rundir, name) : undefined;
    if (code === undefined || (job?.judged.has(name) && verdict === undefined)) {
      if (code === undefined) recordGroup(rdb, test, name, recorded.get(name), now);
      ended = false;
      break;
    }
    const stepStatus = verdict ?? (job?.exitCodes === 'megatest' ? (code === 0 ? 'PASS' : 'FAIL') : statusFromExit(code, null));
    const seen = recorded.get(name);
    if (seen === undefined || seen.state === 'RUNNING') recordStep(rdb, test, name, seen, stepStatus, code, now);
    status = worseStatus(status, stepStatus);
    if (stepEndsJob(stepStatus, job?.exitCodes ?? 'trellis')) {
      comment = verdict === undefined ? `step ${name} exited ${code}` : `step ${name}: its log rules gave ${verdict}`;
      ended = true;
      break;
    }
  }
  if (!ended) return none;
  const judged = judgeJob({ status, comment }, { status: test.status, comment: test.comment, data: rdb.details.listData(test.id) });
  return { ended: true, ...judged };
}

function recordStep(
  rdb: RunDb,
  test: TestRecord,
  name: string,
  seen: StepRecord | undefined,
  status: string,
  code: number,
  now: number,
): void {
  rdb.details.upsertStep({
    kind: 'step',
    opId: '',
    testId: test.id,
    name,
    state: 'COMPLETED',
    status,
    exitCode: code,
    logfile: seen?.logfile || stepLogFile(test.rundir, name),
    comment: status === 'PASS' ? '' : `exited ${code}, ${status} (recovered from its exit file)`,
    pid: null,
    procStart: null,
    time: now,
  });
}

/** Records the group a running step's shell wrote, unless the database knows the step otherwise. */
function recordGroup(rdb: RunDb, test: TestRecord, name: string, seen: StepRecord | undefined, now: number): void {
  if (seen !== undefined && (seen.state !== 'RUNNING' || seen.pid !== null)) return;
  const group = readStepGroup(test.rundir, name);
  if (group === undefined) return;
  rdb.details.upsertStep({
    kind: 'step',
    opId: '',
    testId: test.id,
    name,
    state: 'RUNNING',
    status: 'n/a',
    logfile: seen?.logfile || stepLogFile(test.rundir, name),
    pid: group.pid,
    procStart: group.procStart,
    time: seen?.start ?? now,
  });
}
