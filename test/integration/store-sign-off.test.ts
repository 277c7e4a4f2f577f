/**
 * The workflow write ops in a real direct store: a sign-off (`approve`) is checked and applied in
 * the store's transaction (not waiting, wrong step, a second sign-off), a reject ends the test and
 * keeps its comment as given, and a resume keeps the steps before its start and logs them.
 */
import t from 'tap';
import type { WriteOp } from '../../src/model/records.js';
import { approveTests, checkApprover } from '../../src/runner/approve.js';
import { makeStore, NIGHTLY, nextOpId, regsFor, rowOf, setOp } from '../unit/store-fixture.js';

const step = (testId: number, name: string, state: 'COMPLETED' | 'WAITING', status: string, time: number, comment = ''): WriteOp => ({
  kind: 'step',
  opId: nextOpId(),
  testId,
  name,
  state,
  status,
  comment,
  time,
});
const approve = (testId: number, stepName: string, verdict: 'approve' | 'reject', comment = ''): WriteOp => ({
  kind: 'approve',
  opId: nextOpId(),
  testId,
  step: stepName,
  verdict,
  comment,
  time: 1100,
});

/** A run with `rel` parked at step sign-off after build passed, and `other` still running. */
async function parked(t: Parameters<typeof makeStore>[0]) {
  const fx = makeStore(t);
  const run = await fx.store.ensureRun(NIGHTLY);
  const rows = await fx.store.registerTests(run.id, regsFor('rel', 'other', 'multi/a', 'multi/b'));
  const rel = rowOf(rows, 'rel');
  await fx.store.write(run.id, [
    setOp(rel.id, 'RUNNING', 'n/a', 1000),
    step(rel.id, 'build', 'COMPLETED', 'PASS', 1001),
    step(rel.id, 'sign-off', 'WAITING', 'MANUAL', 1002, 'Check the notes'),
    setOp(rel.id, 'WAITING', 'MANUAL', 1002, { comment: 'sign-off due at step sign-off: Check the notes', agentId: null }),
    setOp(rowOf(rows, 'other').id, 'RUNNING', 'n/a', 1000),
  ]);
  for (const name of ['multi/a', 'multi/b']) {
    const id = rowOf(rows, name).id;
    await fx.store.write(run.id, [step(id, 'ask', 'WAITING', 'MANUAL', 1003), setOp(id, 'WAITING', 'MANUAL', 1003)]);
  }
  return { ...fx, run, rows, rel };
}

t.test('approve: only a waiting test, only at its waiting step, only once', async (t) => {
  const { store, run, rows, rel } = await parked(t);
  await t.rejects(store.write(run.id, [approve(rowOf(rows, 'other').id, '', 'approve')]), {
    code: 'NOT_WAITING',
    message: /other is not waiting for a sign-off \(it is RUNNING\/n\/a\)/,
  });
  await t.rejects(store.write(run.id, [approve(rel.id, 'deploy', 'approve')]), {
    code: 'NO_STEP',
    message: /rel waits at step sign-off, not at step deploy/,
  });
  await store.write(run.id, [approve(rel.id, 'sign-off', 'approve', 'notes ok')], { who: 'alice@h1' });
  const after = await store.getTestById(run.id, rel.id);
  t.equal(`${after?.state}/${after?.status}`, 'WAITING/n/a', 'approved: it waits for a runner to go on');
  t.same(
    after?.steps.map((s) => `${s.name} ${s.state}/${s.status} ${s.comment}`),
    ['build COMPLETED/PASS ', 'sign-off COMPLETED/PASS approved by alice@h1: notes ok'],
  );
  await t.rejects(store.write(run.id, [approve(rel.id, '', 'approve')]), {
    code: 'NOT_WAITING',
    message: /step sign-off was signed off already/,
  });
  const log = (await store.events(run.id, 0)).filter((e) => e.kind === 'approve');
  t.same(
    log.map((e) => [e.who, e.detail, e.time]),
    [['alice@h1', 'step sign-off: notes ok', 1100]],
    'who and when in the run log',
  );
});

t.test('reject: the step and the test end FAIL with the comment kept as given', async (t) => {
  const { store, run, rel } = await parked(t);
  await store.write(run.id, [approve(rel.id, '', 'reject', 'bad\u001b[31m notes')], { who: 'bob@h2' });
  const after = await store.getTestById(run.id, rel.id);
  t.equal(`${after?.state}/${after?.status}`, 'COMPLETED/FAIL');
  t.equal(after?.comment, 'step sign-off rejected by bob@h2: bad\u001b[31m notes', 'stored as given; printing escapes it');
  t.equal(after?.end, 1100);
  t.equal(after?.steps[1]?.status, 'FAIL');
  t.equal((await store.events(run.id, 0)).filter((e) => e.kind === 'reject').length, 1);
});

t.test('approveTests: a test with items signs off each waiting item; approvers are checked first', async (t) => {
  const { store, run } = await parked(t);
  const area = { configFile: '/a/trellis.config', setup: { approvers: { users: ['alice'], loc: { file: '/a/trellis.config', line: 4 } } } };
  const req = { test: 'multi', step: '', reject: false, comment: '', user: 'mallory', write: { who: 'mallory@h' }, now: 1200 };
  await t.rejects(approveTests(store, run, area as never, req), {
    code: 'NOT_APPROVER',
    message: /user mallory may not sign off manual steps in this area: \[setup\] approvers \(\/a\/trellis.config:4\) names alice/,
  });
  t.doesNotThrow(() => checkApprover({ configFile: '', setup: { approvers: null } } as never, 'anyone'), 'no approvers line: anyone');
  const signed = await approveTests(store, run, area as never, { ...req, user: 'alice', write: { who: 'alice@h' } });
  t.same(
    signed.map((r) => r.itempath),
    ['a', 'b'],
  );
  await t.rejects(approveTests(store, run, area as never, { ...req, user: 'alice' }), { code: 'NOT_WAITING', message: /no item of multi/ });
  await t.rejects(approveTests(store, run, area as never, { ...req, user: 'alice', test: 'nosuch' }), { code: 'NO_TEST' });
  await t.rejects(approveTests(store, run, area as never, { ...req, user: 'alice', comment: 'x'.repeat(5000) }), { code: 'BAD_VALUE' });
});

t.test('resume: the steps before the start stay, with the test reset; the log says what was kept', async (t) => {
  const fx = makeStore(t);
  const run = await fx.store.ensureRun(NIGHTLY);
  const [row] = await fx.store.registerTests(run.id, regsFor('flow'));
  const id = row!.id;
  await fx.store.write(run.id, [
    setOp(id, 'RUNNING', 'n/a', 1000),
    step(id, 'build', 'COMPLETED', 'PASS', 1001),
    step(id, 'test', 'COMPLETED', 'WARN', 1002),
    step(id, 'deploy', 'COMPLETED', 'FAIL', 1003),
    setOp(id, 'COMPLETED', 'FAIL', 1003, { end: 1003 }),
  ]);
  await fx.store.write(run.id, [{ kind: 'resume', opId: nextOpId(), testId: id, fromStep: 'test', time: 1010 }], { who: 'carol@h' });
  const after = await fx.store.getTestById(run.id, id);
  t.equal(`${after?.state}/${after?.status}`, 'NOT_STARTED/n/a');
  t.same(
    after?.steps.map((s) => s.name),
    ['build'],
  );
  const ev = (await fx.store.events(run.id, 0)).find((e) => e.kind === 'resume');
  t.equal(ev?.detail, 'kept steps build (PASS); runs again from step test');
  t.equal(ev?.who, 'carol@h');
});
