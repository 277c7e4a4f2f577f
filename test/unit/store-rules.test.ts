/**
 * Log-rule summaries in the store: a `rules` op replaces one step's summary, getTest, getTestById
 * and listDetails return them, a step that starts again loses its summary, a reset loses them all,
 * a retried op changes nothing twice, and an op naming no test is refused with nothing written.
 */
import t from 'tap';
import type { RuleSummary, WriteOp } from '../../src/model/records.js';
import { makeStore, NIGHTLY, nextOpId, regsFor, rowOf } from './store-fixture.js';

const rule = (num: number, over: Partial<RuleSummary> = {}): RuleSummary => ({
  num,
  kind: 'error',
  description: `rule ${num}`,
  comparator: '=',
  expected: '0',
  count: 0,
  ok: true,
  status: 'PASS',
  lines: [],
  measured: null,
  pass: 0,
  fail: 0,
  expired: false,
  ...over,
});
const rulesOp = (testId: number, step: string, rules: RuleSummary[], opId = nextOpId()): WriteOp => ({
  kind: 'rules',
  opId,
  testId,
  step,
  rules,
  time: 1001,
});
const stepOp = (testId: number, name: string, state: 'RUNNING' | 'COMPLETED'): WriteOp => ({
  kind: 'step',
  opId: nextOpId(),
  testId,
  name,
  state,
  status: state === 'RUNNING' ? 'n/a' : 'FAIL',
  time: 1002,
});

t.test('a rules op replaces one step’s summary; every detail query returns it', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const rows = await store.registerTests(run.id, regsFor('a', 'b'));
  const a = rowOf(rows, 'a').id;
  const hostile = 'error: \u001b]0;owned\u0007 \u009b2J';
  await store.write(run.id, [
    rulesOp(a, 'compile', [rule(0, { ok: false, status: 'FAIL', count: 3, lines: [{ line: 12, text: hostile }] }), rule(1)]),
    rulesOp(a, 'link', [rule(0, { kind: 'value', comparator: '+/-', expected: '1.9 +/- 0.1', measured: '1.95', pass: 1 })]),
  ]);
  const detail = (await store.getTestById(run.id, a))!;
  t.same(
    detail.rules.map((r) => `${r.step} ${r.num} ${r.status} ${r.count}`),
    ['compile 0 FAIL 3', 'compile 1 PASS 0', 'link 0 PASS 0'],
  );
  t.same(detail.rules[0]!.lines, [{ line: 12, text: hostile }], 'the lines come back as the log had them');
  t.equal(detail.rules[2]!.measured, '1.95');
  t.same((await store.getTest(run.id, 'a', ''))!.rules, detail.rules, 'getTest the same');
  const all = await store.listDetails(run.id);
  t.same(rowOf(all, 'a') && all.find((r) => r.id === a)!.rules, detail.rules, 'listDetails the same');
  t.same(all.find((r) => r.testname === 'b')!.rules, [], 'a test without rules has none');

  await store.write(run.id, [rulesOp(a, 'compile', [rule(5)])]);
  t.same(
    (await store.getTestById(run.id, a))!.rules.map((r) => `${r.step} ${r.num}`),
    ['compile 5', 'link 0'],
    'judged again: the step’s summary is replaced, the others stay',
  );
  await store.write(run.id, [stepOp(a, 'link', 'RUNNING')]);
  t.same(
    (await store.getTestById(run.id, a))!.rules.map((r) => r.step),
    ['compile'],
    'a step that starts again has no verdict yet',
  );
  await store.write(run.id, [{ kind: 'reset', opId: nextOpId(), testId: a, time: 1003 }]);
  t.same((await store.getTestById(run.id, a))!.rules, [], 'a reset clears them all');
});

t.test('a retried rules op is applied once; one naming no test changes nothing', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const a = rowOf(await store.registerTests(run.id, regsFor('a')), 'a').id;
  const op = rulesOp(a, 'compile', [rule(0)], 'same-id');
  await store.write(run.id, [op]);
  await store.write(run.id, [stepOp(a, 'compile', 'RUNNING')]);
  await store.write(run.id, [op]);
  t.same((await store.getTestById(run.id, a))!.rules, [], 'the retry did not bring the old summary back');
  await t.rejects(store.write(run.id, [rulesOp(a, 'x', [rule(1)]), rulesOp(9999, 'x', [rule(0)])]), { code: 'NO_TEST' });
  t.same((await store.getTestById(run.id, a))!.rules, [], 'the batch was refused whole');
});
