/**
 * The matrix's rows: tests with their items nested under them, folded or unfolded, narrowed by
 * the test pattern and the status filter. Pure.
 */
import type { CellRecord } from '../model/records.js';
import { displayName } from '../model/display-name.js';
import type { TestPattern } from '../model/pattern.js';
import { lookOf } from './cell-style.js';
import type { RowTree } from './matrix-data.js';

export interface RowEntry {
  key: string;
  testname: string;
  /** '' for a test row */
  itempath: string;
  /** items the test has (0 for items and for tests without items) */
  itemCount: number;
  /** a test row whose items are hidden */
  folded: boolean;
}

export interface RowOptions {
  /** items hidden unless the test is in `toggled` (true), or shown unless it is (false) */
  foldedByDefault: boolean;
  toggled: ReadonlySet<string>;
  pattern?: TestPattern;
  /** upper-case words a cell's state, status or text must match, e.g. FAIL, RUNNING */
  statuses?: ReadonlySet<string>;
  /** the cells of one row in the runs shown */
  cellsOf: (key: string) => Iterable<CellRecord | undefined>;
}

/** Parses a status filter (`FAIL,run`) into upper-case words; empty means none. */
export function parseStatusFilter(text: string): Set<string> | undefined {
  const words = text
    .split(',')
    .map((w) => w.trim().toUpperCase())
    .filter((w) => w !== '');
  return words.length === 0 ? undefined : new Set(words);
}

/** True when a cell matches any word of the status filter: its status, its state or its text. */
export function cellMatches(cell: CellRecord | undefined, statuses: ReadonlySet<string>): boolean {
  if (cell === undefined) return false;
  return (
    statuses.has(cell.status.toUpperCase()) || statuses.has(cell.state) || statuses.has(lookOf(cell.state, cell.status).text.toUpperCase())
  );
}

/** True when the test is folded now. */
export function isFolded(testname: string, opts: Pick<RowOptions, 'foldedByDefault' | 'toggled'>): boolean {
  return opts.foldedByDefault !== opts.toggled.has(testname);
}

/**
 * The tests and items that `has` keeps (those some run on screen has): the data follows more runs
 * than one screen shows, and a row only other runs have would be a line of dots.
 */
export function treeWithin(tree: RowTree, has: (key: string) => boolean): RowTree {
  const tests: RowTree['tests'] = [];
  for (const { testname, items } of tree.tests) {
    const kept = items.filter((item) => has(displayName({ testname, itempath: item })));
    if (kept.length > 0 || has(testname)) tests.push({ testname, items: kept });
  }
  return { tests };
}

/** The rows to show, in order. */
export function flattenRows(tree: RowTree, opts: RowOptions): RowEntry[] {
  const out: RowEntry[] = [];
  const statuses = opts.statuses;
  const rowPasses = (key: string): boolean => {
    if (statuses === undefined) return true;
    for (const c of opts.cellsOf(key)) if (cellMatches(c, statuses)) return true;
    return false;
  };
  for (const { testname, items } of tree.tests) {
    const testSelected = opts.pattern === undefined || opts.pattern.matchTest(testname);
    const shownItems = items.filter(
      (item) =>
        (opts.pattern === undefined || opts.pattern.matchItem(testname, item)) && rowPasses(displayName({ testname, itempath: item })),
    );
    const testPasses = testSelected && rowPasses(testname);
    if (!testPasses && shownItems.length === 0) continue;
    const folded = items.length > 0 && isFolded(testname, opts);
    out.push({ key: testname, testname, itempath: '', itemCount: items.length, folded });
    if (folded) continue;
    for (const item of shownItems)
      out.push({ key: displayName({ testname, itempath: item }), testname, itempath: item, itemCount: 0, folded: false });
  }
  return out;
}
