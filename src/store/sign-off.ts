/**
 * The two write ops of the workflows (docs/workflows.md): a sign-off of a manual step (`approve`)
 * and a resume's partial reset (`resume`). Each checks and changes rows inside the batch's
 * transaction, so two approvers racing get one sign-off and one clear refusal.
 */
import type { RunDb } from '../db/run-db.js';
import { displayName } from '../model/display-name.js';
import type { TestRecord, WriteOp } from '../model/records.js';
import { TrellisError } from '../util/errors.js';
import { resetFields, saveTest, type ChangeTracker } from './test-changes.js';

type ApproveOp = Extract<WriteOp, { kind: 'approve' }>;
type ResumeOp = Extract<WriteOp, { kind: 'resume' }>;

/** Passes or fails the test's waiting manual step; a reject ends the test COMPLETED/FAIL. */
export function applySignOff(rdb: RunDb, test: TestRecord, op: ApproveOp, who: string, tracker: ChangeTracker): void {
  const label = displayName(test);
  const steps = rdb.details.listSteps(test.id);
  const waiting = test.state === 'WAITING' ? steps.find((s) => s.state === 'WAITING') : undefined;
  if (waiting === undefined) {
    const signed = test.state === 'WAITING' ? [...steps].reverse().find((s) => s.state === 'COMPLETED') : undefined;
    throw new TrellisError(
      'NOT_WAITING',
      signed
        ? `${label} is not waiting for a sign-off: step ${signed.name} was signed off already (${signed.comment || signed.status})`
        : `${label} is not waiting for a sign-off (it is ${test.state}/${test.status})`,
      signed
        ? 'it goes on with its next step as soon as a runner has it: run `trellis run` for the run again if none is running'
        : 'only a test parked on a {manual} step can be approved or rejected; `trellis list tests --state WAITING` shows them',
    );
  }
  if (op.step !== '' && op.step !== waiting.name) {
    throw new TrellisError(
      'NO_STEP',
      `${label} waits at step ${waiting.name}, not at step ${op.step}`,
      `approve step ${waiting.name}, or leave the step out`,
    );
  }
  const approved = op.verdict === 'approve';
  const by = who === '' ? 'someone' : who;
  const said = op.comment === '' ? '' : `: ${op.comment}`;
  rdb.details.upsertStep({
    kind: 'step',
    opId: op.opId,
    testId: test.id,
    name: waiting.name,
    state: 'COMPLETED',
    status: approved ? 'PASS' : 'FAIL',
    comment: `${approved ? 'approved' : 'rejected'} by ${by}${said}`,
    time: op.time,
  });
  const after: TestRecord = approved
    ? { ...test, status: 'n/a', comment: `step ${waiting.name} approved by ${by}${said}`, updated: Math.max(test.updated, op.time) }
    : {
        ...test,
        state: 'COMPLETED',
        status: 'FAIL',
        comment: `step ${waiting.name} rejected by ${by}${said}`,
        end: op.time,
        agentId: null,
        pid: null,
        updated: Math.max(test.updated, op.time),
      };
  saveTest(rdb, test, after, op.time, who, tracker);
  rdb.log.addEvent(op.time, test.id, approved ? 'approve' : 'reject', `step ${waiting.name}${said}`, who);
}

/** A resume's reset: the steps before `fromStep` stay (with their logs and rule summaries), the rest go. */
export function applyResume(rdb: RunDb, test: TestRecord, op: ResumeOp, who: string, tracker: ChangeTracker): void {
  const steps = rdb.details.listSteps(test.id);
  const from = steps.find((s) => s.name === op.fromStep);
  const kept = from === undefined ? steps : steps.filter((s) => s.seq < from.seq);
  const dropped = from === undefined ? [] : steps.filter((s) => s.seq >= from.seq);
  if (from !== undefined) rdb.details.deleteStepsFrom(test.id, from.seq);
  for (const s of dropped) rdb.rules.deleteStep(test.id, s.name);
  saveTest(rdb, test, resetFields(test, op.time), op.time, who, tracker);
  const keptText = kept.length === 0 ? 'kept no steps' : `kept steps ${kept.map((s) => `${s.name} (${s.status})`).join(', ')}`;
  rdb.log.addEvent(op.time, test.id, 'resume', `${keptText}; runs again from step ${op.fromStep}`, who);
}
