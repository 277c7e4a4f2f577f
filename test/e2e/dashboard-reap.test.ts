/**
 * A runner killed with -9 leaves its run `running` with tests that nobody runs. The dashboard
 * checks runs shown `running` when it opens and every 15 s after: the dead runner's tests turn
 * DEAD and the run done, on this dashboard and on any other watching.
 */
import t from 'tap';
import { makeDashboardArea, openDashboard, openGate, quit, rowIs, runUnderWay, startBackgroundRun } from './dashboard-fixture.js';
import { SCREEN_WAIT_MS } from '../helpers/tmux.js';

t.test('a dashboard opening on a run whose runner died marks its tests DEAD; others watching see it', async (t) => {
  const area = makeDashboardArea(t);
  const run = startBackgroundRun(t, area, 'a');
  // The killed runner's steps outlive it (a known gap): let them end when the test does.
  t.teardown(() => {
    for (const n of [1, 2, 3]) openGate(area, n);
  });
  const watching = await openDashboard(t, area);
  await watching.waitForScreen(runUnderWay, SCREEN_WAIT_MS, 'the items of slow running');

  run.child.kill('SIGKILL');
  await run.done;
  const opened = await openDashboard(t, area);
  await opened.waitForScreen(rowIs('   1', 'DEAD'), SCREEN_WAIT_MS, 'the new dashboard marks the items DEAD');
  await opened.waitForScreen(/^state +done$/m, SCREEN_WAIT_MS, 'and the run done');
  await watching.waitForScreen(rowIs('   2', 'DEAD'), SCREEN_WAIT_MS, 'the dashboard already open sees it too');
  await watching.waitForScreen(/^state +done$/m, SCREEN_WAIT_MS, 'run done there too');
  t.equal(await quit(opened), 0);
  t.equal(await quit(watching), 0);
});
