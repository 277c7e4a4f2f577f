/**
 * The run state at the store: new → running → done, from the tests and the runner that holds the
 * run; locked until unlocked, then back to what the tests give; each change in the run's events.
 */
import t from 'tap';
import type { AgentSpec } from '../../src/store/store.js';
import { HOST, makeStore, NIGHTLY, nextOpId, regsFor, rowOf, setOp } from './store-fixture.js';

const RUNNER: AgentSpec = { kind: 'runner', host: HOST, pid: 4242, procStart: null };

/** A store whose pids are alive while listed in `alive`. */
function fixture(t: Parameters<typeof makeStore>[0]) {
  const alive = new Set<number>([RUNNER.pid]);
  const f = makeStore(t, { isPidAlive: (pid) => alive.has(pid) });
  return { ...f, alive };
}

t.test('new, running while tests run and between launches, done when the last ends', async (t) => {
  const { store, clock } = fixture(t);
  const run = await store.ensureRun(NIGHTLY);
  t.equal(run.state, 'new', 'new when created');
  const agent = await store.claimRun(run.id, RUNNER, { now: clock.now, deadtime: 60 });
  const rows = await store.registerTests(run.id, regsFor('a', 'b', 'c/1', 'c/2'), { who: 'ann@h1' });
  t.match(await store.getRun(run.id), { state: 'new', total: 3 }, 'still new once registered: nothing ran yet');

  const step = async (name: string, state: string, status: string) => {
    clock.now += 1;
    await store.write(run.id, [setOp(rowOf(rows, name).id, state, status, clock.now)], { who: 'ann@h1' });
    return (await store.getRun(run.id))!.state;
  };
  t.equal(await step('a', 'LAUNCHED', 'n/a'), 'running');
  t.equal(await step('a', 'COMPLETED', 'PASS'), 'running', 'between launches, while the runner holds the run');
  t.equal(await step('c/1', 'RUNNING', 'n/a'), 'running');
  t.equal(await step('c/1', 'COMPLETED', 'FAIL'), 'running');
  t.equal(await step('b', 'NOT_STARTED', 'PREQ_FAIL'), 'running', 'c/2 is still to run');
  t.equal(await step('c/2', 'KILLED', 'ABORT'), 'done', 'the last one ended');
  await store.endAgent(run.id, agent.id, clock.now);
  t.match(await store.getRun(run.id), { state: 'done', status: 'ABORT' });

  const runEvents = (await store.events(run.id, 0)).filter((e) => e.kind === 'run');
  t.match(
    runEvents.map((e) => [e.detail, e.who]),
    [
      ['running', 'ann@h1'],
      ['done', 'ann@h1'],
    ],
    'each change once, with who',
  );
});

t.test('a rerun of some tests: running again, then done', async (t) => {
  const { store, clock } = fixture(t);
  const run = await store.ensureRun(NIGHTLY);
  const rows = await store.registerTests(run.id, regsFor('a', 'b'));
  await store.write(
    run.id,
    rows.map((r) => setOp(r.id, 'COMPLETED', 'PASS', 2)),
  );
  t.equal((await store.getRun(run.id))!.state, 'done');
  const agent = await store.claimRun(run.id, RUNNER, { now: clock.now, deadtime: 60 });
  const a = rowOf(rows, 'a').id;
  await store.write(run.id, [{ kind: 'reset', opId: nextOpId(), testId: a, time: 3 }, setOp(a, 'LAUNCHED', 'n/a', 3)]);
  t.equal((await store.getRun(run.id))!.state, 'running');
  await store.write(run.id, [setOp(a, 'COMPLETED', 'FAIL', 4)]);
  t.match(await store.getRun(run.id), { state: 'done', status: 'FAIL' });
  await store.endAgent(run.id, agent.id, 5);
  t.same(
    (await store.events(run.id, 0)).filter((e) => e.kind === 'run').map((e) => e.detail),
    ['done', 'running', 'done'],
  );
  t.match(
    (await store.events(run.id, 0)).filter((e) => e.kind === 'agent').map((e) => e.detail),
    [/claimed the run$/, /^runner pid 4242 on host here ended$/],
  );
});

t.test('a runner that stops or dies with tests never started leaves the run done', async (t) => {
  for (const how of ['ends', 'dies'] as const) {
    const { store, clock, alive } = fixture(t);
    const run = await store.ensureRun({ ...NIGHTLY, runname: how });
    const agent = await store.claimRun(run.id, RUNNER, { now: clock.now, deadtime: 60 });
    const rows = await store.registerTests(run.id, regsFor('a', 'b'));
    await store.write(run.id, [setOp(rowOf(rows, 'a').id, 'COMPLETED', 'PASS', 2)]);
    t.equal((await store.getRun(run.id))!.state, 'running', `${how}: b waits for a slot`);
    if (how === 'ends') await store.endAgent(run.id, agent.id, 3);
    else {
      alive.delete(RUNNER.pid);
      t.same(await store.reapDead(run.id, { now: clock.now, deadtime: 60 }), [], 'no test to reap');
    }
    t.match(await store.getRun(run.id), { state: 'done', counts: { PASS: 1, 'n/a': 1 } }, `${how}: done, b never ran`);
    const agents = (await store.events(run.id, 0)).filter((e) => e.kind === 'agent').map((e) => e.detail);
    if (how === 'dies') t.match(agents, [/claimed/, `runner pid ${RUNNER.pid} on host ${HOST} found dead; it is no longer running`]);
    t.match(await store.listAgents(run.id), [{ id: agent.id, ended: how === 'ends' ? 3 : clock.now }]);
  }
});

t.test("a dead runner's running tests reaped INCOMPLETE/DEAD: done", async (t) => {
  const { store, clock, alive } = fixture(t);
  const run = await store.ensureRun(NIGHTLY);
  const agent = await store.claimRun(run.id, RUNNER, { now: clock.now, deadtime: 60 });
  const [a] = await store.registerTests(run.id, regsFor('a'));
  await store.write(run.id, [setOp(a!.id, 'RUNNING', 'n/a', 2, { agentId: agent.id, start: 2 })]);
  alive.delete(RUNNER.pid);
  clock.now = 1100;
  t.match(await store.reapDead(run.id, { now: clock.now, deadtime: 60 }), [{ state: 'INCOMPLETE', status: 'DEAD' }]);
  t.match(await store.getRun(run.id), { state: 'done', status: 'DEAD' });
  t.match(
    (await store.events(run.id, 0)).filter((e) => e.kind !== 'state').map((e) => e.detail),
    [/claimed/, 'running', /found dead/, 'done'],
  );
});

t.test("showTest (trellis show's one call) reaps a dead runner's tests first, and gives the run as it then is", async (t) => {
  const { store, clock, alive } = fixture(t);
  const run = await store.ensureRun(NIGHTLY);
  const agent = await store.claimRun(run.id, RUNNER, { now: clock.now, deadtime: 60 });
  const rows = await store.registerTests(run.id, regsFor('a', 'c', 'c/1', 'c/2', 'cc/1'));
  await store.write(run.id, [setOp(rowOf(rows, 'a').id, 'RUNNING', 'n/a', 2, { agentId: agent.id, start: 2 })]);
  alive.delete(RUNNER.pid);
  clock.now = 1100;
  const query = { target: run.target, runname: run.runname, testname: 'a', itempath: '', items: true };
  const liveness = { now: clock.now, deadtime: 60 };
  const shown = await store.showTest(query, liveness);
  t.match(shown, { run: { id: run.id, state: 'done', status: 'DEAD' }, reaped: [{ testname: 'a', state: 'INCOMPLETE' }] });
  t.match(shown?.test, { testname: 'a', state: 'INCOMPLETE', status: 'DEAD', steps: [] });
  t.same(shown?.items, [], 'a has no items');
  t.same((await store.showTest(query, liveness))?.reaped, [], 'reaped once');
  const c = await store.showTest({ ...query, testname: 'c' }, liveness);
  t.same(
    c?.items.map((i) => `${i.testname}/${i.itempath}`),
    ['c/1', 'c/2'],
    "c's items, not cc's",
  );
  t.same((await store.showTest({ ...query, testname: 'c', items: false }, liveness))?.items, [], 'items only when asked');
  t.equal((await store.showTest({ ...query, testname: 'c', itempath: '9' }, liveness))?.test, undefined, 'no such item');
  t.equal(await store.showTest({ ...query, runname: 'other' }, liveness), undefined, 'no such run');
});

t.test("an item starting or ending moves the run even when its test's roll-up stays the same", async (t) => {
  const { store, clock } = fixture(t);
  const run = await store.ensureRun(NIGHTLY);
  const rows = await store.registerTests(run.id, regsFor('c/1', 'c/2'));
  await store.write(run.id, [setOp(rowOf(rows, 'c/1').id, 'KILLED', 'ABORT', 2)]);
  // c shows RUNNING (one item ended, one waits) but nothing runs and no runner holds the run.
  t.match(await store.listTests(run.id, { toplevelOnly: true }), [{ state: 'RUNNING', status: 'ABORT' }]);
  t.equal((await store.getRun(run.id))!.state, 'done');
  const agent = await store.claimRun(run.id, RUNNER, { now: clock.now, deadtime: 60 });
  await store.write(run.id, [setOp(rowOf(rows, 'c/2').id, 'RUNNING', 'n/a', 3)]);
  t.match(await store.listTests(run.id, { toplevelOnly: true }), [{ state: 'RUNNING', status: 'ABORT' }], 'the roll-up is unchanged');
  t.equal((await store.getRun(run.id))!.state, 'running', 'yet the run runs');
  await store.write(run.id, [setOp(rowOf(rows, 'c/2').id, 'COMPLETED', 'PASS', 4)]);
  await store.endAgent(run.id, agent.id, 5);
  t.match(await store.getRun(run.id), { state: 'done', status: 'ABORT' });
});

t.test('locked stays locked through every change; unlocking gives the computed state', async (t) => {
  const { store, clock } = fixture(t);
  const run = await store.ensureRun(NIGHTLY);
  const agent = await store.claimRun(run.id, RUNNER, { now: clock.now, deadtime: 60 });
  const rows = await store.registerTests(run.id, regsFor('a', 'b'));
  await store.setRunState(run.id, 'locked', { who: 'lead@h1' });
  const force = { force: true, who: 'ann@h2' };
  await store.write(run.id, [setOp(rowOf(rows, 'a').id, 'RUNNING', 'n/a', 2)], force);
  t.match(await store.getRun(run.id), { state: 'locked', lockedBy: 'lead@h1' }, 'a forced write');
  await store.write(
    run.id,
    rows.map((r) => setOp(r.id, 'COMPLETED', 'PASS', 3)),
    force,
  );
  await store.endAgent(run.id, agent.id, 4);
  t.match(await store.getRun(run.id), { state: 'locked', status: 'PASS', counts: { PASS: 2 } }, 'the summary follows, the state stays');
  await store.removeTests(run.id, [rowOf(rows, 'b').id], force);
  t.match(await store.getRun(run.id), { state: 'locked', total: 1 });

  const unlocked = await store.setRunState(run.id, 'done', { who: 'lead@h1' });
  t.match(unlocked, { state: 'done', lockedBy: null });
  await store.setRunState(run.id, 'locked', { who: 'lead@h1' });
  await store.write(run.id, [setOp(rowOf(rows, 'a').id, 'RUNNING', 'n/a', 5)], force);
  t.equal((await store.setRunState(run.id, 'done')).state, 'running', 'unlocked while a test runs: running, whatever was asked');

  const log = (await store.events(run.id, 0)).filter((e) => e.testId === null).map((e) => `${e.kind} ${e.who}`);
  t.same(log, [
    'agent ',
    'lock lead@h1',
    'forced ann@h2',
    'forced ann@h2',
    'agent ',
    'forced ann@h2',
    'unlock lead@h1',
    'lock lead@h1',
    'forced ann@h2',
    'unlock ',
  ]);
});
