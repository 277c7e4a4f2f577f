/**
 * `trellis approve`: signs off (or rejects) the manual step a test waits at. The sign-off is one
 * write op the store checks inside its transaction (store/sign-off.ts); the runner of the run, if
 * one is alive, learns of it from the store within a second and goes on with the test; if none
 * is, the approval stays recorded and the next `trellis run` of the run goes on from there.
 */
import { randomUUID } from 'node:crypto';
import type { Area } from '../config/types.js';
import { displayName } from '../model/display-name.js';
import type { RunRecord, TestRecord, WriteOptions } from '../model/records.js';
import { awaitsSignOff, MAX_SIGN_OFF_COMMENT } from '../model/states.js';
import type { Store } from '../store/store.js';
import { TrellisError } from '../util/errors.js';
import { checkSignOff } from '../model/access.js';
import { policyOfSetup } from '../config/access-policy.js';

export interface ApproveRequest {
  /** `TEST` or `TEST/ITEM`; a test with items signs off every item that waits */
  test: string;
  /** the step that waits; '' for whichever it is */
  step: string;
  reject: boolean;
  comment: string;
  /** the login name checked against [setup] approvers */
  user: string;
  write: WriteOptions;
  now: number;
}

/**
 * Refuses a user [setup] approvers does not name (NOT_APPROVER), or where it is not set, a user
 * [setup] admins does not name (NOT_ADMIN): said before anything is sent; the store checks again
 * as the user the request proves.
 */
export function checkApprover(area: { setup: Partial<Pick<Area['setup'], 'approvers' | 'admins'>> }, user: string): void {
  checkSignOff(policyOfSetup(area.setup), user);
}

/** Signs off the step(s) `req` names; returns the rows signed off, in order. */
export async function approveTests(
  store: Store,
  run: RunRecord,
  area: Pick<Area, 'setup' | 'configFile'>,
  req: ApproveRequest,
): Promise<TestRecord[]> {
  checkApprover(area, req.user);
  if (req.comment.length > MAX_SIGN_OFF_COMMENT) {
    throw new TrellisError('BAD_VALUE', `--comment is ${req.comment.length} characters long`, `keep it under ${MAX_SIGN_OFF_COMMENT}`);
  }
  const targets = await pickTargets(store, run, req.test);
  const done: TestRecord[] = [];
  for (const row of targets) {
    await store.write(
      run.id,
      [
        {
          kind: 'approve',
          opId: `approve-${randomUUID()}`,
          testId: row.id,
          step: req.step,
          verdict: req.reject ? 'reject' : 'approve',
          comment: req.comment,
          time: req.now,
        },
      ],
      req.write,
    );
    done.push(row);
  }
  return done;
}

/** The rows `TEST[/ITEM]` names: the item, the test itself, or a test's items that wait. */
async function pickTargets(store: Store, run: RunRecord, spec: string): Promise<TestRecord[]> {
  const slash = spec.indexOf('/');
  const testname = slash < 0 ? spec : spec.slice(0, slash);
  const itempath = slash < 0 ? '' : spec.slice(slash + 1);
  const rows = (await store.listTests(run.id)).filter((r) => r.testname === testname);
  const where = `${run.target}/${run.runname}`;
  if (rows.length === 0) {
    throw new TrellisError(
      'NO_TEST',
      `run ${where} has no test ${testname}`,
      `\`trellis list tests -t ${run.target} -r ${run.runname}\` lists its tests`,
    );
  }
  const exact = rows.find((r) => r.itempath === itempath);
  if (exact === undefined) {
    throw new TrellisError('NO_TEST', `test ${testname} of run ${where} has no item ${itempath}`, 'name one of its items as TEST/ITEM');
  }
  const items = rows.filter((r) => r.itempath !== '');
  if (itempath !== '' || items.length === 0) return [exact];
  const waiting = items.filter((r) => awaitsSignOff(r));
  if (waiting.length === 0) {
    throw new TrellisError(
      'NOT_WAITING',
      `no item of ${displayName(exact)} is waiting for a sign-off (the test is ${exact.state}/${exact.status})`,
      'only a test parked on a {manual} step can be approved or rejected; `trellis list tests --state WAITING` shows them',
    );
  }
  return waiting;
}
