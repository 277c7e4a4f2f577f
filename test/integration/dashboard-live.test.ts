/**
 * The dashboard's data loop on real SQLite files: LiveSource over a direct store (pollChanges)
 * loads every run, then the cells of the runs it follows; a write shows up without asking; a new
 * run appears; following other runs ends the poll in flight at once instead of letting it wait.
 */
import t from 'tap';
import { pollChanges } from '../../src/store/poll-changes.js';
import { LiveSource, type FeedAccess } from '../../src/view/live-source.js';
import { MatrixData } from '../../src/view/matrix-data.js';
import type { FeedBatch, FeedCursor } from '../../src/model/records.js';
import { makeStore, NIGHTLY, regsFor, rowOf, setOp } from '../unit/store-fixture.js';

/** Resolves when `check` holds after an update; fails with what is there after `ms`. */
function waitFor(updates: EventTarget, check: () => boolean, what: string, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve();
    const timer = setTimeout(() => {
      updates.removeEventListener('update', on);
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    const on = () => {
      if (!check()) return;
      clearTimeout(timer);
      updates.removeEventListener('update', on);
      resolve();
    };
    updates.addEventListener('update', on);
  });
}

t.test('loads, follows, sees writes and new runs, and never leaves a poll waiting after a change of runs', async (t) => {
  const { store, clock } = makeStore(t);
  const nightly = await store.ensureRun(NIGHTLY);
  const rows = await store.registerTests(nightly.id, regsFor('build', 'unit/a', 'unit/b'));
  clock.now = 1001;
  const weekly = await store.ensureRun({ ...NIGHTLY, runname: 'weekly' });
  await store.registerTests(weekly.id, regsFor('build'));

  const polls: { cursor: FeedCursor; started: number; ended?: number; aborted?: boolean }[] = [];
  const feed: FeedAccess = {
    changes: (c) => store.changes(c),
    waitForChanges: async (c, ms, signal): Promise<FeedBatch> => {
      const p: (typeof polls)[number] = { cursor: c, started: Date.now() };
      polls.push(p);
      updates.dispatchEvent(new Event('update'));
      const batch = await pollChanges(store, c, ms, 20, signal);
      p.ended = Date.now();
      p.aborted = signal.aborted;
      return batch;
    },
  };
  const data = new MatrixData();
  // Fired on every update and every poll started.
  const updates = new EventTarget();
  const troubles: (string | undefined)[] = [];
  const source = new LiveSource({
    feed,
    data,
    waitMs: 5_000,
    minIntervalMs: 10,
    onUpdate: () => updates.dispatchEvent(new Event('update')),
    onTrouble: (m) => troubles.push(m),
  });
  t.teardown(() => source.stop());

  await source.start();
  t.same(
    data.runs().map((r) => r.runname),
    ['weekly', 'nightly'],
    'every run, newest first',
  );
  t.notOk(data.hasCells(nightly.id), 'no cells before following');

  source.follow([nightly.id]);
  await waitFor(updates, () => data.hasCells(nightly.id), 'the cells of the followed run');
  t.equal(data.cell(nightly.id, 'unit/a')?.state, 'NOT_STARTED');
  t.same(data.rowTree().tests, [
    { testname: 'build', items: [] },
    { testname: 'unit', items: ['a', 'b'] },
  ]);

  // A write by someone else arrives on its own.
  await store.write(nightly.id, [setOp(rowOf(rows, 'unit/a').id, 'COMPLETED', 'FAIL', 1002)]);
  await waitFor(updates, () => data.cell(nightly.id, 'unit/a')?.status === 'FAIL', 'unit/a FAIL');
  t.equal(data.cell(nightly.id, 'unit')?.status, 'FAIL', 'and its test rolled up');

  // A new run appears.
  clock.now = 1003;
  await store.ensureRun({ ...NIGHTLY, runname: 'hotfix' });
  await waitFor(updates, () => data.runs()[0]?.runname === 'hotfix', 'the new run, leftmost');

  // Following other runs ends the quiet poll in flight at once.
  const seen = polls.length;
  await waitFor(updates, () => polls.length > seen && polls[polls.length - 1]!.ended === undefined, 'the next poll to wait');
  const waiting = polls[polls.length - 1]!;
  source.follow([weekly.id]);
  await waitFor(updates, () => data.hasCells(weekly.id), 'the newly followed run');
  t.ok(waiting.aborted, 'the old poll was ended');
  t.ok(waiting.ended! - waiting.started < 4_000, 'well before its wait was over');
  t.notOk(data.hasCells(nightly.id), 'the run no longer followed was let go');
  t.same(troubles, [], 'no trouble on the way');
});

t.test('a feed that fails reports trouble, keeps trying, and reports when it works again', async (t) => {
  const { store } = makeStore(t);
  await store.ensureRun(NIGHTLY);
  let failing = true;
  const feed: FeedAccess = {
    changes: (c) => store.changes(c),
    waitForChanges: async (c, ms, signal) => {
      if (failing) throw new Error('connection refused');
      return pollChanges(store, c, ms, 20, signal);
    },
  };
  const troubles: (string | undefined)[] = [];
  const changed = new EventTarget();
  const source = new LiveSource({
    feed,
    data: new MatrixData(),
    waitMs: 200,
    minIntervalMs: 10,
    retryMs: 20,
    onUpdate: () => {},
    onTrouble: (m) => {
      troubles.push(m);
      changed.dispatchEvent(new Event('update'));
    },
  });
  t.teardown(() => source.stop());
  await source.start();
  await waitFor(changed, () => troubles.length === 1, 'the trouble');
  t.same(troubles, ['connection refused']);
  failing = false;
  await waitFor(changed, () => troubles.length === 2, 'the recovery');
  t.same(troubles, ['connection refused', undefined], 'reported once each way, however many retries');
});
