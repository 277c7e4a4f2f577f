/**
 * The rules for changing test rows inside a run-database transaction: every state or status
 * change lands in the change feed, durations follow start and end, and a test with items always
 * shows their roll-up.
 */
import type { RunDb } from '../db/run-db.js';
import type { StateCount } from '../db/test-rows.js';
import type { TestRecord } from '../model/records.js';
import { isFinal, rollUp } from '../model/states.js';

/** What one transaction changed, so the run summary is recomputed only when it can differ. */
export interface ChangeTracker {
  /** test names whose toplevel row must be rolled up from its items */
  parents: Set<string>;
  /** true once a toplevel row's state, status, start or end changed */
  toplevelChanged: boolean;
  /**
   * For the history index: `testname\0itempath` → the row now in a final state (to index), or
   * null (it left one, or was removed: drop its outcome).
   */
  outcomes: Map<string, OutcomeChange>;
  /** tests removed with their items: every outcome of theirs in the run goes */
  removedTests: Set<string>;
}

/** A row whose outcome the history index must take (`row`) or drop (`row` null). */
export interface OutcomeChange {
  testname: string;
  itempath: string;
  row: TestRecord | null;
}

/** A tracker with nothing changed yet. */
export function createTracker(): ChangeTracker {
  return { parents: new Set(), toplevelChanged: false, outcomes: new Map(), removedTests: new Set() };
}

/** Notes that a row's outcome must be indexed (`row`) or dropped (null). */
export function noteOutcome(tracker: ChangeTracker, testname: string, itempath: string, row: TestRecord | null): void {
  tracker.outcomes.set(`${testname}\0${itempath}`, { testname, itempath, row });
}

/** Saves `after` over `before`, with its duration, and logs a state or status change (at `time`). */
export function saveTest(rdb: RunDb, before: TestRecord, after: TestRecord, time: number, who: string, tracker: ChangeTracker): void {
  const duration = after.start !== null && after.end !== null ? after.end - after.start : null;
  const row = { ...after, duration };
  rdb.tests.save(row);
  const changed = before.state !== row.state || before.status !== row.status;
  if (changed) rdb.log.addEvent(time, row.id, 'state', `${row.state}/${row.status}`, who);
  // Final rows are (re)indexed on every save (a comment or time may have changed); a row that
  // leaves a final state (a reset for a rerun) takes its outcome out of the history.
  if (isFinal(row.state, row.status)) noteOutcome(tracker, row.testname, row.itempath, row);
  else if (isFinal(before.state, before.status)) noteOutcome(tracker, row.testname, row.itempath, null);
  if (row.itempath === '') {
    if (changed || before.start !== row.start || before.end !== row.end) tracker.toplevelChanged = true;
  }
  tracker.parents.add(row.testname);
}

/** Rolls the items of every test named in the tracker up into its toplevel row. */
export function rollUpParents(rdb: RunDb, tracker: ChangeTracker, time: number, who: string): void {
  // Rolling a parent up adds its own name again; work on a snapshot.
  for (const testname of [...tracker.parents]) {
    const groups = rdb.tests.countItems(testname);
    if (groups.length === 0) continue;
    const parent = rdb.tests.find(testname, '');
    if (parent === undefined) continue;
    const after = { ...parent, ...rollUpItems(rdb, parent, groups) };
    if (after.state === parent.state && after.status === parent.status && after.start === parent.start && after.end === parent.end) {
      continue;
    }
    saveTest(rdb, parent, { ...after, updated: Math.max(parent.updated, time) }, time, who, tracker);
  }
  tracker.parents.clear();
}

/** The state, status, start and end a test takes from its items. */
function rollUpItems(
  rdb: RunDb,
  parent: TestRecord,
  groups: readonly StateCount[],
): Pick<TestRecord, 'state' | 'status' | 'start' | 'end'> {
  const { state, status } = rollUp(groups);
  const allFinal = groups.every((g) => isFinal(g.state, g.status));
  // Times need a scan of the items: read them only when the test first starts or has ended.
  const needTimes = (state !== 'NOT_STARTED' && parent.start === null) || allFinal;
  const times = needTimes ? rdb.tests.readItemTimes(parent.testname) : { minStart: null, maxEnd: null };
  return {
    state,
    status,
    start: state === 'NOT_STARTED' ? null : (parent.start ?? times.minStart),
    end: allFinal ? times.maxEnd : null,
  };
}

/** The row after a `reset` op: ready to run again, nothing of the last attempt left. */
export function resetFields(before: TestRecord, time: number): TestRecord {
  return {
    ...before,
    state: 'NOT_STARTED',
    status: 'n/a',
    comment: '',
    host: '',
    pid: null,
    start: null,
    end: null,
    agentId: null,
    launcher: '',
    jobId: '',
    launchId: '',
    updated: Math.max(before.updated, time),
  };
}

/** Adds what `part` tracked (a savepoint's writes that stood) to `into`. */
export function mergeTracker(into: ChangeTracker, part: ChangeTracker): void {
  for (const name of part.parents) into.parents.add(name);
  into.toplevelChanged ||= part.toplevelChanged;
  for (const [key, change] of part.outcomes) into.outcomes.set(key, change);
  for (const name of part.removedTests) into.removedTests.add(name);
}
