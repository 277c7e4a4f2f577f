/**
 * What a batch does to a run database, inside the caller's transaction: write ops (exactly once
 * by op id), registrations and removals. Callers roll parents up and refresh the run summary.
 */
import type { RunDb } from '../db/run-db.js';
import type { TestFields, TestRecord, TestRegistration, WriteOp } from '../model/records.js';
import { displayName } from '../model/display-name.js';
import { TEST_STATES } from '../model/states.js';
import { TrellisError } from '../util/errors.js';
import { applyResume, applySignOff } from './sign-off.js';
import { noteOutcome, resetFields, saveTest, type ChangeTracker } from './test-changes.js';

const STATE_NAMES: ReadonlySet<string> = new Set(TEST_STATES);
const STEP_STATES: ReadonlySet<string> = new Set(['RUNNING', 'COMPLETED', 'KILLED', 'WAITING']);

/**
 * Applies each op whose id has not been applied before. With `fence` (an exec's agent id), ops on a
 * row that agent no longer owns are dropped: a job requeued after its agent was taken for dead
 * belongs to the agent that runs it now, and a late word from the first one must not touch it.
 */
export function applyOps(rdb: RunDb, ops: readonly WriteOp[], who: string, tracker: ChangeTracker, fence?: number): void {
  let dropped = 0;
  for (const op of ops) {
    if (fence !== undefined && rdb.tests.get(op.testId)?.agentId !== fence) {
      dropped++;
      continue;
    }
    // The id goes in first: a retried batch, or a duplicate inside one, changes nothing twice.
    if (!rdb.log.claimOp(op.opId, op.time)) continue;
    switch (op.kind) {
      case 'test': {
        const before = requireTest(rdb, op.testId);
        if (op.ifState !== undefined && before.state !== op.ifState) break;
        saveTest(rdb, before, applyFields(before, op.set, op.time), op.time, who, tracker);
        break;
      }
      case 'reset': {
        const before = requireTest(rdb, op.testId);
        rdb.details.deleteFor(before.id);
        rdb.rules.deleteFor(before.id);
        saveTest(rdb, before, resetFields(before, op.time), op.time, who, tracker);
        break;
      }
      case 'resume':
        applyResume(rdb, requireTest(rdb, op.testId), op, who, tracker);
        break;
      case 'approve':
        applySignOff(rdb, requireTest(rdb, op.testId), op, who, tracker);
        break;
      case 'step':
        if (!STEP_STATES.has(op.state)) throw makeBadValueError(`step state '${op.state}'`, [...STEP_STATES]);
        touchTest(rdb, op.testId, op.time);
        rdb.details.upsertStep(op);
        // A step that starts (again) has no verdict on its log yet.
        if (op.state === 'RUNNING') rdb.rules.deleteStep(op.testId, op.name);
        break;
      case 'rules':
        touchTest(rdb, op.testId, op.time);
        rdb.rules.replace(op.testId, op.step, op.rules);
        break;
      case 'data':
        touchTest(rdb, op.testId, op.time);
        rdb.details.upsertData(op);
        break;
      default:
        throw makeBadValueError(`write op kind '${(op as { kind: unknown }).kind}'`, [
          'test',
          'step',
          'data',
          'rules',
          'reset',
          'resume',
          'approve',
        ]);
    }
  }
  if (dropped > 0) {
    const time = ops[0]!.time;
    rdb.log.addEvent(time, ops[0]!.testId, 'agent', `dropped ${dropped} late write(s) of agent ${fence}: the job is no longer its`, who);
  }
}

/** Adds missing rows as NOT_STARTED/n/a and updates the others' registration fields. */
export function registerRows(
  rdb: RunDb,
  regs: readonly TestRegistration[],
  time: number,
  who: string,
  tracker: ChangeTracker,
): TestRecord[] {
  const rows = regs.map((reg) => {
    const existing = rdb.tests.find(reg.testname, reg.itempath);
    if (existing !== undefined) return rdb.tests.updateRegistration(existing.id, reg);
    return insertRow(rdb, reg, time, who, tracker);
  });
  for (const reg of regs) {
    // An item needs its toplevel row: that is where it is rolled up and counted.
    if (reg.itempath !== '' && rdb.tests.find(reg.testname, '') === undefined) {
      insertRow(rdb, { testname: reg.testname, itempath: '', priority: reg.priority, rundir: '' }, time, who, tracker);
    }
  }
  return rows;
}

/** Deletes rows with their steps and data; removing a toplevel row removes its items too. */
export function removeRows(rdb: RunDb, testIds: readonly number[], time: number, who: string, tracker: ChangeTracker): void {
  for (const id of testIds) {
    const test = rdb.tests.get(id);
    if (test === undefined) continue;
    if (test.itempath === '') {
      // Each item gets its own event: the change feed learns of removed rows only from them.
      for (const item of rdb.tests.listItemCells(test.testname)) {
        rdb.log.addEvent(time, item.id, 'removed', `${item.testname}/${item.itempath}`, who);
      }
      rdb.tests.deleteItems(test.testname);
      tracker.toplevelChanged = true;
      tracker.removedTests.add(test.testname);
      for (const [key, change] of tracker.outcomes) if (change.testname === test.testname) tracker.outcomes.delete(key);
    } else {
      tracker.parents.add(test.testname);
      noteOutcome(tracker, test.testname, test.itempath, null);
    }
    rdb.tests.delete(id);
    rdb.log.addEvent(time, id, 'removed', displayName(test), who);
  }
}

function insertRow(rdb: RunDb, reg: TestRegistration, time: number, who: string, tracker: ChangeTracker): TestRecord {
  const row = rdb.tests.insert(reg, time);
  rdb.log.addEvent(time, row.id, 'state', `${row.state}/${row.status}`, who);
  if (row.itempath === '') tracker.toplevelChanged = true;
  tracker.parents.add(row.testname);
  return row;
}

function requireTest(rdb: RunDb, testId: number): TestRecord {
  const test = rdb.tests.get(testId);
  if (test === undefined) throw makeNoTestError(rdb, testId);
  return test;
}

function touchTest(rdb: RunDb, testId: number, time: number): void {
  if (!rdb.tests.touch(testId, time)) throw makeNoTestError(rdb, testId);
}

function makeNoTestError(rdb: RunDb, testId: number): TrellisError {
  return new TrellisError('NO_TEST', `run ${rdb.runId} has no test with id ${testId}`, 'register the test before writing to it');
}

function makeBadValueError(what: string, allowed: readonly string[]): TrellisError {
  return new TrellisError('BAD_VALUE', `unknown ${what}`, `use one of ${allowed.join(', ')}`);
}

/** The row after a `test` op: only the fields the op sets change. */
function applyFields(before: TestRecord, set: TestFields, time: number): TestRecord {
  if (set.state !== undefined && !STATE_NAMES.has(set.state)) throw makeBadValueError(`test state '${set.state}'`, TEST_STATES);
  if (set.status !== undefined && (typeof set.status !== 'string' || set.status === '')) {
    throw new TrellisError('BAD_VALUE', 'a test status must be a non-empty string', "use e.g. 'PASS' or 'FAIL'");
  }
  const after: TestRecord = { ...before, updated: Math.max(before.updated, time) };
  if (set.state !== undefined) after.state = set.state;
  if (set.status !== undefined) after.status = set.status;
  if (set.comment !== undefined) after.comment = set.comment;
  if (set.host !== undefined) after.host = set.host;
  if (set.pid !== undefined) after.pid = set.pid;
  if (set.start !== undefined) after.start = set.start;
  if (set.end !== undefined) after.end = set.end;
  if (set.agentId !== undefined) after.agentId = set.agentId;
  if (set.rundir !== undefined) after.rundir = set.rundir;
  if (set.launcher !== undefined) after.launcher = set.launcher;
  if (set.jobId !== undefined) after.jobId = set.jobId;
  if (set.launchId !== undefined) after.launchId = set.launchId;
  return after;
}
