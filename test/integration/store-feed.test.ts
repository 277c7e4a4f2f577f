/**
 * The change feed of the direct store (Store.changes) on real SQLite files: the first read gives
 * every run; after each kind of write the right runs, cells, removed rows and removed runs come
 * back, and the cursor then is quiet; a reader more than 5,000 rows behind gets the whole run; a
 * second store on the same files (a --direct writer) is seen; a v1 main.db migrates and joins in.
 * And pollChanges, the --direct reader's wait.
 */
import Database from 'better-sqlite3';
import t from 'tap';
import { pollChanges } from '../../src/store/poll-changes.js';
import { runAreaPaths } from '../../src/config/paths.js';
import { MAIN_MIGRATIONS } from '../../src/db/main-schema.js';
import { getLatestVersion, openDatabase } from '../../src/db/open.js';
import type { CellRecord, FeedBatch, FeedCursor, TestRecord } from '../../src/model/records.js';
import { openDirectStore } from '../../src/store/direct-store.js';
import { FULL_RESET_AFTER } from '../../src/store/feed.js';
import { HOST, makeStore, NIGHTLY, regsFor, rowOf, setOp } from '../unit/store-fixture.js';

const WEEKLY = { ...NIGHTLY, runname: 'weekly' };
const EVERYTHING: FeedCursor = { runsSeq: 0, runs: {} };

/** The batch that says nothing changed since `cursor`. */
const quiet = (cursor: FeedCursor): FeedBatch => ({ cursor, runs: [], removedRuns: [], cells: [] });

/** A row as the feed shows it. */
const cellOf = (r: TestRecord): CellRecord => ({ id: r.id, testname: r.testname, itempath: r.itempath, state: r.state, status: r.status });

/** `test/item:STATE/status` of each cell, for readable comparisons. */
const show = (cells: readonly CellRecord[]) =>
  cells.map((c) => `${c.itempath ? `${c.testname}/${c.itempath}` : c.testname}:${c.state}/${c.status}`);

t.test('the first read gives every run, newest first; its cursor then reads nothing', async (t) => {
  const { store, clock } = makeStore(t);
  t.same(await store.changes(EVERYTHING), quiet({ runsSeq: 1, runs: {} }), 'a new area: no runs, and a cursor past its start');

  const nightly = await store.ensureRun(NIGHTLY);
  clock.now = 1001;
  const weekly = await store.ensureRun(WEEKLY);
  const first = await store.changes(EVERYTHING);
  t.same(first.runs, await store.listRuns(), 'every run, as listRuns has them');
  t.same(
    first.runs.map((r) => r.id),
    [weekly.id, nightly.id],
    'newest first',
  );
  t.same(first.removedRuns, []);
  t.same(first.cells, []);
  t.ok(first.cursor.runsSeq > 1, 'the cursor moved on');

  t.same(await store.changes(first.cursor), quiet(first.cursor), 'nothing changed: empty lists, the same cursor');
  await store.ensureRun(NIGHTLY);
  t.same(await store.changes(first.cursor), quiet(first.cursor), 'ensureRun of an existing run changes nothing');
});

t.test('runs: each change gives the run a new change number; a removed run leaves a tombstone', async (t) => {
  const { store, clock } = makeStore(t);
  const nightly = await store.ensureRun(NIGHTLY);
  const weekly = await store.ensureRun(WEEKLY);
  const c0 = (await store.changes(EVERYTHING)).cursor;

  clock.now = 1010;
  await store.setRunState(nightly.id, 'locked', { who: 'ann@h1' });
  const locked = await store.changes(c0);
  t.match(locked.runs, [{ id: nightly.id, state: 'locked', lockedBy: 'ann@h1' }], 'setRunState: the run, as it is now');
  t.equal(locked.runs.length, 1, 'only that run');
  t.same(locked.removedRuns, []);
  t.ok(locked.cursor.runsSeq > c0.runsSeq);

  const [a] = await store.registerTests(weekly.id, regsFor('a'));
  const registered = await store.changes(locked.cursor);
  t.match(registered.runs, [{ id: weekly.id, total: 1, counts: { 'n/a': 1 } }], 'registerTests: the run with its new counts');
  await store.write(weekly.id, [setOp(a!.id, 'COMPLETED', 'PASS', 1020)]);
  const written = await store.changes(registered.cursor);
  t.match(written.runs, [{ id: weekly.id, state: 'done', status: 'PASS', counts: { PASS: 1 } }], 'write: the run rolled up');

  await store.removeRun(nightly.id, { force: true });
  const removed = await store.changes(written.cursor);
  t.same(removed.runs, [], 'a removed run is not among the changed ones');
  t.same(removed.removedRuns, [nightly.id], 'it is a tombstone');
  t.same(await store.changes(removed.cursor), quiet(removed.cursor), 'and only once');

  const behind = await store.changes(c0);
  t.same(
    behind.runs.map((r) => r.id),
    [weekly.id],
    'a reader further behind: the run that changed and still is',
  );
  t.same(behind.removedRuns, [nightly.id], 'and the one that went');
  t.same(behind.cursor, removed.cursor, 'to the same place');
  const fresh = await store.changes(EVERYTHING);
  t.same(
    fresh.runs.map((r) => r.id),
    [weekly.id],
    'from 0: the runs there are',
  );
  t.same(fresh.removedRuns, [], 'and no tombstones: there is nothing to forget');
});

t.test('cells: registrations, writes and removals of rows, items included', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const key = String(run.id);
  const empty = await store.changes({ runsSeq: 0, runs: { [key]: 0 } });
  t.same(empty.cells, [], 'a run with nothing recorded yet: no entry');
  t.same(empty.cursor.runs, { [key]: 0 }, 'and its cursor stays 0');

  const rows = await store.registerTests(run.id, regsFor('b', 'b/1', 'b/2', 'a'));
  const all = await store.changes({ runsSeq: 0, runs: { [key]: 0 } });
  t.equal(all.cells.length, 1);
  const full = all.cells[0]!;
  t.match(full, { runId: run.id, full: true, removed: [] }, 'cursor 0: every cell, to replace');
  t.same(full.cells, (await store.listTests(run.id)).map(cellOf), 'exactly the lean cell of each row, ordered');
  t.equal(all.cursor.runs[key], full.seq, 'the cursor reaches the seq of the answer');
  const c1 = all.cursor;
  t.same(await store.changes(c1), quiet(c1), 'quiet after');

  await store.write(run.id, [setOp(rowOf(rows, 'b/1').id, 'RUNNING', 'n/a', 1001)]);
  const running = await store.changes(c1);
  t.match(running.cells, [{ runId: run.id, full: false, removed: [] }], 'a write: the changed cells only');
  t.same(show(running.cells[0]!.cells), ['b:RUNNING/n/a', 'b/1:RUNNING/n/a'], 'the item and its rolled-up test');

  await store.write(run.id, [
    setOp(rowOf(rows, 'b/1').id, 'COMPLETED', 'PASS', 1002),
    setOp(rowOf(rows, 'a').id, 'COMPLETED', 'FAIL', 1002),
    { kind: 'step', opId: 'step-1', testId: rowOf(rows, 'b/2').id, name: 'build', state: 'RUNNING', status: 'n/a', time: 1002 },
  ]);
  const ended = await store.changes(running.cursor);
  t.same(show(ended.cells[0]!.cells), ['a:COMPLETED/FAIL', 'b/1:COMPLETED/PASS'], 'a step alone does not change a cell');

  await store.write(run.id, [{ kind: 'reset', opId: 'reset-1', testId: rowOf(rows, 'a').id, time: 1003 }]);
  t.same(show((await store.changes(ended.cursor)).cells[0]!.cells), ['a:NOT_STARTED/n/a'], 'a reset is a change');

  const beforeRemoval = (await store.changes(c1)).cursor;
  await store.removeTests(run.id, [rowOf(rows, 'b').id]);
  const removed = await store.changes(beforeRemoval);
  t.same(removed.cells[0]?.cells, [], 'removeTests: no cells');
  t.same(
    removed.cells[0]?.removed,
    ['b', 'b/1', 'b/2'].map((n) => rowOf(rows, n).id).sort((x, y) => x - y),
    'the test and its items, removed',
  );

  const [c] = await store.registerTests(run.id, regsFor('c'));
  const added = await store.changes(removed.cursor);
  t.same(added.cells[0]?.cells, [cellOf(c!)], 'registerTests: the new row');

  const late = await store.changes(c1);
  t.same(show(late.cells[0]!.cells), ['a:NOT_STARTED/n/a', 'c:NOT_STARTED/n/a'], 'a reader behind: the rows as they are now');
  t.same(
    late.cells[0]!.removed,
    ['b', 'b/1', 'b/2'].map((n) => rowOf(rows, n).id).sort((x, y) => x - y),
    'and the rows gone since',
  );

  await store.setRunState(run.id, 'locked');
  const state = await store.changes(added.cursor);
  t.same(state.cells, [], 'a run state change touches no cell: no entry');
  t.ok(state.cursor.runs[key]! > added.cursor.runs[key]!, 'but the cursor moves past it');
  t.same(
    state.runs.map((r) => r.id),
    [run.id],
    'and the run itself changed',
  );
  t.same(await store.changes(state.cursor), quiet(state.cursor), 'quiet again');
});

t.test('a cursor with endedRows gets the whole rows of the cells that ended (not of the others)', async (t) => {
  const { store, clock } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const rows = await store.registerTests(run.id, regsFor('a', 'b', 'c', 'd'));
  const start = await store.changes({ runsSeq: 0, runs: { [run.id]: 0 }, endedRows: true });
  t.equal(start.cells[0]?.full, true, 'the first read of a run is full');
  t.equal(start.cells[0]?.ended, undefined, 'and carries no rows: a full read can be a whole big run');
  t.equal(start.cursor.endedRows, true, 'the cursor keeps asking');
  clock.now = 1010;
  const id = (n: string) => rowOf(rows, n).id;
  await store.write(run.id, [
    setOp(id('a'), 'COMPLETED', 'PASS', clock.now, { launchId: 'L-a', comment: 'all good' }),
    setOp(id('b'), 'RUNNING', 'n/a', clock.now),
    setOp(id('c'), 'WAITING', 'MANUAL', clock.now, { comment: 'sign-off due' }),
    setOp(id('d'), 'INCOMPLETE', 'DEAD', clock.now),
  ]);
  const next = await store.changes(start.cursor);
  const change = next.cells[0]!;
  t.same(show(change.cells), ['a:COMPLETED/PASS', 'b:RUNNING/n/a', 'c:WAITING/MANUAL', 'd:INCOMPLETE/DEAD']);
  t.same(
    change.ended?.map((r) => r.testname),
    ['a', 'c', 'd'],
    'the rows that ended or wait, not the running one',
  );
  t.match(change.ended?.[0], { id: id('a'), state: 'COMPLETED', status: 'PASS', launchId: 'L-a', comment: 'all good' }, 'whole rows');
  t.same(change.ended, await store.listTests(run.id, { ids: [id('a'), id('c'), id('d')] }), 'as listTests has them');
  // A cursor that does not ask gets the cells alone.
  const plain = await store.changes({ runsSeq: start.cursor.runsSeq, runs: start.cursor.runs });
  t.equal(plain.cells[0]?.ended, undefined, 'no rows when not asked');
  t.equal(plain.cursor.endedRows, undefined);
});

t.test(`a reader more than ${FULL_RESET_AFTER} rows behind gets every cell again`, async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const key = String(run.id);
  const names = Array.from({ length: FULL_RESET_AFTER + 1 }, (_, i) => `t${String(i).padStart(5, '0')}`);
  const rows = await store.registerTests(run.id, regsFor(...names));
  const c = (await store.changes({ runsSeq: 0, runs: { [key]: 0 } })).cursor;

  await store.write(
    run.id,
    rows.slice(0, FULL_RESET_AFTER).map((r) => setOp(r.id, 'RUNNING', 'n/a', 1001)),
  );
  const many = (await store.changes(c)).cells[0]!;
  t.equal(many.full, false, `${FULL_RESET_AFTER} changed rows: still the changes`);
  t.equal(many.cells.length, FULL_RESET_AFTER);

  await store.write(run.id, [setOp(rows[FULL_RESET_AFTER]!.id, 'RUNNING', 'n/a', 1002)]);
  const reset = (await store.changes(c)).cells[0]!;
  t.equal(reset.full, true, `${FULL_RESET_AFTER + 1} changed rows: the whole run instead`);
  t.equal(reset.cells.length, FULL_RESET_AFTER + 1, 'every cell');
  t.ok(
    reset.cells.every((x) => x.state === 'RUNNING'),
    'as they are now',
  );
  t.same(reset.removed, []);
});

t.test('a followed run that is removed: in removedRuns once, and dropped from the cursor', async (t) => {
  const { store } = makeStore(t);
  const nightly = await store.ensureRun(NIGHTLY);
  const weekly = await store.ensureRun(WEEKLY);
  await store.registerTests(weekly.id, regsFor('a'));
  const start = await store.changes({ runsSeq: 0, runs: { [nightly.id]: 0, [weekly.id]: 0, abc: 3 } });
  t.same(Object.keys(start.cursor.runs).sort(), [String(nightly.id), String(weekly.id)].sort(), 'a key that is no run id is dropped');

  await store.removeRun(nightly.id);
  const gone = await store.changes(start.cursor);
  t.same(gone.removedRuns, [nightly.id], 'listed once, though both followed and a tombstone');
  t.same(gone.cursor.runs, { [weekly.id]: start.cursor.runs[weekly.id] }, 'no longer followed');
  t.same(await store.changes(gone.cursor), quiet(gone.cursor), 'and not reported again');

  const fromZero = await store.changes({ runsSeq: 0, runs: { [nightly.id]: 5 } });
  t.same(fromZero.removedRuns, [nightly.id], 'runsSeq 0 lists no tombstones, but a followed run that is gone');
  t.same(
    fromZero.runs.map((r) => r.id),
    [weekly.id],
  );
});

t.test('a second store on the same files (a --direct writer) is seen', async (t) => {
  const { dir, store: reader } = makeStore(t);
  const writer = openDirectStore(dir, { host: HOST, now: () => 2000 });
  t.teardown(() => writer.close());
  const run = await writer.ensureRun(NIGHTLY);
  const doomed = await writer.ensureRun(WEEKLY);
  const [a] = await writer.registerTests(run.id, regsFor('a'));
  await writer.registerTests(doomed.id, regsFor('x'));
  const c = (await reader.changes({ runsSeq: 0, runs: { [run.id]: 0, [doomed.id]: 0 } })).cursor;

  await writer.write(run.id, [setOp(a!.id, 'RUNNING', 'n/a', 2001)]);
  await writer.removeRun(doomed.id);
  const other = await writer.ensureRun({ ...NIGHTLY, runname: 'other' });
  const seen = await reader.changes(c);
  t.same(
    seen.runs.map((r) => r.id),
    [other.id, run.id],
    'the new run and the written one',
  );
  t.same(seen.removedRuns, [doomed.id], 'the removed one');
  t.same(show(seen.cells[0]!.cells), ['a:RUNNING/n/a'], 'the written cell');
  t.same(Object.keys(seen.cursor.runs), [String(run.id)]);
  t.same(await reader.changes(seen.cursor), quiet(seen.cursor), 'quiet after');
});

t.test('a v1 main.db migrates: its runs are kept and join the feed', async (t) => {
  const dir = t.testdir();
  const file = runAreaPaths(dir).mainDb;
  const v1 = openDatabase(
    file,
    MAIN_MIGRATIONS.filter((m) => m.version === 1),
  );
  const insert = v1.prepare(`INSERT INTO runs (target, runname, keys, created, updated) VALUES (?, ?, ?, ?, ?)`);
  insert.run('linux/x86_64', 'old', '{"OS":"linux","ARCH":"x86_64"}', 100, 100);
  insert.run('linux/x86_64', 'older', '{"OS":"linux","ARCH":"x86_64"}', 50, 50);
  t.equal(v1.pragma('user_version', { simple: true }), 1);
  v1.close();

  const { store } = makeStore(t, { dir });
  const first = await store.changes(EVERYTHING);
  t.same(
    first.runs.map((r) => r.runname),
    ['old', 'older'],
    'the old runs, newest first',
  );
  t.equal(first.cursor.runsSeq, 1, 'they all carry change number 1');
  t.same(await store.changes(first.cursor), quiet(first.cursor), 'and are not news after that');

  const old = first.runs[0]!;
  await store.setRunState(old.id, 'locked');
  const changed = await store.changes(first.cursor);
  t.match(changed.runs, [{ id: old.id, state: 'locked' }], 'an old run changed is seen');
  await store.removeRun(first.runs[1]!.id);
  t.same((await store.changes(changed.cursor)).removedRuns, [first.runs[1]!.id], 'an old run removed leaves a tombstone');
  const added = await store.ensureRun(NIGHTLY);
  t.same(
    (await store.changes(changed.cursor)).runs.map((r) => r.id),
    [added.id],
    'a new run is seen',
  );

  await store.close();
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  t.equal(db.pragma('user_version', { simple: true }), getLatestVersion(MAIN_MIGRATIONS), 'the file is at the latest version');
  t.same(db.prepare(`SELECT id, change_seq FROM removed_runs`).all(), [{ id: first.runs[1]!.id, change_seq: 3 }], 'the tombstone row');
});

t.test('pollChanges: waits for a change, or returns the quiet batch after waitMs, or when aborted', async (t) => {
  const { dir, store } = makeStore(t);
  const writer = openDirectStore(dir, { host: HOST, now: () => 2000 });
  t.teardown(() => writer.close());
  const run = await writer.ensureRun(NIGHTLY);
  const c = (await store.changes(EVERYTHING)).cursor;

  // The writer writes right after the second look: the third must see it.
  let looks = 0;
  const watched = {
    changes: async (cursor: FeedCursor) => {
      const batch = await store.changes(cursor);
      looks += 1;
      if (looks === 2) await writer.setRunState(run.id, 'locked');
      return batch;
    },
  };
  const woken = await pollChanges(watched, c, 10_000, 20);
  t.equal(looks, 3, 'looked until the change was there');
  t.match(woken.runs, [{ id: run.id, state: 'locked' }]);

  const t0 = Date.now();
  const timedOut = await pollChanges(store, woken.cursor, 200, 50);
  t.ok(Date.now() - t0 >= 200, 'waited waitMs');
  t.same(timedOut, quiet(woken.cursor), 'then answered the quiet batch');

  const stop = new AbortController();
  const aborting = {
    changes: async (cursor: FeedCursor) => {
      const batch = await store.changes(cursor);
      stop.abort();
      return batch;
    },
  };
  const t1 = Date.now();
  const aborted = await pollChanges(aborting, woken.cursor, 10_000, 5000, stop.signal);
  t.ok(Date.now() - t1 < 2000, 'an abort ends the wait at once');
  t.same(aborted, quiet(woken.cursor), 'with the last batch read');
});
