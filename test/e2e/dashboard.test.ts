/**
 * The live dashboard as a user sees it: the built `trellis dashboard` in a real terminal (tmux),
 * over a real run area whose run the test paces with gate files. An empty run area, live updates
 * from the runner and from other commands, moving around, the detail view, help and filters.
 */
import t from 'tap';
import { trellis } from '../helpers/run-e2e.js';
import { SCREEN_WAIT_MS } from '../helpers/tmux.js';
import {
  bottomLine,
  cellsOf,
  KEY_HINTS,
  line,
  makeDashboardArea,
  openDashboard,
  openGate,
  QUICK,
  quit,
  rowIs,
  runUnderWay,
  startBackgroundRun,
  TARGET,
} from './dashboard-fixture.js';

t.test('empty run area: the hint; q exits 0, terminal given back', async (t) => {
  const area = makeDashboardArea(t, { quick: QUICK });
  const dash = await openDashboard(t, area);
  const screen = await dash.waitForScreen(/No runs yet in /);
  t.match(line(screen, 1), /^trellis dashboard {2}runs {2}0 runs +\? help {2}q quit$/, 'the title names the run area');
  t.match(screen, /^ No runs yet in \/\S+/m, 'names the run area in full');
  t.match(screen, /^ Start one with: {2}trellis run -t TARGET -r RUNNAME/m, 'says how to start a run');
  t.match(bottomLine(screen), KEY_HINTS, 'the key line is at the bottom');
  t.equal(await dash.display('#{alternate_on}'), '1', 'the dashboard has the full (alternate) screen');
  t.equal(await dash.display('#{cursor_flag}'), '0', 'the cursor is hidden while it runs');

  t.equal(await quit(dash), 0, 'exit code 0');
  const after = dash.lastScreen;
  t.equal(await dash.display('#{alternate_on}'), '0', 'back on the normal screen');
  t.equal(await dash.display('#{cursor_flag}'), '1', 'the cursor is shown again');
  t.equal(after.trim(), 'TRELLIS-EXIT=0', "nothing but the shell's line is left on the terminal");
});

t.test('live run: updates without a key press, a new run on the left', async (t) => {
  const area = makeDashboardArea(t);
  startBackgroundRun(t, area, 'a');
  const dash = await openDashboard(t, area);
  let screen = await dash.waitForScreen(runUnderWay, SCREEN_WAIT_MS, 'the items of slow running, quick passed, flaky failed');
  t.match(screen, /^run +a$/m, "the run's column");
  t.match(screen, /^state +running$/m, 'the run is running');
  t.same(cellsOf(screen, '-slow (3)'), ['RUN'], 'the test rolls up its running items');
  t.same(cellsOf(screen, ' quick'), ['PASS']);
  t.match(line(screen, 2), new RegExp(`^ ${TARGET} a {2}running {2}3 tests: PASS 1 {2}FAIL 1 {2}not ended 1`), 'the run line counts tests');

  openGate(area, 2);
  screen = await dash.waitForScreen(rowIs('   2', 'PASS'));
  t.same(cellsOf(screen, '   1'), ['RUN'], 'item 1 still runs');
  t.same(cellsOf(screen, '   3'), ['RUN'], 'item 3 still runs');

  const set = await trellis(t, area, ['set-state-status', ',WAIVED', '-t', TARGET, '-r', 'a', '-p', 'quick']);
  t.equal(set.code, 0, 'set-state-status exits 0', { output: set.stdout + set.stderr });
  await dash.waitForScreen(rowIs(' quick', 'WAIVED'));

  const b = await trellis(t, area, ['run', '-t', TARGET, '-r', 'b', '-p', 'quick']);
  t.equal(b.code, 0, 'run b exits 0', { output: b.stdout + b.stderr });
  await dash.waitForScreen(/^run +b +a$/m, SCREEN_WAIT_MS, 'run b as a new column left of a');
  await dash.waitForScreen(/^state +done +running$/m, SCREEN_WAIT_MS, 'run b done, a still running');
  await dash.waitForScreen(rowIs(' quick', 'PASS', 'WAIVED'));
  t.same(cellsOf(dash.lastScreen, '   2'), ['.', 'PASS'], 'run b has no slow');
  t.match(line(dash.lastScreen, 1), /^trellis dashboard {2}runs {2}2 runs /);
});

t.test('navigation: detail view, help, filters, folding', async (t) => {
  const area = makeDashboardArea(t);
  startBackgroundRun(t, area, 'a');
  const dash = await openDashboard(t, area);
  await dash.waitForScreen(runUnderWay, SCREEN_WAIT_MS, 'the items of slow running, quick passed, flaky failed');

  // Rows: flaky, quick, -slow (3), 1, 2, 3; the first is selected.
  await dash.keys('j', 'Enter');
  let screen = await dash.waitForScreen(/^Steps$/m, SCREEN_WAIT_MS, 'the detail view of quick');
  t.match(line(screen, 1), new RegExp(`^quick {2}in ${TARGET} a +q back`), 'j moved to quick');
  t.match(screen, /^State +COMPLETED +Status +PASS/m);
  t.match(screen, /^ {3}1 run +PASS +exit 0 /m, 'its step');
  t.match(screen, /^quick$/m, "its step's log");
  await dash.keys('q');
  await dash.waitForScreen(atMatrix, SCREEN_WAIT_MS, 'the matrix again');

  await dash.keys('Down', 'j', 'k', 'j', 'Enter');
  screen = await dash.waitForScreen(/^waiting for go-1$/m, SCREEN_WAIT_MS, "the detail view of slow/1 with its step's log");
  t.match(line(screen, 1), new RegExp(`^slow/1 {2}in ${TARGET} a `), 'Down, j, k, j moved to item 1 of slow');
  t.match(screen, /^State +RUNNING +Status +n\/a/m);
  t.match(screen, /^ {3}1 wait +RUN +exit - /m, 'the running step');
  t.match(screen, /^Log \//m, "the running step's log follows");
  openGate(area, 1);
  screen = await dash.waitForScreen(/^gate go-1 open$/m, SCREEN_WAIT_MS, 'the log tail to follow the step');
  await dash.waitForScreen(/^State +COMPLETED +Status +PASS/m);
  await dash.keys('q');
  screen = await dash.waitForScreen(rowIs('   1', 'PASS'));
  t.match(bottomLine(screen), KEY_HINTS, 'back to the matrix');

  await dash.keys('End', 'Enter');
  screen = await dash.waitForScreen(/^Steps$/m, SCREEN_WAIT_MS, 'the detail view of the last row');
  t.match(line(screen, 1), new RegExp(`^slow/3 {2}in ${TARGET} a `), 'End moved to the last row');
  await dash.keys('q', 'Home', 'Enter');
  screen = await dash.waitForScreen(
    (s) => /^Steps$/m.test(s) && line(s, 1).startsWith('flaky '),
    SCREEN_WAIT_MS,
    'the detail view of flaky',
  );
  t.match(screen, /^State +COMPLETED +Status +FAIL/m, 'Home moved to the first row, flaky');
  t.match(screen, /^checking$/m, "the failed step's log");
  await dash.keys('q');
  await dash.waitForScreen(atMatrix, SCREEN_WAIT_MS, 'the matrix again');

  await dash.keys('?');
  screen = await dash.waitForScreen(/^trellis dashboard: keys$/m, SCREEN_WAIT_MS, 'the help');
  t.match(screen, /^ {2}R +rerun the selected test/m);
  t.match(screen, /^any key: back$/m);
  await dash.keys('x');
  await dash.waitForScreen(atMatrix, SCREEN_WAIT_MS, 'the matrix after the help');

  await dash.keys('/');
  screen = await dash.waitForScreen((s) => bottomLine(s).startsWith('test pattern '), SCREEN_WAIT_MS, 'the test pattern prompt');
  await dash.type('slow');
  await dash.waitForScreen(
    (s) => / \(% wildcards, comma list, ~ negates\): slow_$/.test(bottomLine(s)),
    SCREEN_WAIT_MS,
    'the typed pattern',
  );
  await dash.keys('Enter');
  screen = await dash.waitForScreen(/filter: -p slow/, SCREEN_WAIT_MS, 'the pattern applied');
  t.match(line(screen, 1), /^trellis dashboard {2}runs {2}1 run {2}filter: -p slow /, 'the title shows the filter');
  t.same(visibleRows(screen), ['-slow (3)', '1', '2', '3'], 'only slow and its items');

  await dash.keys('u');
  screen = await dash.waitForScreen((s) => !/filter:/.test(line(s, 1)), SCREEN_WAIT_MS, 'the filter cleared');
  t.same(visibleRows(screen), ['flaky', 'quick', '-slow (3)', '1', '2', '3'], 'u clears the filter');

  await dash.keys('s');
  await dash.waitForScreen((s) => bottomLine(s).startsWith('status or state '), SCREEN_WAIT_MS, 'the status prompt');
  await dash.type('FAIL');
  await dash.keys('Enter');
  screen = await dash.waitForScreen(/filter: --status FAIL/, SCREEN_WAIT_MS, 'the status filter applied');
  t.same(visibleRows(screen), ['flaky'], 'only the failed test');
  await dash.keys('u');
  await dash.waitForScreen((s) => visibleRows(s).length === 6, SCREEN_WAIT_MS, 'every row back');

  await dash.keys('t');
  await dash.waitForScreen((s) => bottomLine(s).startsWith('target pattern '), SCREEN_WAIT_MS, 'the target prompt');
  await dash.type('nothing%');
  await dash.keys('Escape');
  screen = await dash.waitForScreen((s) => bottomLine(s) === 'cancelled', SCREEN_WAIT_MS, 'Escape to cancel the prompt');
  t.notMatch(line(screen, 1), /filter:/, 'no filter was set');

  await dash.keys('g', 'j', 'j', 'Space');
  screen = await dash.waitForScreen((s) => cellsOf(s, '+slow (3)') !== undefined, SCREEN_WAIT_MS, 'slow folded');
  t.same(visibleRows(screen), ['flaky', 'quick', '+slow (3)'], 'its items are hidden');
  await dash.keys('Space');
  screen = await dash.waitForScreen((s) => cellsOf(s, '-slow (3)') !== undefined, SCREEN_WAIT_MS, 'slow unfolded');
  t.same(visibleRows(screen), ['flaky', 'quick', '-slow (3)', '1', '2', '3']);

  t.equal(await quit(dash), 0, 'q exits 0');
});

/** The matrix is shown: its key line is at the bottom. */
function atMatrix(screen: string): boolean {
  return KEY_HINTS.test(bottomLine(screen));
}

/** The labels of the body rows on screen, trimmed (`flaky`, `-slow (3)`, `1`). */
function visibleRows(screen: string): string[] {
  const lines = screen.split('\n');
  const first = lines.findIndex((l) => l.startsWith('ok/tests')) + 1;
  const summary = lines.findIndex((l) => /^\d+\/\d+ runs \(/.test(l));
  return lines
    .slice(first, summary)
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().replace(/ {2,}.*$/, ''));
}
