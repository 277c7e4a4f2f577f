import t from 'tap';
import type { WriteOp } from '../../src/model/records.js';
import { makeStore, NIGHTLY, nextOpId, regsFor, rowOf, setOp } from './store-fixture.js';

t.test('registerTests adds missing rows and updates existing ones in place', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const first = await store.registerTests(run.id, regsFor('b', 'a/x', 'a/y'));
  t.same(
    first.map((r) => [r.testname, r.itempath]),
    [
      ['b', ''],
      ['a', 'x'],
      ['a', 'y'],
    ],
    'rows in the order given',
  );
  t.match(first[0], { state: 'NOT_STARTED', status: 'n/a', rundir: '/work/b', comment: '', pid: null, start: null });
  t.ok(rowOf(await store.listTests(run.id), 'a'), 'an item brings its toplevel row');

  const b = rowOf(first, 'b');
  await store.write(run.id, [setOp(b.id, 'COMPLETED', 'PASS', 1001)]);
  const again = await store.registerTests(run.id, [
    { testname: 'b', itempath: '', priority: 7, rundir: '/new/b', owner: 'ann', description: 'd', tags: 'x,y' },
  ]);
  t.match(again, [{ id: b.id, state: 'COMPLETED', status: 'PASS', priority: 7, rundir: '/new/b', owner: 'ann', tags: 'x,y' }]);
  t.equal((await store.listTests(run.id)).length, 4);
  t.equal((await store.getRun(run.id))?.total, 2, 'total counts toplevel rows');
});

t.test('items roll up into their test; never-ran statuses rank as bad', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const rows = await store.registerTests(run.id, regsFor('a', 'a/1', 'a/2', 'a/3'));
  const [one, two, three] = ['a/1', 'a/2', 'a/3'].map((n) => rowOf(rows, n).id) as [number, number, number];
  const parent = async () => (await store.getTest(run.id, 'a', ''))!;

  await store.write(run.id, [setOp(one, 'RUNNING', 'n/a', 1010, { start: 1010 })]);
  t.match(await parent(), { state: 'RUNNING', status: 'n/a', start: 1010, end: null });

  await store.write(run.id, [setOp(one, 'COMPLETED', 'PASS', 1020, { end: 1020 })]);
  t.match(await parent(), { state: 'RUNNING', status: 'n/a' }, 'pending items keep the parent open');

  await store.write(run.id, [
    setOp(two, 'COMPLETED', 'FAIL', 1030, { start: 1021, end: 1030 }),
    setOp(three, 'NOT_STARTED', 'PREQ_FAIL', 1030),
  ]);
  t.match(await parent(), { state: 'COMPLETED', status: 'FAIL', start: 1010, end: 1030, duration: 20 });

  await store.write(run.id, [setOp(two, 'COMPLETED', 'PASS', 1040, { start: 1031, end: 1040 })]);
  t.match(await parent(), { state: 'COMPLETED', status: 'PREQ_FAIL', end: 1040 }, 'PASS + PREQ_FAIL is not a PASS');
  t.match(await store.getRun(run.id), { state: 'done', status: 'PREQ_FAIL', counts: { PREQ_FAIL: 1 }, total: 1 });

  const feed = await store.events(run.id, 0);
  const parentRow = await parent();
  t.same(
    feed.filter((e) => e.testId === parentRow.id && e.kind === 'state').map((e) => e.detail),
    ['NOT_STARTED/n/a', 'RUNNING/n/a', 'COMPLETED/FAIL', 'COMPLETED/PREQ_FAIL'],
    'every change of the rolled-up row is in the feed',
  );
});

t.test('steps, data and duration', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const [a] = await store.registerTests(run.id, regsFor('a'));
  const id = a!.id;
  const step = (name: string, state: 'RUNNING' | 'COMPLETED' | 'KILLED', time: number, extra: object = {}): WriteOp => ({
    kind: 'step',
    opId: nextOpId(),
    testId: id,
    name,
    state,
    status: state === 'RUNNING' ? 'n/a' : 'PASS',
    time,
    ...extra,
  });
  await store.write(run.id, [
    setOp(id, 'RUNNING', 'n/a', 100, { start: 100, host: 'h1', pid: 42 }),
    step('build', 'RUNNING', 101, { logfile: 'build.log' }),
    step('build', 'COMPLETED', 105, { exitCode: 0 }),
    step('test', 'RUNNING', 106),
    { kind: 'data', opId: nextOpId(), testId: id, name: 'mem', value: '10', units: 'MB', status: 'PASS', time: 107 },
  ]);
  await store.write(run.id, [
    step('test', 'COMPLETED', 110, { exitCode: 2, status: 'WARN', comment: 'slow' }),
    step('build', 'COMPLETED', 111),
    { kind: 'data', opId: nextOpId(), testId: id, name: 'mem', value: '12', status: 'WARN', time: 111 },
    setOp(id, 'COMPLETED', 'WARN', 112, { end: 112 }),
  ]);
  const detail = await store.getTestById(run.id, id);
  t.match(detail, { state: 'COMPLETED', status: 'WARN', host: 'h1', pid: 42, start: 100, end: 112, duration: 12 });
  t.match(detail?.steps, [
    { name: 'build', seq: 1, state: 'COMPLETED', start: 101, end: 111, exitCode: 0, logfile: 'build.log' },
    { name: 'test', seq: 2, state: 'COMPLETED', status: 'WARN', start: 106, end: 110, exitCode: 2, comment: 'slow' },
  ]);
  t.match(detail?.data, [{ name: 'mem', value: '12', units: null, status: 'WARN', time: 111 }]);
  t.equal(detail?.data.length, 1, 'data upserts by name');
  t.same(await store.getTest(run.id, 'a', ''), detail);

  await store.write(run.id, [{ kind: 'reset', opId: nextOpId(), testId: id, time: 200 }]);
  t.match(await store.getTestById(run.id, id), {
    state: 'NOT_STARTED',
    status: 'n/a',
    comment: '',
    start: null,
    end: null,
    duration: null,
    pid: null,
    steps: [],
    data: [],
  });
  t.match(await store.getRun(run.id), { state: 'new', counts: { 'n/a': 1 } });
});

t.test('ops apply exactly once, even across retried batches', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const [a] = await store.registerTests(run.id, regsFor('a'));
  const done = setOp(a!.id, 'COMPLETED', 'PASS', 10, { start: 5, end: 10 });
  const step: WriteOp = { kind: 'step', opId: nextOpId(), testId: a!.id, name: 's', state: 'RUNNING', status: 'n/a', time: 6 };
  await store.write(run.id, [step, done, done]);
  const eventsAfterFirst = (await store.events(run.id, 0)).length;

  // The batch is retried after a reset: the reset stays, the old result is not recorded again.
  await store.write(run.id, [{ kind: 'reset', opId: nextOpId(), testId: a!.id, time: 20 }]);
  await store.write(run.id, [step, done]);
  t.match(await store.getTestById(run.id, a!.id), { state: 'NOT_STARTED', status: 'n/a', steps: [] });
  // The reset also takes the run from done back to new: one event for the test, one for the run.
  t.same(
    (await store.events(run.id, 0)).slice(eventsAfterFirst).map((e) => `${e.kind} ${e.detail}`),
    ['state NOT_STARTED/n/a', 'run new'],
    'only the reset added events',
  );
});

t.test('a test op with ifState applies only while the row is in that state', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const [a] = await store.registerTests(run.id, regsFor('a'));
  const running: WriteOp = {
    kind: 'test',
    opId: nextOpId(),
    testId: a!.id,
    set: { state: 'RUNNING', host: 'n1' },
    time: 3,
    ifState: 'LAUNCHED',
  };
  await store.write(run.id, [setOp(a!.id, 'LAUNCHED', 'n/a', 1), setOp(a!.id, 'KILLREQ', 'n/a', 2), running]);
  t.match(await store.getTestById(run.id, a!.id), { state: 'KILLREQ', host: '' }, 'a kill request is not undone');
  await store.write(run.id, [setOp(a!.id, 'LAUNCHED', 'n/a', 4), { ...running, opId: nextOpId(), time: 5 }]);
  t.match(await store.getTestById(run.id, a!.id), { state: 'RUNNING', host: 'n1' }, 'over LAUNCHED it applies');
});

t.test('a batch with a bad op changes nothing, and its ids stay unused', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const [a] = await store.registerTests(run.id, regsFor('a'));
  const good = setOp(a!.id, 'RUNNING', 'n/a', 10);
  await t.rejects(store.write(run.id, [good, setOp(a!.id + 99, 'RUNNING', 'n/a', 10)]), { code: 'NO_TEST' });
  await t.rejects(store.write(run.id, [good, setOp(a!.id, 'BOGUS', 'n/a', 10)]), { code: 'BAD_VALUE' });
  t.match(await store.getTestById(run.id, a!.id), { state: 'NOT_STARTED' });
  await store.write(run.id, [good]);
  t.match(await store.getTestById(run.id, a!.id), { state: 'RUNNING' }, 'the retried op applies');
  await t.rejects(store.write(run.id + 5, [good]), { code: 'NO_RUN' });
});

t.test('listTests filters by pattern, state, status and level', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const rows = await store.registerTests(run.id, regsFor('smoke', 'unit/a1', 'unit/b1', 'slow'));
  await store.write(run.id, [
    setOp(rowOf(rows, 'smoke').id, 'COMPLETED', 'PASS', 10),
    setOp(rowOf(rows, 'unit/a1').id, 'COMPLETED', 'FAIL', 10),
  ]);
  const names = async (q: object) =>
    (await store.listTests(run.id, q)).map((r) => (r.itempath ? `${r.testname}/${r.itempath}` : r.testname));
  t.same(await names({}), ['slow', 'smoke', 'unit', 'unit/a1', 'unit/b1']);
  t.same(await names({ toplevelOnly: true }), ['slow', 'smoke', 'unit']);
  t.same(await names({ pattern: 's%,~slow' }), ['smoke']);
  t.same(await names({ pattern: 'unit/a%' }), ['unit', 'unit/a1'], 'the parent row of selected items is shown');
  t.same(await names({ state: ['COMPLETED'] }), ['smoke', 'unit/a1']);
  t.same(await names({ status: ['FAIL', 'n/a'] }), ['slow', 'unit', 'unit/a1', 'unit/b1']);
  t.same(await names({ status: ['FAIL'], toplevelOnly: true }), ['unit']);
});

t.test('removeTests takes items with their test and re-rolls a parent', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const rows = await store.registerTests(run.id, regsFor('a', 'b', 'b/1', 'b/2'));
  await store.write(run.id, [setOp(rowOf(rows, 'b/1').id, 'COMPLETED', 'FAIL', 10), setOp(rowOf(rows, 'b/2').id, 'COMPLETED', 'PASS', 10)]);
  t.match(await store.getTest(run.id, 'b', ''), { status: 'FAIL' });
  await store.removeTests(run.id, [rowOf(rows, 'b/1').id]);
  t.match(await store.getTest(run.id, 'b', ''), { state: 'COMPLETED', status: 'PASS' });
  await store.removeTests(run.id, [rowOf(rows, 'b').id, 12345]);
  t.same(
    (await store.listTests(run.id)).map((r) => r.testname),
    ['a'],
  );
  t.match(await store.getRun(run.id), { total: 1, counts: { 'n/a': 1 } });
  const removed = (await store.events(run.id, 0)).filter((e) => e.kind === 'removed');
  t.same(
    removed.map((e) => [e.testId, e.detail]),
    [
      [rowOf(rows, 'b/1').id, 'b/1'],
      [rowOf(rows, 'b/2').id, 'b/2'],
      [rowOf(rows, 'b').id, 'b'],
    ],
    'one event per removed row, items that went with their test included',
  );
});

t.test('events: a change feed read in pages', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const [a] = await store.registerTests(run.id, regsFor('a'));
  await store.write(run.id, [setOp(a!.id, 'LAUNCHED', 'n/a', 1), setOp(a!.id, 'RUNNING', 'n/a', 2)]);
  await store.write(run.id, [setOp(a!.id, 'RUNNING', 'n/a', 3, { comment: 'no state change' })]);
  const all = await store.events(run.id, 0);
  t.same(
    all.map((e) => e.detail),
    ['NOT_STARTED/n/a', 'LAUNCHED/n/a', 'RUNNING/n/a', 'running'],
    "test changes, then the run's",
  );
  t.match(all[1], { kind: 'state', testId: a!.id, time: 1 });
  t.match(all[3], { kind: 'run', testId: null });
  const page = await store.events(run.id, all[0]!.seq, 1);
  t.same(
    page.map((e) => e.detail),
    ['LAUNCHED/n/a'],
  );
  t.same(await store.events(run.id, all[3]!.seq), []);
});

t.test('counts kept by triggers always equal a recount of the rows', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const names = ['a', 'b', 'c', 'd/1', 'd/2', 'd/3', 'e/1', 'e/2'];
  let rows = await store.registerTests(run.id, regsFor(...names));
  const outcomes: Array<[string, string]> = [
    ['RUNNING', 'n/a'],
    ['COMPLETED', 'PASS'],
    ['COMPLETED', 'FAIL'],
    ['KILLED', 'ABORT'],
    ['NOT_STARTED', 'PREQ_FAIL'],
  ];
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let round = 0; round < 60; round++) {
    const live = await store.listTests(run.id);
    const target = live[next(live.length)]!;
    const pick = next(10);
    if (pick < 7) {
      const [state, status] = outcomes[next(outcomes.length)]!;
      await store.write(run.id, [setOp(target.id, state, status, round)]);
    } else if (pick < 9) {
      await store.write(run.id, [{ kind: 'reset', opId: nextOpId(), testId: target.id, time: round }]);
    } else {
      await store.removeTests(run.id, [target.id]);
      rows = await store.registerTests(run.id, regsFor(...names));
    }
    const toplevel = await store.listTests(run.id, { toplevelOnly: true });
    const recount: Record<string, number> = {};
    for (const r of toplevel) recount[r.status] = (recount[r.status] ?? 0) + 1;
    const summary = await store.getRun(run.id);
    if (!t.same(summary?.counts, recount, `round ${round}: counts`)) break;
    t.equal(summary?.total, toplevel.length, `round ${round}: total`);
  }
  t.equal(rows.length, names.length);
});
