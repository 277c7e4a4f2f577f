import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { runColumnsOf } from '../../src/model/run-columns.js';
import { openDirectStore } from '../../src/store/direct-store.js';
import type { TrellisError } from '../../src/util/errors.js';
import { HOST, makeStore, NIGHTLY, regsFor, setOp } from './store-fixture.js';

t.test('ensureRun creates the run and its database once', async (t) => {
  const { dir, store, clock } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  t.match(run, { target: 'linux/x86_64', runname: 'nightly', keys: { OS: 'linux', ARCH: 'x86_64' } });
  t.match(run, { state: 'new', status: 'n/a', total: 0, counts: {}, created: 1000, started: null, lockedBy: null });
  t.ok(fs.existsSync(path.join(dir, '.db', `${run.id}.db`)), 'run database file exists');

  clock.now = 2000;
  const again = await store.ensureRun(NIGHTLY);
  t.same(again, run, 'second call returns the same row unchanged');
  t.same(await store.findRun('linux/x86_64', 'nightly'), run);
  t.same(await store.getRun(run.id), run);
  t.equal(await store.findRun('linux/x86_64', 'other'), undefined);
  t.equal(await store.getRun(run.id + 100), undefined);
  t.equal((await store.listRuns()).length, 1);
});

t.test('the area id is stable across stores', async (t) => {
  const { dir, store } = makeStore(t);
  const id = await store.areaId();
  t.match(id, /^[0-9a-f]{32}$/);
  const { store: second } = makeStore(t, { dir });
  t.equal(await second.areaId(), id);
});

t.test('listRuns: newest first, filtered by % patterns', async (t) => {
  const { store, clock } = makeStore(t);
  const made: Array<[string, string]> = [
    ['linux/x86_64', 'nightly'],
    ['linux/arm64', 'nightly'],
    ['linux/x86_64', 'weekly'],
    ['mac/arm64', 'nightly_2'],
  ];
  for (const [target, runname] of made) {
    clock.now += 10;
    await store.ensureRun({ target, runname, keys: {} });
  }
  const names = (runs: { target: string; runname: string }[]) => runs.map((r) => `${r.target}:${r.runname}`);
  t.same(names(await store.listRuns()), ['mac/arm64:nightly_2', 'linux/x86_64:weekly', 'linux/arm64:nightly', 'linux/x86_64:nightly']);
  t.same(names(await store.listRuns({ runname: 'nightly' })), ['linux/arm64:nightly', 'linux/x86_64:nightly']);
  t.same(names(await store.listRuns({ runname: 'nightly%' })), ['mac/arm64:nightly_2', 'linux/arm64:nightly', 'linux/x86_64:nightly']);
  t.same(names(await store.listRuns({ target: 'linux/%' })), ['linux/x86_64:weekly', 'linux/arm64:nightly', 'linux/x86_64:nightly']);
  t.same(names(await store.listRuns({ target: '%/arm64', runname: 'nightly' })), ['linux/arm64:nightly']);
  t.same(await store.listRuns({ target: 'solaris%' }), []);
});

t.test('listRunColumns: what listRuns gives, column by column, as SQLite writes it', async (t) => {
  const { store, clock } = makeStore(t);
  t.same(await store.listRunColumns(), runColumnsOf([]), 'no runs: empty columns');
  const made: Array<[string, string]> = [
    ['linux/x86_64', 'nightly'],
    ['linux/arm64', 'nightly'],
    ['linux/x86_64', 'weekly'],
    ['mac/arm64', 'nightly_2'],
  ];
  for (const [target, runname] of made) {
    clock.now += 10.123456789;
    await store.ensureRun({ target, runname, keys: {} });
  }
  // A tie on created (ordered by id), results, a closed run.
  await store.ensureRun({ target: 'linux/x86_64', runname: 'same-time', keys: {} });
  const runs = await store.listRuns();
  const first = runs.at(-1)!;
  const regs = await store.registerTests(first.id, regsFor('a', 'b'));
  await store.write(first.id, [setOp(regs[0]!.id, 'COMPLETED', 'PASS', clock.now), setOp(regs[1]!.id, 'COMPLETED', 'FAIL', clock.now)]);
  await store.closeRun(runs[1]!.id);
  for (const query of [
    undefined,
    { runname: 'nightly%' },
    { target: 'linux/%' },
    { target: '%/arm64', runname: 'nightly' },
    { target: 'solaris%' },
  ]) {
    t.same(await store.listRunColumns(query), runColumnsOf(await store.listRuns(query)), JSON.stringify(query ?? {}));
  }
  t.same(JSON.parse(await store.listRunColumnsJson()), await store.listRunColumns(), 'the text the API sends');
});

t.test('counts, total, status and state land in main.db', async (t) => {
  const { dir, store, clock } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const rows = await store.registerTests(run.id, regsFor('a', 'b', 'c'));
  const [a, b, c] = rows.map((r) => r.id) as [number, number, number];
  t.match(await store.getRun(run.id), { state: 'new', status: 'n/a', total: 3, counts: { 'n/a': 3 }, started: null });
  // Between launches a run is running while its runner holds it.
  await store.claimRun(run.id, { kind: 'runner', host: HOST, pid: process.pid, procStart: null }, { now: clock.now, deadtime: 60 });

  clock.now = 1100;
  await store.write(run.id, [setOp(a, 'RUNNING', 'n/a', 1100, { start: 1100 })]);
  t.match(await store.getRun(run.id), { state: 'running', started: 1100, ended: null, updated: 1100 });

  clock.now = 1200;
  await store.write(run.id, [
    setOp(a, 'COMPLETED', 'PASS', 1200, { end: 1200 }),
    setOp(b, 'COMPLETED', 'FAIL', 1200, { start: 1150, end: 1190 }),
  ]);
  t.match(await store.getRun(run.id), { state: 'running', status: 'FAIL', counts: { PASS: 1, FAIL: 1, 'n/a': 1 } });
  clock.now = 1300;
  await store.write(run.id, [setOp(c, 'COMPLETED', 'WARN', 1300, { start: 1250, end: 1290 })]);
  const done = await store.getRun(run.id);
  t.match(done, { state: 'done', status: 'FAIL', total: 3, counts: { PASS: 1, FAIL: 1, WARN: 1 }, started: 1100, ended: 1290 });
  t.same(Object.keys(done?.counts ?? {}).sort(), ['FAIL', 'PASS', 'WARN'], 'no zero counts left behind');

  // Another store on the same run area reads the same summary from main.db.
  const { store: other } = makeStore(t, { dir });
  t.same(await other.getRun(run.id), done);
});

t.test('setRunState locks with who and when, and unlocks', async (t) => {
  const { store, clock } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  clock.now = 5000;
  const locked = await store.setRunState(run.id, 'locked', { who: 'ann@h1' });
  t.match(locked, { state: 'locked', lockedBy: 'ann@h1', lockedAt: 5000 });
  const again = await store.setRunState(run.id, 'locked', { who: 'bob@h2' });
  t.match(again, { state: 'locked', lockedBy: 'ann@h1', lockedAt: 5000 }, 'locking again keeps the first lock');
  const open = await store.setRunState(run.id, 'done', { who: 'bob@h2' });
  t.match(open, { state: 'new', lockedBy: null, lockedAt: null }, 'unlocked: the state its tests give (none yet: new)');
  const events = await store.events(run.id, 0);
  t.match(
    events.map((e) => [e.kind, e.detail, e.who]),
    [
      ['lock', 'locked (was new)', 'ann@h1'],
      ['unlock', 'unlocked (now new)', 'bob@h2'],
    ],
  );
  await t.rejects(store.setRunState(run.id, 'paused' as never), { code: 'BAD_VALUE' });
  await t.rejects(store.setRunState(run.id + 1, 'locked'), { code: 'NO_RUN' });
});

t.test('removeRun deletes the row and the database file', async (t) => {
  const { dir, store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const keep = await store.ensureRun({ ...NIGHTLY, runname: 'keep' });
  await store.registerTests(run.id, regsFor('a'));
  const file = path.join(dir, '.db', `${run.id}.db`);
  t.ok(fs.existsSync(`${file}-wal`), 'the handle is open in WAL mode');
  await store.removeRun(run.id);
  t.notOk(fs.existsSync(file));
  t.notOk(fs.existsSync(`${file}-wal`));
  t.notOk(fs.existsSync(`${file}-shm`));
  t.equal(await store.getRun(run.id), undefined);
  await t.rejects(store.listTests(run.id), { code: 'NO_RUN' });
  t.same(
    (await store.listRuns()).map((r) => r.id),
    [keep.id],
  );

  const fresh = await store.ensureRun(NIGHTLY);
  t.not(fresh.id, run.id, 'ids are never reused');
  t.same(await store.listTests(fresh.id), [], 'the new run starts empty');
});

t.test('main.db removed beside a run database is refused, not recreated empty', async (t) => {
  const dir = t.testdir();
  const first = openDirectStore(dir, { host: HOST, now: () => 1000 });
  const run = await first.ensureRun(NIGHTLY);
  await first.registerTests(run.id, regsFor('old'));
  await first.close();
  for (const f of fs.readdirSync(path.join(dir, '.db'))) {
    if (f.startsWith('main.db')) fs.rmSync(path.join(dir, '.db', f));
  }
  const err = t.throws(() => openDirectStore(dir, { host: HOST })) as TrellisError;
  t.equal(err.code, 'DB_MISSING');
  t.match(err.message, /main\.db is missing but .* holds 1 run database \(1\.db\)/);
  t.same(fs.readdirSync(path.join(dir, '.db')), ['1.db'], 'nothing created, nothing moved');
});

t.test('a stale database file under a fresh run id is moved aside', async (t) => {
  const dir = t.testdir();
  const { store } = makeStore(t, { dir });
  const first = await store.ensureRun(NIGHTLY);
  await store.registerTests(first.id, regsFor('old'));
  // A file under the next id, as left by an earlier main.db that had handed that id out.
  const next = first.id + 1;
  fs.copyFileSync(path.join(dir, '.db', `${first.id}.db`), path.join(dir, '.db', `${next}.db`));
  const again = await store.ensureRun({ ...NIGHTLY, runname: 'weekly' });
  t.equal(again.id, next, 'the id the stale file was named after');
  t.same(await store.listTests(again.id), [], 'the old tests are not mistaken for the new run');
  t.ok(
    fs.readdirSync(path.join(dir, '.db')).some((f) => f.startsWith(`${next}.db.orphan-`)),
    'the stale file is kept aside',
  );
});

t.test('openDirectStore on a run area that is a file gives RUNAREA_UNWRITABLE', async (t) => {
  const dir = t.testdir({ runs: 'a file, not a folder\n' });
  const err = t.throws(() => openDirectStore(path.join(dir, 'runs'), { host: HOST })) as TrellisError;
  t.equal(err.code, 'RUNAREA_UNWRITABLE');
  t.match(err.message, path.join(dir, 'runs', '.db'));
});
