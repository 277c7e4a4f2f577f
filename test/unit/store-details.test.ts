/**
 * Store.listDetails: a run's rows with their steps and data in one call, exactly what getTestById
 * gives row by row, in listTests order and with listTests' filters.
 */
import t from 'tap';
import type { WriteOp } from '../../src/model/records.js';
import { makeStore, NIGHTLY, nextOpId, regsFor, rowOf, setOp } from './store-fixture.js';

const stepOp = (testId: number, name: string, status: string, time: number, exitCode: number | null = 0): WriteOp => ({
  kind: 'step',
  opId: nextOpId(),
  testId,
  name,
  state: 'COMPLETED',
  status,
  exitCode,
  logfile: `/logs/${testId}/${name}.log`,
  time,
});
const dataOp = (testId: number, name: string, value: string, time: number): WriteOp => ({
  kind: 'data',
  opId: nextOpId(),
  testId,
  name,
  value,
  status: 'PASS',
  time,
});

t.test('listDetails gives every row with its steps and data, as getTestById does', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const rows = await store.registerTests(run.id, regsFor('b', 'a', 'u/x.1', 'u/x.2', 'empty'));
  const [a, b, x1, x2] = ['a', 'b', 'u/x.1', 'u/x.2'].map((n) => rowOf(rows, n).id) as [number, number, number, number];
  await store.write(run.id, [
    stepOp(a, 'build', 'PASS', 10),
    stepOp(a, 'check', 'FAIL', 11, 1),
    dataOp(a, 'zeta', '1', 11),
    dataOp(a, 'alpha', '2', 11),
    setOp(a, 'COMPLETED', 'FAIL', 12, { comment: 'step check exited 1' }),
    stepOp(b, 'only', 'PASS', 10),
    setOp(b, 'COMPLETED', 'PASS', 12),
    stepOp(x2, 'run', 'PASS', 10),
    stepOp(x1, 'run', 'PASS', 10),
    setOp(x1, 'COMPLETED', 'PASS', 12),
    setOp(x2, 'COMPLETED', 'PASS', 12),
  ]);

  const details = await store.listDetails(run.id);
  const names = details.map((d) => (d.itempath ? `${d.testname}/${d.itempath}` : d.testname));
  t.same(
    names,
    (await store.listTests(run.id)).map((d) => (d.itempath ? `${d.testname}/${d.itempath}` : d.testname)),
    'listTests order',
  );
  t.same(names, ['a', 'b', 'empty', 'u', 'u/x.1', 'u/x.2']);
  for (const d of details) t.same(d, await store.getTestById(run.id, d.id), `${names[details.indexOf(d)]} as getTestById has it`);
  const da = details.find((d) => d.id === a)!;
  t.same(
    da.steps.map((s) => [s.name, s.status, s.exitCode]),
    [
      ['build', 'PASS', 0],
      ['check', 'FAIL', 1],
    ],
    'steps in order',
  );
  t.same(
    da.data.map((v) => v.name),
    ['alpha', 'zeta'],
    'data by name',
  );
  t.same(details.find((d) => d.testname === 'empty')!.steps, [], 'no steps: an empty list');
  t.equal(details.find((d) => d.id === b)!.steps[0]!.testId, b, 'steps are those of their own test');
});

t.test('listDetails takes the filters of listTests', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const rows = await store.registerTests(run.id, regsFor('a', 'b', 'u/x', 'u/y'));
  const [a, b, ux] = ['a', 'b', 'u/x'].map((n) => rowOf(rows, n).id) as [number, number, number];
  await store.write(run.id, [
    stepOp(a, 's', 'FAIL', 1, 1),
    setOp(a, 'COMPLETED', 'FAIL', 2),
    stepOp(b, 's', 'PASS', 1),
    stepOp(ux, 's', 'PASS', 1),
  ]);
  const names = async (q: Parameters<typeof store.listDetails>[1]) =>
    (await store.listDetails(run.id, q)).map((d) => `${d.testname}/${d.itempath}:${d.steps.length}`);
  t.same(await names({ status: ['FAIL'] }), ['a/:1']);
  t.same(await names({ pattern: 'u/x' }), ['u/:0', 'u/x:1']);
  t.same(await names({ toplevelOnly: true }), ['a/:1', 'b/:1', 'u/:0']);
  t.same(await names({ state: ['NOT_STARTED'] }), ['b/:1', 'u/:0', 'u/x:1', 'u/y:0']);
  t.same(await names({ pattern: 'nothing%' }), []);
  // by id (a runner reading back the jobs that ended together): in name order, unknown ids left out
  const ids = (await store.listTests(run.id)).filter((r) => r.testname !== 'b').map((r) => r.id);
  t.same(await names({ ids: [...ids].reverse().concat(ids[0]!, 999_999) }), ['a/:1', 'u/:0', 'u/x:1', 'u/y:0']);
  t.same(await names({ ids: [] }), []);
  t.same(
    (await store.listTests(run.id, { ids: [ids[1]!, ids[0]!] })).map((r) => r.id),
    [ids[0], ids[1]],
    'listTests takes the same filter',
  );
  await t.rejects(store.listDetails(run.id + 1), { code: 'NO_RUN' });
});
