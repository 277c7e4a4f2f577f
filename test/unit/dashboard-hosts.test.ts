/**
 * The hosts view's pure parts: the frame (the columns of `trellis hosts`, stored text escaped, the
 * status word in its tone, totals, an empty pool, clipped to the width) and the keys that leave
 * it; and, on a real main.db, the pool followed in the change feed: an agent joining, a job taken,
 * an agent leaving each wake the open view's reader, which otherwise reads only every minute here.
 */
import t from 'tap';
import { buildHostsFrame } from '../../src/dashboard/hosts-view.js';
import type { Line } from '../../src/dashboard/frame.js';
import { handleKey, initialUi, type Grid } from '../../src/dashboard/ui-state.js';
import type { FeedBatch } from '../../src/model/records.js';
import { pollChanges } from '../../src/store/poll-changes.js';
import { HostsReader } from '../../src/view/hosts-reader.js';
import { LiveSource } from '../../src/view/live-source.js';
import { MatrixData } from '../../src/view/matrix-data.js';
import { makeHost, makeJob } from './dashboard-fixture.js';
import { makeStore, NIGHTLY } from './store-fixture.js';

const text = (lines: Line[]) => lines.map((l) => l.map((s) => s.text).join(''));
const NOW = 10_000;
const frame = (hosts: Parameters<typeof buildHostsFrame>[0]['hosts'], width = 200, height = 20) =>
  buildHostsFrame({ ui: { ...initialUi(), mode: 'hosts' }, hosts, now: NOW, width, height, banner: undefined });

t.test('every agent as trellis hosts shows it, with totals', async (t) => {
  const hosts = [
    makeHost('alpha', { tags: ['linux', 'gpu'], load: 0.5, heartbeat: NOW - 3, status: 'busy', jobs: [makeJob('build/x86', 'nightly')] }),
    makeHost('beta', { slots: 1, heartbeat: NOW - 400, status: 'offline' }),
  ];
  const lines = frame(hosts);
  const shown = text(lines);
  t.match(shown[2], /^NAME +HOST +STATUS +SLOTS +TAGS +HEARTBEAT +LOAD +VERSION +RUNNING$/);
  t.match(shown[3], /^alpha +alpha-host +busy +1\/2 +linux,gpu +3s ago +0\.50 +0\.1\.0 +build\/x86 \(linux\/x86_64\/nightly\)$/);
  t.match(shown[4], /^beta +beta-host +offline +0\/1 +- +7m ago +- +0\.1\.0 +-$/);
  t.ok(
    shown.some((l) => l.startsWith('2 agent(s), 1 busy; 1 of 2 slot(s) in use')),
    'totals: an offline agent offers no slots',
  );
  const busy = lines[3]!.find((s) => s.text === 'busy');
  t.same([busy?.tone, busy?.bold], ['running', true], 'the status word in its tone');
  t.equal(lines[4]!.find((s) => s.text === 'offline')?.tone, 'never');
  t.equal(shown.length, 20, 'the whole height');
  t.match(shown[19], /q back to the matrix/);
});

t.test('stored text reaches the terminal escaped, and every line fits', async (t) => {
  const hostile = makeHost('alpha', {
    host: 'evil\x1b]0;owned\x07host',
    version: '1.0\x1b[2J',
    user: 'u\nv',
    jobs: [makeJob('t\x1b[31m/i\r', 'r\x08')],
  });
  const shown = text(frame([hostile], 200));
  t.notMatch(shown.join(''), /[\x00-\x1f\x7f]/, 'no control character');
  t.match(shown[3], /evil\\x1b\]0;owned\\x07host/, 'the host shown escaped');
  t.match(shown[3], /1\.0\\x1b\[2J/, 'the version shown escaped');
  const narrow = text(frame([hostile], 40));
  t.same(
    narrow.filter((l) => l.length > 40),
    [],
    'every line fits 40 columns',
  );
});

t.test('an empty pool says how to start an agent; not read yet says so', async (t) => {
  t.match(text(frame([])).join('\n'), /No agents have registered in this run area\.\nStart one on each host with: +trellis agent/);
  t.match(text(frame(undefined)).join('\n'), /reading the pool\.\.\./);
});

t.test('n opens the view from the matrix; n, q and Escape go back; ? comes back to it', async (t) => {
  const grid: Grid = { rows: [], runs: [], pageRows: 10, pageCols: 5 };
  const matrix = initialUi();
  const hosts = handleKey(matrix, 'n', grid).ui;
  t.equal(hosts.mode, 'hosts');
  for (const key of ['n', 'q', 'escape']) t.equal(handleKey(hosts, key, grid).ui.mode, 'matrix', `${key} goes back`);
  t.equal(handleKey(hosts, 'j', grid).ui.mode, 'hosts', 'other keys stay');
  const help = handleKey(hosts, '?', grid).ui;
  t.equal(help.mode, 'help');
  t.equal(handleKey(help, 'q', grid).ui.mode, 'hosts', 'help goes back to the hosts view');
});

t.test('the open view is woken by the pool in the feed, and only while it is open', async (t) => {
  const { store, clock } = makeStore(t);
  const live = () => ({ now: clock.now, deadtime: 60 });
  const events = new EventTarget();
  const reads: string[][] = [];
  const reader = new HostsReader({
    list: () => store.listHosts(live()),
    onRead: () => {
      reads.push((reader.hosts ?? []).map((h) => `${h.name}:${h.status}`));
      events.dispatchEvent(new Event('read'));
    },
    // Only a wake from the feed can bring a change within the test.
    everyMs: 60_000,
  });
  const wakes: number[] = [];
  const data = new MatrixData();
  const runShown = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the new run never came through the feed')), 10_000);
    const shown = () => {
      clearTimeout(timer);
      resolve();
    };
    events.addEventListener('run', shown, { once: true });
  });
  const source = new LiveSource({
    feed: {
      changes: (c) => store.changes(c),
      waitForChanges: (c, ms, signal): Promise<FeedBatch> => pollChanges(store, c, ms, 20, signal),
    },
    data,
    onUpdate: () => {
      if (data.runs().length > 0) events.dispatchEvent(new Event('run'));
    },
    onTrouble: (message) => t.fail(`feed trouble: ${message}`),
    onPoolChange: () => {
      wakes.push(reads.length);
      reader.wake();
    },
  });
  t.teardown(() => {
    reader.stop();
    source.stop();
  });
  /** Resolves when the last read shows `want`; fails with every read after 10 s (its timer also keeps the process up). */
  const readShowing = (want: string[]) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no read showed ${want.join(' ')}; reads: ${JSON.stringify(reads)}`)), 10_000);
      const check = () => {
        if (JSON.stringify(reads.at(-1)) !== JSON.stringify(want)) return;
        clearTimeout(timer);
        events.removeEventListener('read', check);
        resolve();
      };
      events.addEventListener('read', check);
      check();
    });

  await source.start();
  reader.start();
  source.followPool(true);
  await readShowing([]);

  const spec = { host: 'far', user: 'tester', pid: 4242, procStart: null, slots: 2, tags: [], version: '0.1.0' };
  const alpha = await store.registerPoolAgent({ name: 'alpha', ...spec }, null, live());
  await readShowing(['alpha:idle']);
  await store.drainPoolAgent('alpha');
  await readShowing(['alpha:draining']);
  await store.leavePool('alpha', alpha.session);
  await readShowing(['alpha:offline']);
  t.ok(wakes.length >= 3, 'each change woke the reader');

  // Closed: a wake reads nothing, and the feed no longer follows the pool: a run created after an
  // agent joined comes through the feed without a wake.
  reader.stop();
  source.followPool(false);
  const [reading, woken] = [reads.length, wakes.length];
  await store.registerPoolAgent({ name: 'beta', ...spec }, null, live());
  reader.wake();
  await store.ensureRun(NIGHTLY);
  await runShown;
  t.equal(reads.length, reading, 'no read while closed');
  t.equal(wakes.length, woken, 'no wake from the feed while closed');
});
