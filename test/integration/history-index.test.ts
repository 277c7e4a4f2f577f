/**
 * The history index (main.db `outcomes`) through a real DirectStore in a temp run area: final
 * states of tests and items are indexed, a reset or a removal takes them out, a removed run takes
 * all of its out; history is newest first and filtered by target; the summary gives the latest
 * outcome, the last success and the mean of the successes before; wrap/record jobs are updated by
 * key; and an area made before the index existed (a version 2 main.db) is indexed on first open.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { MAIN_MIGRATIONS } from '../../src/db/main-schema.js';
import type { OutcomeJob } from '../../src/model/records.js';
import { makeStore, NIGHTLY, nextOpId, regsFor, rowOf, setOp } from '../unit/store-fixture.js';

const done = (id: number, status: string, start: number, end: number, extra: object = {}) =>
  setOp(id, 'COMPLETED', status, end, { start, end, host: 'build1', ...extra });

t.test('final states are indexed; a reset, a removal and a removed run take them out', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const rows = await store.registerTests(run.id, regsFor('a', 'b', 'c/x', 'c/y', 'd'));
  const id = (n: string) => rowOf(rows, n).id;
  const history = async (name: string, itempath = '') => store.history({ testname: name, itempath });

  await store.write(run.id, [setOp(id('a'), 'RUNNING', 'n/a', 1010, { start: 1010, host: 'build1' })]);
  t.same(await history('a'), [], 'a running test is not history yet');

  await store.write(run.id, [done(id('a'), 'PASS', 1010, 1013, { comment: 'fine' })]);
  t.match(await history('a'), [
    {
      kind: 'run',
      runId: run.id,
      target: 'linux/x86_64',
      runname: 'nightly',
      testname: 'a',
      itempath: '',
      state: 'COMPLETED',
      status: 'PASS',
      success: true,
      host: 'build1',
      start: 1010,
      end: 1013,
      duration: 3,
      comment: 'fine',
      time: 1010,
    },
  ]);

  await store.write(run.id, [done(id('b'), 'FAIL', 1011, 1020), setOp(id('d'), 'NOT_STARTED', 'PREQ_FAIL', 1020)]);
  t.match(await history('b'), [{ status: 'FAIL', success: false, duration: 9 }]);
  t.match(await history('d'), [{ state: 'NOT_STARTED', status: 'PREQ_FAIL', start: null, success: false }], 'a never-ran reason is final');

  await store.write(run.id, [done(id('c/x'), 'PASS', 1030, 1031)]);
  t.match(await history('c', 'x'), [{ itempath: 'x', status: 'PASS' }], 'an item is indexed on its own');
  t.same(await history('c'), [], 'its test is not final while an item is pending');
  await store.write(run.id, [done(id('c/y'), 'WARN', 1032, 1035)]);
  t.match(await history('c'), [{ state: 'COMPLETED', status: 'WARN', success: true, start: 1030, end: 1035 }], 'the rolled-up test');

  // A rerun resets the row: its outcome leaves the history with it.
  await store.write(run.id, [{ kind: 'reset', opId: nextOpId(), testId: id('a'), time: 1040 }]);
  t.same(await history('a'), [], 'reset');
  await store.write(run.id, [done(id('a'), 'FAIL', 1041, 1042)]);
  t.match(await history('a'), [{ status: 'FAIL' }], 'the rerun outcome replaces it');

  await store.write(run.id, [setOp(id('b'), 'RUNNING', 'n/a', 1050)]);
  t.same(await history('b'), [], 'any state that is not final takes it out');

  await store.removeTests(run.id, [id('c/x')]);
  t.same(await history('c', 'x'), [], 'a removed item');
  t.match(await history('c'), [{ status: 'WARN' }], 'its test keeps its rolled-up outcome');
  await store.removeTests(run.id, [(await store.getTest(run.id, 'c', ''))!.id]);
  t.same([...(await history('c')), ...(await history('c', 'y'))], [], 'a removed test takes its items along');

  await store.removeRun(run.id);
  t.same([...(await history('a')), ...(await history('d'))], [], 'a removed run takes everything');
});

t.test('a test found dead is indexed as INCOMPLETE/DEAD', async (t) => {
  const { store, clock } = makeStore(t, { isPidAlive: () => false });
  const run = await store.ensureRun(NIGHTLY);
  const [a] = await store.registerTests(run.id, regsFor('a'));
  const agent = await store.claimRun(run.id, { kind: 'runner', host: 'here', pid: 99999, procStart: null }, { now: 1000, deadtime: 60 });
  await store.write(run.id, [setOp(a!.id, 'RUNNING', 'n/a', 1001, { start: 1001, agentId: agent.id, host: 'here' })]);
  clock.now = 1100;
  await store.reapDead(run.id, { now: 1100, deadtime: 60 });
  t.match(await store.history({ testname: 'a' }), [{ state: 'INCOMPLETE', status: 'DEAD', success: false }]);
});

t.test('history across runs: newest first, limit, target pattern, successes only', async (t) => {
  const { store } = makeStore(t);
  for (const [i, target, status] of [
    [1, 'linux/x86_64', 'PASS'],
    [2, 'linux/aarch64', 'FAIL'],
    [3, 'linux/x86_64', 'FAIL'],
    [4, 'bsd/x86_64', 'PASS'],
  ] as const) {
    const keys = { OS: target.split('/')[0]!, ARCH: target.split('/')[1]! };
    const run = await store.ensureRun({ target, keys, runname: `r${i}` });
    const [a] = await store.registerTests(run.id, regsFor('a'));
    await store.write(run.id, [done(a!.id, status, 1000 * i, 1000 * i + i)]);
  }
  const names = (rs: { runname: string }[]) => rs.map((r) => r.runname);
  t.same(names(await store.history({ testname: 'a' })), ['r4', 'r3', 'r2', 'r1']);
  t.same(names(await store.history({ testname: 'a', limit: 2 })), ['r4', 'r3']);
  t.same(names(await store.history({ testname: 'a', target: 'linux/%' })), ['r3', 'r2', 'r1']);
  t.same(names(await store.history({ testname: 'a', target: 'linux/x86_64' })), ['r3', 'r1']);
  t.same(names(await store.history({ testname: 'a', target: 'linux/x86*' })), [], 'GLOB characters match themselves');
  t.same(names(await store.history({ testname: 'a', successOnly: true, target: 'linux/%' })), ['r1']);
  t.same(await store.history({ testname: 'nothing' }), []);
});

t.test('the summary: latest, last success, the mean of the successes before, items only when named', async (t) => {
  const { store } = makeStore(t);
  const durations = [10, 12, 14, 100];
  for (const [i, d] of durations.entries()) {
    const run = await store.ensureRun({ ...NIGHTLY, runname: `n${i}` });
    const rows = await store.registerTests(run.id, regsFor('slow', 'flaky/x', 'never'));
    const start = 10_000 * (i + 1);
    await store.write(run.id, [
      done(rowOf(rows, 'slow').id, 'PASS', start, start + d),
      done(rowOf(rows, 'flaky/x').id, i === 3 ? 'FAIL' : 'PASS', start, start + 1),
      done(rowOf(rows, 'never').id, 'FAIL', start, start + 1),
    ]);
  }
  const all = await store.historySummary({});
  t.same(
    all.map((s) => `${s.testname}/${s.itempath}`),
    ['flaky/', 'never/', 'slow/'],
    'items of run tests only when the pattern names them',
  );
  const slow = all.find((s) => s.testname === 'slow')!;
  t.match(slow, {
    target: 'linux/x86_64',
    count: 4,
    latest: { duration: 100, runname: 'n3' },
    lastSuccess: { runname: 'n3' },
    meanDuration: 12,
    baselineCount: 3,
  });
  t.match(
    all.find((s) => s.testname === 'never'),
    { count: 4, lastSuccess: null, meanDuration: null, baselineCount: 0 },
  );
  t.match(await store.historySummary({ baseline: 1 }), [
    { testname: 'flaky', meanDuration: 1 },
    {},
    { testname: 'slow', meanDuration: 14, baselineCount: 1 },
  ]);

  const items = await store.historySummary({ pattern: 'flaky/%' });
  t.same(
    items.map((s) => `${s.testname}/${s.itempath}`),
    ['flaky/', 'flaky/x'],
    'the test and its items, as -p selects them',
  );
  t.match(items[1], { latest: { status: 'FAIL' }, lastSuccess: { runname: 'n2' } });
  t.same(
    (await store.historySummary({ pattern: '%,~slow' })).map((s) => s.testname),
    ['flaky', 'never'],
  );
  t.same(await store.historySummary({ target: 'bsd/%' }), []);
  await t.rejects(store.historySummary({ pattern: '~' }), { code: 'BAD_PATTERN' });
});

t.test('wrap/record jobs: a key updates its row; bad jobs are refused', async (t) => {
  const { store } = makeStore(t);
  const job: OutcomeJob = {
    key: 'k1',
    kind: 'wrap',
    testname: 'backup',
    host: 'db1',
    state: 'RUNNING',
    status: 'n/a',
    start: 5000,
    end: null,
  };
  t.match(await store.recordOutcome(job), {
    kind: 'wrap',
    runId: null,
    runname: '',
    target: '',
    state: 'RUNNING',
    duration: null,
    success: false,
  });
  await store.recordOutcome({ ...job, state: 'COMPLETED', status: 'PASS', end: 5060, comment: 'exit 0' });
  t.match(await store.history({ testname: 'backup' }), [
    { kind: 'wrap', state: 'COMPLETED', status: 'PASS', success: true, duration: 60, comment: 'exit 0', host: 'db1' },
  ]);
  await store.recordOutcome({
    key: 'k2',
    kind: 'record',
    testname: 'backup',
    itempath: 'offsite',
    target: 'dc2',
    host: 'far',
    state: 'COMPLETED',
    status: 'FAIL',
    start: 6000,
    end: 6001,
  });
  t.match(await store.history({ testname: 'backup', itempath: 'offsite' }), [{ kind: 'record', target: 'dc2', status: 'FAIL' }]);
  t.same(
    (await store.historySummary({})).map((s) => `${s.testname}/${s.itempath}`),
    ['backup/', 'backup/offsite'],
    'jobs count whatever their name',
  );

  await t.rejects(store.recordOutcome({ ...job, key: 'k3', start: 10, end: 5 }), { code: 'BAD_VALUE', message: /ends before it starts/ });
  await t.rejects(store.recordOutcome({ ...job, key: 'k3', testname: 'a b' }), { code: 'BAD_VALUE', message: /cannot be recorded/ });
  await t.rejects(store.recordOutcome({ ...job, key: 'k3', testname: 'x', itempath: 'y/' }), { code: 'BAD_VALUE' });
  t.equal((await store.history({ testname: 'backup', limit: 100 })).length, 1, 'nothing recorded by a refused job');
});

t.test('an area made before the index existed is indexed once, on first open', async (t) => {
  const first = makeStore(t);
  const run = await first.store.ensureRun(NIGHTLY);
  const rows = await first.store.registerTests(run.id, regsFor('a', 'b/x', 'c'));
  await first.store.write(run.id, [done(rowOf(rows, 'a').id, 'PASS', 1000, 1002), done(rowOf(rows, 'b/x').id, 'FAIL', 1000, 1001)]);
  const other = await first.store.ensureRun({ ...NIGHTLY, runname: 'gone' });
  await first.store.close();

  // Back to version 2: no index, no backfill mark; and one run whose database file is missing.
  const main = new Database(path.join(first.dir, '.db', 'main.db'));
  main.exec(
    `DROP TABLE pool_agents; DROP TABLE job_queue; DROP TABLE pool_orphans; DROP TABLE pool_counter;
     DROP TABLE outcomes; DROP TABLE resource_claims; DROP TABLE resource_counter; ALTER TABLE runs DROP COLUMN params; ALTER TABLE runs DROP COLUMN closed_at;
     DELETE FROM meta WHERE key = 'outcomes_backfill'; PRAGMA user_version = 2;`,
  );
  main.close();
  const { rmSync } = await import('node:fs');
  rmSync(path.join(first.dir, '.db', `${other.id}.db`), { force: true });

  const { store } = makeStore(t, { dir: first.dir });
  t.match(await store.history({ testname: 'a' }), [{ status: 'PASS', duration: 2, runname: 'nightly' }]);
  t.match(await store.history({ testname: 'b', itempath: 'x' }), [{ status: 'FAIL' }]);
  t.match(await store.history({ testname: 'b' }), [{ status: 'FAIL' }], 'the rolled-up test too');
  t.same(await store.history({ testname: 'c' }), [], 'only final rows');
  const meta = new Database(path.join(first.dir, '.db', 'main.db'), { readonly: true });
  t.match(meta.prepare(`SELECT value FROM meta WHERE key = 'outcomes_backfill'`).get(), { value: /^done / });
  t.equal(meta.pragma('user_version', { simple: true }), MAIN_MIGRATIONS.length);
  meta.close();

  // Done once: rows removed from the index by hand stay removed on the next open.
  await store.close();
  const again = new Database(path.join(first.dir, '.db', 'main.db'));
  again.exec(`DELETE FROM outcomes`);
  again.close();
  const reopened = makeStore(t, { dir: first.dir });
  t.same(await reopened.store.history({ testname: 'a' }), [], 'not backfilled twice');
});
