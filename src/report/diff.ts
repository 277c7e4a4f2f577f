/**
 * Comparing two runs (`trellis diff`): each test, or each item of a test with items, is put in one
 * class by its outcome in the old and the new run. Data in, result out; the rules are in
 * docs/cli.md (`trellis diff`).
 */
import { isFinal, statusRank } from '../model/states.js';

/** The classes, in the order reports list them. */
export const DIFF_CLASSES = ['worse', 'better', 'appeared', 'disappeared', 'pending', 'same'] as const;
export type DiffClass = (typeof DIFF_CLASSES)[number];

/** What the comparison needs of a row (a TestRecord has it). */
export interface DiffRow {
  testname: string;
  /** '' for the test itself */
  itempath: string;
  state: string;
  status: string;
}

/** One side of an entry: the row's state and status. */
export interface DiffSide {
  state: string;
  status: string;
}

/** One compared test or item. */
export interface DiffEntry {
  testname: string;
  itempath: string;
  class: DiffClass;
  /** null when the row is not in the old run */
  old: DiffSide | null;
  /** null when the row is not in the new run */
  new: DiffSide | null;
}

export interface RunDiff {
  /** sorted by class (DIFF_CLASSES order), then by test name and item path */
  entries: DiffEntry[];
  counts: Record<DiffClass, number>;
}

/** True when the row has an outcome: it ended (or was archived with one). */
export function hasEnded(row: DiffSide): boolean {
  return isFinal(row.state, row.status) || row.state === 'ARCHIVED';
}

/**
 * Classifies one test or item present in both runs. The new row must have ended to be judged
 * (else `pending`); an old row that never ended counts as `n/a`. Then the status ranking decides.
 */
export function classify(old: DiffSide, now: DiffSide): DiffClass {
  if (!hasEnded(now)) return 'pending';
  const before = statusRank(hasEnded(old) ? old.status : 'n/a');
  const after = statusRank(now.status);
  if (after > before) return 'worse';
  if (after < before) return 'better';
  return 'same';
}

interface TestRows {
  top: DiffRow | undefined;
  items: Map<string, DiffRow>;
}

/** Groups rows by test; DELETED rows count as absent. */
function groupByTest(rows: Iterable<DiffRow>): Map<string, TestRows> {
  const tests = new Map<string, TestRows>();
  for (const row of rows) {
    if (row.state === 'DELETED') continue;
    let t = tests.get(row.testname);
    if (t === undefined) {
      t = { top: undefined, items: new Map() };
      tests.set(row.testname, t);
    }
    if (row.itempath === '') t.top = row;
    else t.items.set(row.itempath, row);
  }
  return tests;
}

/** The rows a test is compared by: its items when it has any, else the test itself. */
function unitsOf(t: TestRows): DiffRow[] {
  if (t.items.size > 0) return [...t.items.values()];
  return t.top === undefined ? [] : [t.top];
}

const side = (row: DiffRow): DiffSide => ({ state: row.state, status: row.status });

/**
 * Compares the old run's rows with the new run's. A test with items in both runs is compared item
 * by item and its rolled-up row is left out; a test with items in only one of them (items not yet
 * expanded, ZERO_ITEMS, items added or dropped) is compared as a whole by its rolled-up rows.
 */
export function diffRuns(oldRows: Iterable<DiffRow>, newRows: Iterable<DiffRow>): RunDiff {
  const before = groupByTest(oldRows);
  const after = groupByTest(newRows);
  const entries: DiffEntry[] = [];
  const add = (o: DiffRow | undefined, n: DiffRow | undefined): void => {
    const row = (n ?? o)!;
    const cls: DiffClass = o === undefined ? 'appeared' : n === undefined ? 'disappeared' : classify(o, n);
    entries.push({
      testname: row.testname,
      itempath: row.itempath,
      class: cls,
      old: o === undefined ? null : side(o),
      new: n === undefined ? null : side(n),
    });
  };
  for (const [name, o] of before) {
    const n = after.get(name);
    if (n === undefined) for (const row of unitsOf(o)) add(row, undefined);
    else if (o.items.size > 0 && n.items.size > 0) {
      for (const [path, row] of o.items) add(row, n.items.get(path));
      for (const [path, row] of n.items) if (!o.items.has(path)) add(undefined, row);
    } else if (o.top !== undefined && n.top !== undefined) add(o.top, n.top);
    else {
      // Only rows without a test row above them (a -p that dropped it): compare what is there.
      for (const row of unitsOf(o)) add(row, undefined);
      for (const row of unitsOf(n)) add(undefined, row);
    }
  }
  for (const [name, n] of after) if (!before.has(name)) for (const row of unitsOf(n)) add(undefined, row);
  sortEntries(entries);
  const counts = Object.fromEntries(DIFF_CLASSES.map((c) => [c, 0])) as Record<DiffClass, number>;
  for (const e of entries) counts[e.class] += 1;
  return { entries, counts };
}

const CLASS_ORDER = new Map<string, number>(DIFF_CLASSES.map((c, i) => [c, i]));

/** Sorts by class, then test name, then item path (code-unit order: the same on every machine). */
function sortEntries(entries: DiffEntry[]): void {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  entries.sort(
    (a, b) => CLASS_ORDER.get(a.class)! - CLASS_ORDER.get(b.class)! || cmp(a.testname, b.testname) || cmp(a.itempath, b.itempath),
  );
}

/** The classes that make `trellis diff` fail when any entry falls in them. */
export function failingClasses(diff: RunDiff, failOn: readonly DiffClass[]): DiffClass[] {
  return failOn.filter((c) => diff.counts[c] > 0);
}
