/**
 * Results appended from outside the area (store/external-results.ts) on a real direct store: a row
 * of its own marked external, the same result twice, a test of the area being run, a closed run,
 * and the reaper leaving an external RUNNING row alone.
 */
import fs from 'node:fs';
import t from 'tap';
import type { ExternalResult } from '../../src/model/records.js';
import { makeStore, NIGHTLY, regsFor, setOp } from './store-fixture.js';

const base: ExternalResult = {
  testname: 'lint',
  itempath: '',
  state: 'COMPLETED',
  status: 'PASS',
  start: 100,
  end: 160,
  host: 'ci1',
  comment: 'clean',
  values: [{ name: 'warnings', value: '0' }],
};

t.test('a row of its own, marked external, with its log, values and times; sent twice, applied once', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const row = await store.appendResult(run.id, { ...base, log: 'all clean\n' }, { who: 'ci@h' });
  t.match(row, { testname: 'lint', state: 'COMPLETED', status: 'PASS', host: 'ci1', start: 100, end: 160, external: true });
  t.same(
    row.data.map((d) => `${d.name}=${d.value}:${d.status}`),
    ['warnings=0:n/a'],
  );
  t.equal(fs.readFileSync(row.steps[0]!.logfile, 'utf8'), 'all clean\n');
  t.match(row.steps[0]!.logfile, /nightly\/lint\/result\.log$/);
  const events = (await store.events(run.id, 0)).length;
  await store.appendResult(run.id, { ...base, log: 'all clean\n' }, { who: 'ci@h' });
  t.equal((await store.events(run.id, 0)).length, events, 'the same result again: no new event');
  t.equal((await store.listTests(run.id)).length, 1);
  const later = await store.appendResult(run.id, { ...base, status: 'FAIL', end: 200 }, { who: 'ci@h' });
  t.match(later, { status: 'FAIL', end: 200 }, 'a different result is recorded');
});

t.test('an item makes its test row; a status or state that does not exist is refused', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  await store.appendResult(run.id, { ...base, testname: 'size', itempath: 'arm', status: 'FAIL' });
  t.same(
    (await store.listTests(run.id)).map((r) => `${r.testname}/${r.itempath}:${r.status}`),
    ['size/:FAIL', 'size/arm:FAIL'],
    'rolled up into its test',
  );
  await t.rejects(store.appendResult(run.id, { ...base, status: 'GREAT' }), {
    code: 'BAD_VALUE',
    message: /status 'GREAT' does not exist/,
  });
  await t.rejects(store.appendResult(run.id, { ...base, state: 'LAUNCHED' as never }), { code: 'BAD_VALUE', message: /state 'LAUNCHED'/ });
  await t.rejects(store.appendResult(run.id, { ...base, start: 10, end: 5 }), { code: 'BAD_VALUE', message: /ends before it starts/ });
});

t.test('a test of the area: its own row, unless it is being run now', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const [unit] = await store.registerTests(run.id, regsFor('unit'));
  await store.write(run.id, [setOp(unit!.id, 'RUNNING', 'n/a', 50)]);
  await t.rejects(store.appendResult(run.id, { ...base, testname: 'unit' }), {
    code: 'RUN_BUSY',
    message: /unit of run linux\/x86_64\/nightly is RUNNING/,
  });
  await store.write(run.id, [setOp(unit!.id, 'COMPLETED', 'PASS', 60)]);
  const row = await store.appendResult(run.id, { ...base, testname: 'unit', status: 'WAIVED' });
  t.match(row, { id: unit!.id, status: 'WAIVED' });
  t.notOk(row.external, 'still a test of the area');
});

t.test('a closed run refuses results unless forced; unlocking opens it', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const closed = await store.closeRun(run.id, { who: 'lead@h' });
  t.match(closed, { state: 'locked', lockedBy: 'lead@h' });
  t.ok(closed.closedAt !== undefined);
  t.equal((await store.closeRun(run.id, { who: 'other@h' })).closedAt, closed.closedAt, 'closing again keeps it');
  await t.rejects(store.appendResult(run.id, base), { code: 'RUN_LOCKED', message: /is closed \(by lead@h at / });
  t.match(await store.appendResult(run.id, base, { force: true, who: 'lead@h' }), { status: 'PASS' });
  const open = await store.setRunState(run.id, 'done', { who: 'lead@h' });
  t.equal(open.closedAt, undefined);
});

t.test('the reaper leaves an external RUNNING row alone', async (t) => {
  const { store, clock } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  await store.appendResult(run.id, { ...base, state: 'RUNNING', start: 1000, end: null });
  clock.now += 100_000;
  t.same(await store.reapDead(run.id, { now: clock.now, deadtime: 60 }), []);
  t.match(await store.getTest(run.id, 'lint', ''), { state: 'RUNNING', end: null });
});
