/** Where a resumed or signed-off job starts (runner/resume-point.ts), step records in, index out. */
import t from 'tap';
import type { Step } from '../../src/config/types.js';
import type { StepRecord, TestDetail } from '../../src/model/records.js';
import { continuationPoint, failedStepIndex, restartableAtOrBefore, resumePoint, startPointOf } from '../../src/runner/resume-point.js';

const loc = { file: 'testconfig', line: 1 };
const step = (name: string, extra: Partial<Step> = {}): Step => ({ name, command: 'true', loc, ...extra });
const rec = (name: string, status: string, state: StepRecord['state'] = 'COMPLETED'): StepRecord => ({
  testId: 1,
  name,
  seq: 0,
  state,
  status,
  exitCode: 0,
  start: 0,
  end: 0,
  logfile: '',
  comment: '',
  pid: null,
  procStart: null,
});
const detail = (steps: StepRecord[], extra: Partial<TestDetail> = {}): TestDetail =>
  ({ testname: 'rel', itempath: '', state: 'COMPLETED', status: 'FAIL', steps, data: [], rules: [], ...extra }) as TestDetail;

// build → provision {restartable=no} → test → deploy
const FLOW = [step('build'), step('provision', { restartable: false }), step('test'), step('deploy')];

t.test('the failed step: the first that did not pass or never ran', async (t) => {
  t.equal(failedStepIndex(FLOW, [rec('build', 'PASS'), rec('provision', 'WARN'), rec('test', 'FAIL')]), 2);
  t.equal(failedStepIndex(FLOW, [rec('build', 'PASS'), rec('provision', 'PASS', 'KILLED')]), 1, 'killed counts as failed');
  t.equal(failedStepIndex(FLOW, [rec('build', 'PASS')]), 1, 'never ran');
  t.equal(
    failedStepIndex(
      FLOW,
      FLOW.map((s) => rec(s.name, 'PASS')),
    ),
    4,
    'all passed',
  );
});

t.test('a resume never starts at a {restartable=no} step: the last restartable one before it', async (t) => {
  t.equal(restartableAtOrBefore(FLOW, 2), 2);
  t.equal(restartableAtOrBefore(FLOW, 1), 0, 'provision is not restartable: build');
  const chain = [step('a', { restartable: false }), step('b', { restartable: false }), step('c')];
  t.equal(restartableAtOrBefore(chain, 1), 0, 'none before it is: the beginning');
  t.equal(resumePoint(FLOW, detail([rec('build', 'PASS'), rec('provision', 'FAIL')])), 0);
  t.equal(resumePoint(FLOW, detail([rec('build', 'PASS'), rec('provision', 'PASS'), rec('test', 'FAIL')])), 2);
  t.equal(resumePoint(FLOW, detail(FLOW.map((s) => rec(s.name, 'PASS')))), 0, 'all passed: from the beginning');
});

t.test('--from-step picks the step, not one after the failed step', async (t) => {
  const d = detail([rec('build', 'PASS'), rec('provision', 'PASS'), rec('test', 'FAIL')]);
  t.equal(resumePoint(FLOW, d, 'build'), 0);
  t.equal(resumePoint(FLOW, d, 'provision'), 0, 'moved back over the non-restartable step');
  t.equal(resumePoint(FLOW, d, 'nosuch'), 2, 'a name this test lacks: its failed step');
  t.throws(() => resumePoint(FLOW, d, 'deploy'), {
    code: 'BAD_VALUE',
    message: /--from-step deploy: rel did not pass step test, which comes before it/,
  });
});

t.test('start points: parked, going on after a sign-off, resumed, from the start', async (t) => {
  const manual = [step('build'), step('sign', { manual: true }), step('deploy')];
  t.equal(continuationPoint(manual, [rec('build', 'PASS'), rec('sign', 'PASS')]), 2);
  t.same(
    startPointOf(manual, detail([rec('build', 'PASS'), rec('sign', 'MANUAL', 'WAITING')], { state: 'WAITING', status: 'MANUAL' }), {
      resume: false,
    }),
    {
      startAt: 0,
      reset: false,
      parked: true,
    },
  );
  t.same(
    startPointOf(manual, detail([rec('build', 'PASS'), rec('sign', 'PASS')], { state: 'WAITING', status: 'n/a' }), { resume: false }),
    {
      startAt: 2,
      reset: false,
      parked: false,
    },
  );
  const failed = detail([rec('build', 'PASS'), rec('sign', 'PASS'), rec('deploy', 'FAIL')]);
  t.same(startPointOf(manual, failed, { resume: true }), { startAt: 2, reset: true, parked: false });
  t.same(startPointOf(manual, failed, { resume: false }), { startAt: 0, reset: undefined, parked: false }, 'no --resume: a plain rerun');
  t.same(startPointOf(manual, undefined, { resume: true }), { startAt: 0, reset: undefined, parked: false });
});
