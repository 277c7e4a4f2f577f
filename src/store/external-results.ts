/**
 * Results appended to a run from outside its area (`trellis result`, the API's appendResult): the
 * daily build's scripts report into a run opened for the day. A name that is no row of the run
 * gets one, marked external (never launched, rerun or reaped); a test of the area gets the result
 * on its own row unless it is being run now. Each result becomes write ops whose ids come from its
 * content, so sending the same result again is recognised and changes nothing.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { RunDb } from '../db/run-db.js';
import { displayName } from '../model/display-name.js';
import type { ExternalResult, RunRecord, WriteOp } from '../model/records.js';
import { KNOWN_STATUSES } from '../model/states.js';
import { TrellisError } from '../util/errors.js';
import { termLine } from '../util/terminal-text.js';
import { applyOps, registerRows } from './apply-ops.js';
import type { ChangeTracker } from './test-changes.js';

/** States a result may give its row. */
export const RESULT_STATES = ['RUNNING', 'COMPLETED', 'KILLED', 'INCOMPLETE'] as const;

/** Statuses a result may carry: Trellis' own, but not those only the runner gives. */
export const RESULT_STATUSES: readonly string[] = KNOWN_STATUSES.filter((s) => !['PREQ_FAIL', 'ZERO_ITEMS', 'MANUAL'].includes(s));

/** The name of the step that holds a result's log. */
export const RESULT_STEP = 'result';

/** Refuses a result that is not one (BAD_VALUE, naming the field). */
export function checkResult(r: ExternalResult): void {
  if (!(RESULT_STATES as readonly string[]).includes(r.state)) {
    throw new TrellisError(
      'BAD_VALUE',
      `state '${termLine(r.state)}' is not a state a result can have`,
      `use one of ${RESULT_STATES.join(', ')}`,
    );
  }
  if (!RESULT_STATUSES.includes(r.status)) {
    throw new TrellisError('BAD_VALUE', `status '${termLine(r.status)}' does not exist`, `use one of ${RESULT_STATUSES.join(', ')}`);
  }
  if (r.start !== null && r.end !== null && r.end < r.start) {
    throw new TrellisError('BAD_VALUE', 'the result ends before it starts', 'give --end at or after --start');
  }
}

/**
 * Appends `r` to the run in the caller's transaction; returns the row's id. `workDir` is where its
 * log goes (inside the run area: the names were checked where they came in).
 */
export function appendResultRows(
  rdb: RunDb,
  run: RunRecord,
  r: ExternalResult,
  workDir: string,
  now: number,
  who: string,
  tracker: ChangeTracker,
): number {
  checkResult(r);
  let row = rdb.tests.find(r.testname, r.itempath);
  if (row === undefined) {
    // A test of the area (the CLI says so) gets a row like the runner's; any other name is external.
    const reg = { testname: r.testname, itempath: r.itempath, priority: 0, rundir: workDir, ...(r.areaTest ? {} : { external: true }) };
    [row] = registerRows(rdb, [reg], now, who, tracker);
  } else if (!row.external && ['LAUNCHED', 'RUNNING', 'KILLREQ'].includes(row.state)) {
    throw new TrellisError(
      'RUN_BUSY',
      `${displayName(row)} of run ${run.target}/${run.runname} is ${row.state}: its runner records its result`,
      'wait until it has ended, or append the result under another name',
    );
  }
  const id = row!.id;
  // The same result, sent again, makes the same op ids: the store applies each op id once.
  const { areaTest: _areaTest, ...content } = r;
  const key = createHash('sha256')
    .update(JSON.stringify([run.id, content]))
    .digest('hex')
    .slice(0, 32);
  const start = r.start ?? now;
  const end = r.state === 'RUNNING' ? null : (r.end ?? Math.max(now, start));
  const ops: WriteOp[] = [];
  if (r.log !== undefined) {
    fs.mkdirSync(workDir, { recursive: true });
    const logfile = path.join(workDir, `${RESULT_STEP}.log`);
    fs.writeFileSync(logfile, r.log);
    ops.push({
      kind: 'step',
      opId: `r-${key}-log`,
      testId: id,
      name: RESULT_STEP,
      state: r.state === 'RUNNING' ? 'RUNNING' : 'COMPLETED',
      status: r.status,
      logfile,
      time: end ?? start,
    });
  }
  r.values.forEach((v, i) => {
    ops.push({ kind: 'data', opId: `r-${key}-v${i}`, testId: id, name: v.name, value: v.value, status: 'n/a', time: end ?? start });
  });
  ops.push({
    kind: 'test',
    opId: `r-${key}`,
    testId: id,
    set: { state: r.state, status: r.status, comment: r.comment, host: r.host, start, end, rundir: workDir },
    time: end ?? start,
  });
  applyOps(rdb, ops, who, tracker);
  return id;
}
