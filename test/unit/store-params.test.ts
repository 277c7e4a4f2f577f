/**
 * Run parameters in the direct store: recorded with the run in main.db (migration 4), a change
 * logged once as a `params` event, a locked run refusing them without force, and a runs index
 * from before parameters opened with every run's `params` empty.
 */
import path from 'node:path';
import t from 'tap';
import { MAIN_MIGRATIONS } from '../../src/db/main-schema.js';
import { openDatabase } from '../../src/db/open.js';
import { makeStore, NIGHTLY } from './store-fixture.js';

t.test('parameters are recorded with the run; a change is one event', async (t) => {
  const { store, clock } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  t.same(run.params, {}, 'a new run has none');
  const recorded = await store.setRunParams(run.id, { VERSION: '1.4', NOTE: 'two words', EMPTY: '' }, { who: 'ann@h1' });
  t.same(recorded.params, { VERSION: '1.4', NOTE: 'two words', EMPTY: '' });
  t.same((await store.findRun(NIGHTLY.target, NIGHTLY.runname))!.params, recorded.params, 'read back');
  clock.now = 1001;
  await store.setRunParams(run.id, { NOTE: 'two words', VERSION: '1.4', EMPTY: '' }, { who: 'ann@h1' });
  await store.setRunParams(run.id, { VERSION: '1.5' }, { who: 'bob@h2' });
  const events = (await store.events(run.id, 0)).filter((e) => e.kind === 'params');
  t.same(
    events.map((e) => `${e.who}: ${e.detail}`),
    ['ann@h1: VERSION=1.4 NOTE="two words" EMPTY=""', 'bob@h2: VERSION=1.5'],
    'the same parameters again log nothing',
  );
  t.same((await store.getRun(run.id))!.params, { VERSION: '1.5' }, 'replaced, not merged');
});

t.test('a locked run refuses new parameters unless forced', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  await store.setRunState(run.id, 'locked', { who: 'lead@h1' });
  await t.rejects(store.setRunParams(run.id, { VERSION: '2' }), { code: 'RUN_LOCKED' });
  t.same((await store.getRun(run.id))!.params, {}, 'nothing recorded');
  t.same((await store.setRunParams(run.id, { VERSION: '2' }, { force: true, who: 'ann@h1' })).params, { VERSION: '2' });
  t.ok(
    (await store.events(run.id, 0)).some((e) => e.kind === 'forced' && e.who === 'ann@h1'),
    'the forced write is logged',
  );
});

t.test('a runs index from before parameters: every run opens with none', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, '.db', 'main.db');
  const old = openDatabase(
    file,
    MAIN_MIGRATIONS.filter((m) => m.version < 4),
  );
  old.prepare(`INSERT INTO runs (target, runname, keys, created, updated) VALUES ('linux/x86_64', 'old', '{}', 1, 1)`).run();
  old.close();
  const { store } = makeStore(t, { dir });
  const [run] = await store.listRuns();
  t.match(run, { runname: 'old', params: {} });
});
