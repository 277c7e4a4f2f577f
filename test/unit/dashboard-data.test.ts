/**
 * The dashboard's data and rows: MatrixData applying change-feed batches (in and out of order),
 * following and dropping runs, and the rows it yields folded, unfolded and filtered.
 */
import t from 'tap';
import { parseTestPattern } from '../../src/model/pattern.js';
import { MatrixData, MAX_PENDING_PER_ANSWER } from '../../src/view/matrix-data.js';
import { displayName } from '../../src/model/display-name.js';
import { cellMatches, flattenRows, parseStatusFilter } from '../../src/view/rows.js';
import { cellsBatch, makeCell, makeRun, runsBatch } from './dashboard-fixture.js';

function loaded(): MatrixData {
  const d = new MatrixData();
  d.apply(runsBatch([makeRun(1), makeRun(3), makeRun(2)]));
  d.follow([1, 2]);
  return d;
}

t.test('runs come newest first; the cursor asks for the whole of runs not yet loaded', async (t) => {
  const d = loaded();
  t.same(
    d.runs().map((r) => r.id),
    [3, 2, 1],
  );
  t.ok(d.loaded);
  t.same(d.cursor(), { runsSeq: 10, runs: { 1: 0, 2: 0 } });
  t.same(d.pending().sort(), [1, 2]);
});

t.test('a full batch replaces, a delta merges and removes, and older answers are ignored', async (t) => {
  const d = loaded();
  const a = makeCell('a', '', 'RUNNING', 'n/a', 101);
  const b = makeCell('b', '', 'COMPLETED', 'PASS', 102);
  t.ok(d.apply(cellsBatch(1, 5, [a, b], { full: true })));
  t.equal(d.cell(1, 'a')?.state, 'RUNNING');
  t.same(d.cursor().runs, { 1: 5, 2: 0 });

  t.ok(d.apply(cellsBatch(1, 7, [{ ...a, state: 'COMPLETED', status: 'FAIL' }], { removed: [102] })));
  t.equal(d.cell(1, 'a')?.status, 'FAIL');
  t.equal(d.cell(1, 'b'), undefined, 'removed row gone');

  // A poll started earlier answers late: it must not take the cell back to RUNNING.
  t.notOk(d.apply(cellsBatch(1, 6, [a])), 'older delta ignored');
  t.notOk(d.apply(cellsBatch(1, 6, [a, b], { full: true })), 'older full ignored');
  t.equal(d.cell(1, 'a')?.status, 'FAIL');

  t.notOk(d.apply(cellsBatch(2, 3, [a])), 'a delta for a run whose cells never came is ignored');
  t.notOk(d.apply(cellsBatch(9, 3, [a], { full: true })), 'cells of a run not followed are ignored');
});

t.test('runs changing, appearing and going away', async (t) => {
  const d = loaded();
  d.apply(cellsBatch(1, 1, [makeCell('a')], { full: true }));
  const v = d.version;
  d.apply({ cursor: { runsSeq: 12, runs: {} }, runs: [makeRun(4), makeRun(1, { state: 'locked' })], removedRuns: [2], cells: [] });
  t.ok(d.version > v, 'version bumped');
  t.same(
    d.runs().map((r) => r.id),
    [4, 3, 1],
  );
  t.equal(d.run(1)?.state, 'locked');
  // An older runs answer (runsSeq 11 < 12) changes nothing.
  t.notOk(d.apply({ cursor: { runsSeq: 11, runs: {} }, runs: [makeRun(2)], removedRuns: [], cells: [] }));
  t.same(
    d.runs().map((r) => r.id),
    [4, 3, 1],
  );
});

t.test('following other runs drops the cells of those left, keeping memory bounded', async (t) => {
  const d = loaded();
  d.apply(cellsBatch(1, 1, [makeCell('a')], { full: true }));
  t.ok(d.hasCells(1));
  t.notOk(d.follow([2, 1]), 'the same set is no change');
  t.ok(d.follow([2, 3]));
  t.notOk(d.hasCells(1));
  t.same(d.cursor().runs, { 2: 0, 3: 0 });
});

t.test('rowTree: tests sorted by name, items in natural order, over every followed run', async (t) => {
  const d = loaded();
  d.apply(cellsBatch(1, 1, [makeCell('zeta'), makeCell('unit'), makeCell('unit', 'x10'), makeCell('unit', 'x9')], { full: true }));
  d.apply(cellsBatch(2, 1, [makeCell('alpha'), makeCell('unit', 'x1')], { full: true }));
  t.same(d.rowTree().tests, [
    { testname: 'alpha', items: [] },
    { testname: 'unit', items: ['x1', 'x9', 'x10'] },
    { testname: 'zeta', items: [] },
  ]);
  t.equal(displayName({ testname: 'unit', itempath: 'x1' }), 'unit/x1');
  t.equal(displayName({ testname: 'unit', itempath: '' }), 'unit');
});

t.test('flattenRows: folding, the test pattern and the status filter', async (t) => {
  const d = loaded();
  d.apply(
    cellsBatch(
      1,
      1,
      [
        makeCell('build'),
        makeCell('unit', '', 'RUNNING', 'FAIL'),
        makeCell('unit', 'a', 'COMPLETED', 'FAIL'),
        makeCell('unit', 'b', 'RUNNING', 'n/a'),
        makeCell('unit', 'c'),
      ],
      { full: true },
    ),
  );
  const cellsOf = (k: string) => [d.cell(1, k)];
  const base = { foldedByDefault: false, toggled: new Set<string>(), cellsOf };
  const keys = (o: Partial<Parameters<typeof flattenRows>[1]>) => flattenRows(d.rowTree(), { ...base, ...o }).map((r) => r.key);

  t.same(keys({}), ['build', 'unit', 'unit/a', 'unit/b', 'unit/c'], 'unfolded');
  t.same(keys({ toggled: new Set(['unit']) }), ['build', 'unit'], 'one test folded');
  t.same(keys({ foldedByDefault: true }), ['build', 'unit'], 'all folded');
  t.same(
    keys({ foldedByDefault: true, toggled: new Set(['unit']) }),
    ['build', 'unit', 'unit/a', 'unit/b', 'unit/c'],
    'all folded but one',
  );
  const folded = flattenRows(d.rowTree(), { ...base, foldedByDefault: true }).find((r) => r.key === 'unit');
  t.same({ folded: folded?.folded, itemCount: folded?.itemCount }, { folded: true, itemCount: 3 });

  t.same(keys({ pattern: parseTestPattern('unit/b') }), ['unit', 'unit/b'], 'an item pattern keeps its test as parent');
  t.same(keys({ pattern: parseTestPattern('%,~unit') }), ['build'], 'negation');
  t.same(keys({ statuses: parseStatusFilter('fail') }), ['unit', 'unit/a'], 'status filter');
  t.same(keys({ statuses: parseStatusFilter('RUNNING') }), ['unit', 'unit/b'], 'state filter');
  t.same(keys({ statuses: parseStatusFilter('run!') }), ['unit'], 'the cell word works too');
  t.same(keys({ statuses: parseStatusFilter('WAIVED') }), [], 'nothing matches');
  t.equal(parseStatusFilter(' , '), undefined);
  t.notOk(cellMatches(undefined, new Set(['PASS'])), 'a missing cell matches nothing');
});

t.test('cells are asked for a few runs at a time, in the order given (those on screen first)', async (t) => {
  const d = new MatrixData();
  const runs = Array.from({ length: 20 }, (_, i) => makeRun(i + 1));
  d.apply(runsBatch(runs));
  d.follow([20, 19, 18, 17, 16, 15, 14, 13, 1, 2]);
  t.same(
    Object.keys(d.cursor().runs)
      .map(Number)
      .sort((a, b) => b - a),
    [20, 19, 18, 17, 16, 15],
    `at most ${MAX_PENDING_PER_ANSWER}`,
  );
  d.apply(cellsBatch(20, 3, [makeCell('a')], { full: true }));
  t.same(d.cursor().runs['20'], 3, 'a loaded run is asked from its seq');
  t.ok('14' in d.cursor().runs, 'the next in line joins');
  t.same(d.pending(), [19, 18, 17, 16, 15, 14, 13, 1, 2]);
  // A run without tests has nothing to load.
  d.apply({ cursor: { runsSeq: 11, runs: {} }, runs: [makeRun(1, { total: 0, counts: {} })], removedRuns: [], cells: [] });
  t.ok(d.hasCells(1));
  t.notOk(d.pending().includes(1));
});

t.test('cells take a few bytes each: a shared row table, typed arrays per run', async (t) => {
  const d = new MatrixData();
  const runs = Array.from({ length: 10 }, (_, i) => makeRun(i + 1));
  d.apply(runsBatch(runs));
  d.follow(runs.map((r) => r.id));
  for (const r of runs) {
    const cells = Array.from({ length: 5000 }, (_, i) =>
      makeCell(`t${Math.floor(i / 20)}`, i % 20 === 0 ? '' : `i${i % 20}`, 'COMPLETED', i % 97 === 0 ? 'FAIL' : 'PASS', r.id * 10000 + i),
    );
    d.apply(cellsBatch(r.id, 1, cells, { full: true }));
  }
  t.equal(d.rowTree().tests.length, 250);
  t.same(d.cell(3, 't0'), { id: 30000, testname: 't0', itempath: '', state: 'COMPLETED', status: 'FAIL' });
  t.same(d.cell(3, 't0/i1'), { id: 30001, testname: 't0', itempath: 'i1', state: 'COMPLETED', status: 'PASS' });
  // A removed row reads as missing; the others stay.
  d.apply(cellsBatch(3, 2, [], { removed: [30001] }));
  t.equal(d.cell(3, 't0/i1'), undefined);
  t.equal(d.cell(4, 't0/i1')?.status, 'PASS');
});
