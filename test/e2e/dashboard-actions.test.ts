/**
 * The dashboard's actions on tests, through the built CLI in a real terminal (tmux): K kills a
 * running item, S sets a state and status, R asks before it reruns (n does nothing) and y reruns.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { runAreaPaths } from '../../src/config/paths.js';
import { SCREEN_WAIT_MS } from '../helpers/tmux.js';
import {
  bottomLine,
  cellsOf,
  makeDashboardArea,
  openDashboard,
  openGate,
  quit,
  rowIs,
  runUnderWay,
  startBackgroundRun,
  TARGET,
} from './dashboard-fixture.js';

t.test('K kills, S sets, R then n does nothing, R then y reruns', async (t) => {
  const area = makeDashboardArea(t);
  const run = startBackgroundRun(t, area, 'a');
  const dash = await openDashboard(t, area);
  await dash.waitForScreen(runUnderWay, SCREEN_WAIT_MS, 'the items of slow running, quick passed, flaky failed');
  const bottomIs = (text: string | RegExp) => (s: string) => (typeof text === 'string' ? bottomLine(s) === text : text.test(bottomLine(s)));

  // Rows: flaky, quick, -slow (3), 1, 2, 3.
  await dash.keys('g', 'j', 'j', 'j', 'K');
  await dash.waitForScreen(bottomIs(`kill slow/1 in ${TARGET} a? (y/n)`), SCREEN_WAIT_MS, 'the kill question');
  await dash.keys('y');
  await dash.waitForScreen(bottomIs('asked the runner to kill slow/1'), SCREEN_WAIT_MS, 'the kill asked');
  let screen = await dash.waitForScreen(rowIs('   1', 'KILLED'));
  t.same(cellsOf(screen, '   2'), ['RUN'], 'item 2 still runs');
  t.same(cellsOf(screen, '   3'), ['RUN'], 'item 3 still runs');

  await dash.keys('g', 'j', 'S');
  await dash.waitForScreen(
    bottomIs(`set STATE,STATUS of quick in ${TARGET} a (e.g. COMPLETED,WAIVED): _`),
    SCREEN_WAIT_MS,
    'the set prompt',
  );
  await dash.type('COMPLETED,WAIVED');
  await dash.keys('Enter');
  screen = await dash.waitForScreen(rowIs(' quick', 'WAIVED'));
  await dash.waitForScreen(bottomIs('set COMPLETED/WAIVED on 1 row(s) of quick'), SCREEN_WAIT_MS, 'what was set');

  const logsDir = runAreaPaths(path.join(area, 'runs')).logsDir;
  const rerunLogs = () => fs.readdirSync(logsDir).filter((f) => f.startsWith('rerun-'));
  await dash.keys('g', 'R');
  await dash.waitForScreen(bottomIs(`rerun flaky in ${TARGET} a? (y/n)`), SCREEN_WAIT_MS, 'the rerun question');
  await dash.keys('n');
  screen = await dash.waitForScreen(bottomIs('rerun cancelled'), SCREEN_WAIT_MS, 'the rerun cancelled');
  t.same(cellsOf(screen, ' flaky'), ['FAIL'], 'flaky still failed');
  t.same(rerunLogs(), [], 'no rerun was started');

  // A run refuses a second runner: let the first one end before the rerun.
  openGate(area, 2);
  openGate(area, 3);
  const res = await run.done;
  t.equal(res.code, 1, 'run a ends with failures (flaky, the killed item)', { output: res.stdout + res.stderr });
  screen = await dash.waitForScreen(/^state +done$/m, SCREEN_WAIT_MS, 'run a done');
  t.same(cellsOf(screen, '-slow (3)'), ['KILLED'], 'slow rolls up its killed item');

  fs.writeFileSync(path.join(area, 'fixed'), '');
  await dash.keys('R');
  await dash.waitForScreen(bottomIs(`rerun flaky in ${TARGET} a? (y/n)`), SCREEN_WAIT_MS, 'the rerun question');
  await dash.keys('y');
  await dash.waitForScreen(rowIs(' flaky', 'PASS'), SCREEN_WAIT_MS);
  screen = await dash.waitForScreen(bottomIs(/^rerun of flaky in a finished: /), SCREEN_WAIT_MS, 'the rerun to report its end');
  t.equal(rerunLogs().length, 1, 'one rerun log');
  t.same(cellsOf(screen, ' quick'), ['WAIVED'], 'the rerun ran only flaky');
  t.equal(await quit(dash), 0, 'q exits 0');
});
