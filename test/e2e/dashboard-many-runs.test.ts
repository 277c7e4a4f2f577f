/**
 * The dashboard over a run area with a thousand runs (made through the store, not run): it opens
 * on the newest, and H/L page through the others. Its own file, so that making the runs overlaps
 * the other dashboard tests. Each run costs the store a database file (6-15 ms on a loaded
 * 2-core machine), so the count is what keeps this test near 10 s; it is still twice the 500 runs
 * the layout looks at.
 */
import path from 'node:path';
import t from 'tap';
import { openDirectStore } from '../../src/store/direct-store.js';
import { cellsOf, line, makeDashboardArea, openDashboard, QUICK, TARGET } from './dashboard-fixture.js';
import { SCREEN_WAIT_MS } from '../helpers/tmux.js';

const RUNS = 1000;
const NEWEST = runName(RUNS);

t.test(`${RUNS} runs: newest on the left; H and L`, async (t) => {
  const area = makeDashboardArea(t, { quick: QUICK });
  const t0 = Date.now();
  await createRuns(path.join(area, 'runs'), RUNS);
  t.comment(`${RUNS} runs created in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const dash = await openDashboard(t, area);
  const newest = [RUNS, RUNS - 1, RUNS - 2].map(runName).join(' +');
  let screen = await dash.waitForScreen(new RegExp(`^run +${newest} `, 'm'), SCREEN_WAIT_MS, 'the newest runs first');
  t.match(line(screen, 1), new RegExp(`^trellis dashboard {2}runs {2}${RUNS} runs `), 'the title counts every run');
  t.match(line(screen, 2), new RegExp(`^ ${TARGET} ${NEWEST} `), 'the newest run is selected');
  screen = await dash.waitForScreen(
    (s) => {
      const cells = cellsOf(s, ' quick') ?? [];
      return cells[0] === 'PASS' && cells.length > 10 && cells.slice(1).every((c) => c === '.');
    },
    SCREEN_WAIT_MS,
    `quick PASS in ${NEWEST}, and not in the older runs' columns`,
  );

  await dash.keys('L');
  screen = await dash.waitForScreen((s) => !line(s, 2).startsWith(` ${TARGET} ${NEWEST} `), SCREEN_WAIT_MS, 'another run selected');
  const older = /^ linux\/x86_64 (n\d{4}) /.exec(line(screen, 2))?.[1];
  t.ok(older !== undefined && older < NEWEST, `L selects an older run (${older})`);
  t.match(screen, new RegExp(`^run .* ${older}( |$)`, 'm'), 'its column is on screen');
  await dash.keys('H');
  await dash.waitForScreen((s) => line(s, 2).startsWith(` ${TARGET} ${NEWEST} `), SCREEN_WAIT_MS, 'H back to the newest');
});

/** The name of the i-th run made: n0001, n0002, … (names sort as the runs were made). */
function runName(i: number): string {
  return `n${String(i).padStart(4, '0')}`;
}

/**
 * Runs n0001 … nNNNN of linux/x86_64 straight through the store (not run); the newest has quick
 * PASS. A store keeps each run database it opened, so a fresh one every 250 runs bounds open files.
 */
async function createRuns(runArea: string, n: number): Promise<void> {
  const keys = { OS: 'linux', ARCH: 'x86_64' };
  for (let first = 1; first <= n; first += 250) {
    const store = openDirectStore(runArea, { host: 'dashboard-test' });
    try {
      for (let i = first; i < Math.min(first + 250, n + 1); i++) {
        const run = await store.ensureRun({ target: TARGET, keys, runname: runName(i) });
        if (i !== n) continue;
        const [test] = await store.registerTests(run.id, [{ testname: 'quick', itempath: '', priority: 0, rundir: '' }]);
        const now = Date.now() / 1000;
        await store.write(run.id, [
          {
            kind: 'test',
            opId: 'dashboard-test-quick',
            testId: test!.id,
            set: { state: 'COMPLETED', status: 'PASS', start: now, end: now },
            time: now,
          },
        ]);
        await store.setRunState(run.id, 'done');
      }
    } finally {
      await store.close();
    }
  }
}
