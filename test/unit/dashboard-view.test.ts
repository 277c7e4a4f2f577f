/**
 * The dashboard's view-model: what keys do (UiState), what the matrix, detail and help screens
 * say (frames as text, so they read without colour), and the cell words.
 */
import t from 'tap';
import { CELL_TEXT, LEGEND, lookOf } from '../../src/view/cell-style.js';
import { buildDetailFrame } from '../../src/dashboard/detail-view.js';
import { formatDuration, pickLogStep } from '../../src/view/test-facts.js';
import { buildMatrixFrame, clean, computeLayout, type Line } from '../../src/dashboard/frame.js';
import { buildHelpFrame } from '../../src/dashboard/help-view.js';
import { toLines } from '../../src/view/log-tail.js';
import { MatrixData } from '../../src/view/matrix-data.js';
import { flattenRows } from '../../src/view/rows.js';
import { keyName } from '../../src/dashboard/screen.js';
import { handleKey, initialUi, scrollFor, selectedCell, type Grid, type UiState } from '../../src/dashboard/ui-state.js';
import type { StepRecord, TestDetail } from '../../src/model/records.js';
import { TEST_STATES } from '../../src/model/states.js';
import { cellsBatch, makeCell, makeRun, runsBatch } from './dashboard-fixture.js';

const text = (lines: Line[]) => lines.map((l) => l.map((s) => s.text).join(''));

/** A matrix of `runs` runs × tests t00…, each run's cells loaded. */
function world(runs: number, tests: number) {
  const data = new MatrixData();
  const list = Array.from({ length: runs }, (_, i) => makeRun(i + 1, { runname: `nightly-${i + 1}` }));
  data.apply(runsBatch(list));
  data.follow(list.map((r) => r.id));
  for (const r of list) {
    const cells = Array.from({ length: tests }, (_, i) =>
      makeCell(`t${String(i).padStart(2, '0')}`, '', 'COMPLETED', i === 1 ? 'FAIL' : 'PASS', i + 1),
    );
    data.apply(cellsBatch(r.id, 1, cells, { full: true }));
  }
  return data;
}

function gridOf(data: MatrixData, ui: UiState, width = 160, height = 50) {
  const rows = flattenRows(data.rowTree(), { foldedByDefault: ui.foldedByDefault, toggled: ui.toggled, cellsOf: () => [] });
  const runs = data.runs();
  const layout = computeLayout(width, height, rows, runs);
  const grid: Grid = { rows, runs, pageRows: layout.pageRows, pageCols: layout.pageCols };
  return { grid, layout };
}

function frame(data: MatrixData, ui: UiState, width = 160, height = 50, extra: { banner?: string } = {}) {
  const { grid, layout } = gridOf(data, ui, width, height);
  return buildMatrixFrame({
    data,
    ui,
    grid,
    layout,
    width,
    height,
    title: 'runs',
    emptyHint: 'No runs yet.\ntrellis run -t T -r R',
    allRuns: data.runs().length,
    ...extra,
  });
}

t.test('every state and known status has a word of at most 6 letters; the legend names them', async (t) => {
  for (const state of TEST_STATES) {
    for (const status of [
      'n/a',
      'PASS',
      'FAIL',
      'WARN',
      'SKIP',
      'WAIVED',
      'CHECK',
      'ABORT',
      'TIMED_OUT',
      'DEAD',
      'PREQ_FAIL',
      'ZERO_ITEMS',
      'MY_OWN_STATUS',
    ]) {
      const look = lookOf(state, status);
      t.ok(look.text.length > 0 && look.text.length <= CELL_TEXT, `${state}/${status} → ${look.text}`);
    }
  }
  t.same(lookOf('COMPLETED', 'PASS'), { text: 'PASS', tone: 'pass' });
  t.same(lookOf('COMPLETED', 'TIMED_OUT'), { text: 'TMOUT', tone: 'fail' });
  t.same(lookOf('RUNNING', 'FAIL'), { text: 'RUN!', tone: 'fail' }, 'a failure seen while running reads without colour');
  t.same(lookOf('NOT_STARTED', 'PREQ_FAIL'), { text: 'PREQ', tone: 'never' });
  t.same(lookOf('INCOMPLETE', 'DEAD'), { text: 'DEAD', tone: 'killed' });
  t.equal(lookOf('COMPLETED', 'MY_OWN_STATUS').text, 'MY_OWN');
  const words = new Set(LEGEND.map((l) => l.text));
  for (const w of ['PASS', 'FAIL', 'RUN', 'wait', 'KILLED', 'PREQ']) t.ok(words.has(w), `legend has ${w}`);
});

t.test('the matrix: title, run headers (newest left), rows, summary, legend, keys', async (t) => {
  const data = world(3, 4);
  const lines = text(frame(data, initialUi()));
  t.equal(lines.length, 50, 'as tall as the terminal');
  t.ok(
    lines.every((l) => l.length <= 160),
    'never wider',
  );
  t.match(lines[0], /trellis dashboard\s+runs\s+3 runs/);
  t.match(lines[1], /linux\/x86_64 nightly-3\s+done\s+2 tests: PASS 2/, 'the selected run in full');
  t.match(lines[2], /^target\s+linux\s+linux\s+linux/);
  t.match(lines[3], /^\s+x86_64\s+x86_64/);
  t.match(lines[4], /^run\s+nightly-3\s+nightly-2\s+nightly-1/, 'newest first');
  t.match(lines[5], /^state\s+done/);
  t.match(lines[6], /^ok\/tests\s+2\/2/);
  t.match(lines[7], /^ t00\s+PASS\s+PASS\s+PASS/);
  t.match(lines[8], /^ t01\s+FAIL\s+FAIL\s+FAIL/);
  t.match(lines[47], /3\/3 runs \(3 on screen\), 6 tests: PASS 6/);
  t.match(lines[48], /PASS FAIL WARN/);
  t.match(lines[49], /Enter detail/);
  // The selected cell is drawn inverse, so it shows without colour.
  const cell = frame(data, initialUi())[7]!.find((s) => s.text.startsWith('PASS'));
  t.equal(cell?.inverse, true);
});

t.test('80×24 still shows the matrix and every bottom line', async (t) => {
  const data = world(30, 40);
  const lines = text(frame(data, initialUi(), 80, 24));
  t.equal(lines.length, 24);
  t.ok(lines.every((l) => l.length <= 80));
  t.match(lines[7], /^ t00\s+PASS/);
  t.match(lines[21], /30\/30 runs \(\d+ on screen\)/);
  const { layout } = gridOf(data, initialUi(), 80, 24);
  t.ok(layout.pageCols >= 8, `${layout.pageCols} runs on screen`);
  t.equal(layout.pageRows, 24 - 7 - 3);
});

t.test('empty run area, loading, nothing matching, banner', async (t) => {
  const empty = new MatrixData();
  t.match(text(frame(empty, initialUi())).join('\n'), /loading/);
  empty.apply(runsBatch([], 0));
  const lines = text(frame(empty, initialUi())).join('\n');
  t.match(lines, /No runs yet\./);
  t.match(lines, /trellis run -t T -r R/);
  const data = world(2, 2);
  t.match(
    text(frame(data, { ...initialUi(), filters: { ...initialUi().filters } }, 160, 50, { banner: 'lost the server; reconnecting...' }))[1],
    /lost the server; reconnecting/,
  );
});

t.test('keys move the selection and scroll to keep it on screen', async (t) => {
  const data = world(40, 100);
  let ui = initialUi();
  const press = (...keys: string[]) => {
    for (const k of keys) ui = handleKey(ui, k, gridOf(data, ui, 80, 24).grid).ui;
    return selectedCell(ui, gridOf(data, ui, 80, 24).grid);
  };
  t.same(press('j', 'down'), { runId: 40, testname: 't02', itempath: '' });
  t.same(press('k'), { runId: 40, testname: 't01', itempath: '' });
  t.same(press('l', 'right'), { runId: 38, testname: 't01', itempath: '' }, 'right goes to older runs');
  t.same(press('h'), { runId: 39, testname: 't01', itempath: '' });
  t.same(press('end'), { runId: 39, testname: 't99', itempath: '' });
  const { grid } = gridOf(data, ui, 80, 24);
  t.equal(scrollFor(ui, grid).rowTop, 100 - grid.pageRows, 'scrolled to the last page');
  t.same(press('home'), { runId: 39, testname: 't00', itempath: '' });
  t.same(press('pagedown'), { runId: 39, testname: `t${String(grid.pageRows).padStart(2, '0')}`, itempath: '' });
  t.same(press('pageup', 'pageup'), { runId: 39, testname: 't00', itempath: '' }, 'clamped at the top');
  t.same(press('L'), { runId: 39 - grid.pageCols, testname: 't00', itempath: '' }, 'a page of runs');
  t.same(press('up', 'left', 'H', 'H', 'H', 'H'), { runId: 40, testname: 't00', itempath: '' }, 'clamped at the newest run');
  // A selection follows its test and run as rows move: new rows above do not move it.
  ui = handleKey(ui, 'j', gridOf(data, ui).grid).ui;
  data.apply(cellsBatch(40, 2, [makeCell('a-new-first-test', '', 'RUNNING', 'n/a', 9999)]));
  t.same(selectedCell(ui, gridOf(data, ui).grid), { runId: 40, testname: 't01', itempath: '' });
});

t.test('prompts, filters, confirmations and effects', async (t) => {
  const data = world(2, 3);
  const grid = gridOf(data, initialUi()).grid;
  let r = handleKey(initialUi(), '/', grid);
  t.equal(r.ui.prompt?.field, 'pattern');
  for (const k of ['t', '0', 'space', 'x', 'backspace', 'backspace']) r = handleKey(r.ui, k, grid);
  t.equal(r.ui.prompt?.text, 't0');
  r = handleKey(r.ui, 'enter', grid);
  t.same(r.effect, { kind: 'filters' });
  t.equal(r.ui.filters.pattern, 't0');
  t.equal(r.ui.prompt, undefined);
  t.match(text(frame(data, r.ui))[0], /filter: -p t0/);

  r = handleKey(r.ui, 's', grid);
  r = handleKey(r.ui, 'escape', grid);
  t.equal(r.ui.message, 'cancelled');
  t.equal(r.ui.filters.status, '');

  r = handleKey(r.ui, 'u', grid);
  t.same(r.ui.filters, { pattern: '', target: '', runname: '', status: '' });

  r = handleKey(initialUi(), 'R', grid);
  t.match(r.ui.confirm?.question, /rerun t00 in linux\/x86_64 nightly-2\? \(y\/n\)/);
  t.match(text(frame(data, r.ui))[49], /rerun t00 .*\(y\/n\)/);
  const no = handleKey(r.ui, 'n', grid);
  t.equal(no.effect, undefined);
  t.equal(no.ui.message, 'rerun cancelled');
  const yes = handleKey(r.ui, 'y', grid);
  t.same(yes.effect, { kind: 'rerun', ref: { runId: 2, testname: 't00', itempath: '' } });

  r = handleKey(initialUi(), 'K', grid);
  t.same(handleKey(r.ui, 'Y', grid).effect, { kind: 'kill', ref: { runId: 2, testname: 't00', itempath: '' } });

  r = handleKey(initialUi(), 'S', grid);
  for (const k of [...',WAIVED']) r = handleKey(r.ui, k, grid);
  r = handleKey(r.ui, 'enter', grid);
  t.same(r.effect, { kind: 'set', ref: { runId: 2, testname: 't00', itempath: '' }, text: ',WAIVED' });

  t.same(handleKey(initialUi(), 'q', grid).effect, { kind: 'quit' });
  t.same(
    handleKey({ ...initialUi(), prompt: { field: 'pattern', label: '', text: '' } }, 'C-c', grid).effect,
    { kind: 'quit' },
    'C-c quits even in a prompt',
  );
  t.equal(
    handleKey({ ...initialUi(), prompt: { field: 'pattern', label: '', text: '' } }, 'q', grid).ui.prompt?.text,
    'q',
    'q is text in a prompt',
  );
});

t.test('folding with space, c and e', async (t) => {
  const data = new MatrixData();
  data.apply(runsBatch([makeRun(1)]));
  data.follow([1]);
  data.apply(cellsBatch(1, 1, [makeCell('unit'), makeCell('unit', 'a'), makeCell('unit', 'b'), makeCell('zz')], { full: true }));
  let ui = initialUi();
  const keys = () => gridOf(data, ui).grid.rows.map((r) => r.key);
  t.same(keys(), ['unit', 'unit/a', 'unit/b', 'zz']);
  ui = handleKey(ui, 'j', gridOf(data, ui).grid).ui;
  ui = handleKey(ui, 'space', gridOf(data, ui).grid).ui;
  t.same(keys(), ['unit', 'zz'], 'folded from an item');
  t.equal(selectedCell(ui, gridOf(data, ui).grid)?.testname, 'unit', 'the selection moved to the test');
  t.match(text(frame(data, ui))[7], /^\+unit \(2\)/);
  ui = handleKey(ui, 'e', gridOf(data, ui).grid).ui;
  t.same(keys(), ['unit', 'unit/a', 'unit/b', 'zz']);
  t.match(text(frame(data, ui))[7], /^-unit \(2\)/);
  ui = handleKey(ui, 'c', gridOf(data, ui).grid).ui;
  t.same(keys(), ['unit', 'zz']);
  ui = handleKey(ui, 'j', gridOf(data, ui).grid).ui;
  t.match(handleKey(ui, 'space', gridOf(data, ui).grid).ui.message, /zz has no items/);
});

t.test('detail: Enter opens it, it shows steps and the log tail, q goes back', async (t) => {
  const data = world(1, 2);
  const grid = gridOf(data, initialUi()).grid;
  const ui = handleKey(initialUi(), 'enter', grid).ui;
  t.equal(ui.mode, 'detail');
  const step = (over: Partial<StepRecord>): StepRecord => ({
    testId: 1,
    name: 'build',
    seq: 1,
    state: 'COMPLETED',
    status: 'PASS',
    exitCode: 0,
    start: 100,
    end: 104.5,
    logfile: '/r/build.log',
    comment: '',
    pid: null,
    procStart: null,
    ...over,
  });
  const detail: TestDetail = {
    ...makeCellDetail(),
    steps: [step({}), step({ name: 'check', seq: 2, status: 'FAIL', exitCode: 1, logfile: '/r/check.log' })],
    data: [{ testId: 1, name: 'latency', value: '12', expected: '10', tol: '30%', units: 'ms', status: 'PASS', comment: '', time: 1 }],
    rules: [],
  };
  const lines = text(
    buildDetailFrame(
      { ui, detail, run: data.run(1), tail: { file: '/r/check.log', lines: ['line 1', 'boom'] }, width: 100, height: 30 },
      200,
    ),
  );
  const all = lines.join('\n');
  t.match(lines[0], /^t00 {2}in linux\/x86_64 nightly-1/);
  t.match(all, /State\s+COMPLETED\s+Status\s+FAIL/);
  t.match(all, /Host\s+h1 \(pid 42\)/);
  const remote = text(
    buildDetailFrame(
      { ui, detail: { ...detail, launcher: 'slurm', jobId: '4821' }, run: data.run(1), tail: undefined, width: 100, height: 30 },
      200,
    ),
  );
  t.match(remote.join('\n'), /Host\s+h1 \(pid 42\), slurm job 4821/, 'where it ran: the launcher and its job id');
  t.match(all, /1 build\s+PASS\s+exit 0\s+4\.5 s\s+\/r\/build\.log/);
  t.match(all, /2 check\s+FAIL\s+exit 1/);
  t.match(all, /latency = 12 ms \(expected 10 \+\/- 30%\) PASS/);
  t.match(all, /Log \/r\/check\.log\nline 1\nboom/);
  t.equal(lines.length, 30);
  t.equal(pickLogStep(detail.steps)?.name, 'check', 'the failing step');
  t.equal(pickLogStep([step({}), step({ name: 'run', state: 'RUNNING', status: 'n/a' })])?.name, 'run', 'the running step first');
  t.match(
    text(buildDetailFrame({ ui, detail: null, run: undefined, tail: undefined, width: 80, height: 10 })).join('\n'),
    /no longer in the run/,
  );
  t.equal(handleKey(ui, 'q', grid).ui.mode, 'matrix');
  // A long log shows its end; up scrolls back.
  const tail = { file: '/r/x.log', lines: Array.from({ length: 100 }, (_, i) => `L${i}`) };
  const end = text(buildDetailFrame({ ui, detail, run: undefined, tail, width: 80, height: 30 }));
  t.equal(end[28], 'L99');
  const back = handleKey(handleKey(ui, 'up', grid).ui, 'up', grid).ui;
  t.equal(text(buildDetailFrame({ ui: back, detail, run: undefined, tail, width: 80, height: 30 }))[28], 'L97');
});

function makeCellDetail(): Omit<TestDetail, 'steps' | 'data' | 'rules'> {
  return {
    id: 1,
    runId: 1,
    testname: 't00',
    itempath: '',
    state: 'COMPLETED',
    status: 'FAIL',
    comment: '',
    host: 'h1',
    pid: 42,
    rundir: '/r',
    priority: 0,
    start: 100,
    end: 110,
    duration: 10,
    agentId: null,
    launcher: 'local',
    jobId: '',
    launchId: '',
    itemVars: {},
    owner: '',
    description: '',
    tags: '',
    updated: 110,
  };
}

t.test('help lists the keys and the legend', async (t) => {
  const all = text(buildHelpFrame(120, 50)).join('\n');
  for (const k of ['Enter', 'PgUp', 'Home End', '/', 'R', 'K', 'S', 'q']) t.match(all, k);
  t.match(all, /RUN! = a failure already seen/);
  t.equal(buildHelpFrame(80, 10).length, 10, 'cut to the screen');
});

t.test('small helpers: durations, clean text, log lines, key names', async (t) => {
  t.equal(formatDuration(4.25), '4.3 s');
  t.equal(formatDuration(185), '3 m 05 s');
  t.equal(formatDuration(3720), '1 h 02 m');
  t.equal(formatDuration(null), '-');
  t.equal(clean('a\x1b[31mb\u0007'), 'a\\x1b[31mb\\x07', 'no control character reaches the terminal: shown escaped');
  t.same(toLines('cut\nfirst\n\x1b[32mgreen\x1b[0m\n10%\r50%\r100%\n', true, 10), ['first', 'green', '100%']);
  t.same(toLines('a\nb\nc\n', false, 2), ['b', 'c']);
  t.equal(keyName('j', { name: 'j', full: 'j' }), 'j');
  t.equal(keyName('R', { name: 'r', full: 'S-r' }), 'R');
  t.equal(keyName(' ', { name: 'space', full: 'space' }), 'space');
  t.equal(keyName('\r', { name: 'enter', full: 'enter' }), 'enter');
  t.equal(keyName('\r', { name: 'return', full: 'return' }), undefined, 'Enter counts once');
  t.equal(keyName(undefined, { name: 'up', full: 'up' }), 'up');
  t.equal(keyName('\u0003', { name: 'c', full: 'C-c', ctrl: true }), 'C-c');
});
