/**
 * What the dashboard knows of the run area: every run's summary, and the cells of the runs it
 * follows (those on screen and near it). It changes only by applying change-feed batches, and
 * keeps memory bounded: cells are held as small integers in typed arrays indexed by a row table
 * shared by all runs (6 bytes a cell), and the cells of runs no longer followed are dropped.
 */
import type { CellRecord, FeedBatch, FeedCursor, RunRecord } from '../model/records.js';
import { displayName } from '../model/display-name.js';
import type { TestState } from '../model/states.js';

/** Tests and their items over the followed runs, sorted by name. */
export interface RowTree {
  tests: { testname: string; items: string[] }[];
}

/** One run's cells: per row (by the shared row number), the outcome's code and the row's id. */
interface RunCells {
  seq: number;
  /** 0: the run has no such row; else 1 + index into the outcome table */
  codes: Uint16Array;
  ids: Int32Array;
}

/** Runs whose cells are asked for in one answer: big runs come a few at a time, not 15 MB at once. */
export const MAX_PENDING_PER_ANSWER = 6;

const byNewest = (a: RunRecord, b: RunRecord) => b.created - a.created || b.id - a.id;

/** Runs and followed cells, updated from the change feed. */
export class MatrixData {
  readonly #runs = new Map<number, RunRecord>();
  readonly #cells = new Map<number, RunCells>();
  /** followed runs, in the order they should load (those on screen first) */
  #followed: number[] = [];
  #followedSet = new Set<number>();
  #runsSeq = 0;
  #sorted: RunRecord[] | undefined;
  #tree: RowTree | undefined;
  // The row table, shared by every run: row number ↔ test and item.
  readonly #rowByKey = new Map<string, number>();
  readonly #rowTest: string[] = [];
  readonly #rowItem: string[] = [];
  // The outcome table: code ↔ (state, status); a handful of pairs in practice.
  readonly #outcomeByKey = new Map<string, number>();
  readonly #outcomes: { state: TestState; status: string }[] = [];
  /** true once the first batch (every run) has arrived */
  loaded = false;
  /** bumped on every change, so views know when to draw again */
  version = 0;

  /** Every run, newest first. */
  runs(): RunRecord[] {
    this.#sorted ??= [...this.#runs.values()].sort(byNewest);
    return this.#sorted;
  }

  run(id: number): RunRecord | undefined {
    return this.#runs.get(id);
  }

  /** True when the run's cells have arrived (a run without tests has none to wait for). */
  hasCells(runId: number): boolean {
    return this.#cells.has(runId) || this.#runs.get(runId)?.total === 0;
  }

  /** True when the run has that row (cheaper than cell(): no record is made). */
  hasRow(runId: number, key: string): boolean {
    const rc = this.#cells.get(runId);
    const row = this.#rowByKey.get(key);
    return rc !== undefined && row !== undefined && row < rc.codes.length && rc.codes[row] !== 0;
  }

  cell(runId: number, key: string): CellRecord | undefined {
    const rc = this.#cells.get(runId);
    const row = this.#rowByKey.get(key);
    if (rc === undefined || row === undefined || row >= rc.codes.length) return undefined;
    const code = rc.codes[row]!;
    if (code === 0) return undefined;
    const o = this.#outcomes[code - 1]!;
    return { id: rc.ids[row]!, testname: this.#rowTest[row]!, itempath: this.#rowItem[row]!, state: o.state, status: o.status };
  }

  /**
   * Follows exactly these runs from now on, loading them in this order; the others' cells go.
   * True when the set of runs changed (a new order alone only changes what loads first).
   */
  follow(runIds: Iterable<number>): boolean {
    const next = [...new Set(runIds)];
    this.#followed = next;
    if (next.length === this.#followedSet.size && next.every((id) => this.#followedSet.has(id))) return false;
    this.#followedSet = new Set(next);
    for (const id of [...this.#cells.keys()]) {
      if (!this.#followedSet.has(id)) {
        this.#cells.delete(id);
        this.#tree = undefined;
      }
    }
    this.version++;
    return true;
  }

  /** Runs followed whose cells have not arrived yet, in loading order. */
  pending(): number[] {
    return this.#followed.filter((id) => !this.hasCells(id));
  }

  /** Where to ask the feed from: the loaded runs, and the next few to load. */
  cursor(): FeedCursor {
    const runs: Record<string, number> = {};
    let asked = 0;
    for (const id of this.#followed) {
      const rc = this.#cells.get(id);
      if (rc !== undefined) runs[String(id)] = rc.seq;
      else if (!this.hasCells(id) && asked++ < MAX_PENDING_PER_ANSWER) runs[String(id)] = 0;
    }
    return { runsSeq: this.#runsSeq, runs };
  }

  /**
   * Applies one batch. Batches may arrive out of order (a poll started before the followed runs
   * changed): anything older than what is already here is ignored, so a cell never goes back.
   */
  apply(batch: FeedBatch): boolean {
    let changed = false;
    const first = !this.loaded;
    if (first || batch.cursor.runsSeq > this.#runsSeq) {
      if (first) this.#runs.clear();
      for (const run of batch.runs) this.#runs.set(run.id, run);
      for (const id of batch.removedRuns) {
        this.#runs.delete(id);
        if (this.#cells.delete(id)) this.#tree = undefined;
      }
      changed ||= first || batch.runs.length > 0 || batch.removedRuns.length > 0;
      this.#runsSeq = batch.cursor.runsSeq;
      this.loaded = true;
      if (changed) this.#sorted = undefined;
    }
    for (const rc of batch.cells) {
      if (!this.#followedSet.has(rc.runId) || !this.#runs.has(rc.runId)) continue;
      const cur = this.#cells.get(rc.runId);
      if (rc.full) {
        if (cur !== undefined && rc.seq < cur.seq) continue;
        const size = this.#rowTest.length + rc.cells.length;
        const fresh: RunCells = { seq: rc.seq, codes: new Uint16Array(size), ids: new Int32Array(size) };
        this.#cells.set(rc.runId, fresh);
        for (const c of rc.cells) this.#put(fresh, c);
        this.#tree = undefined;
        changed = true;
      } else if (cur !== undefined && rc.seq > cur.seq) {
        cur.seq = rc.seq;
        for (const c of rc.cells) if (this.#put(cur, c)) this.#tree = undefined;
        if (rc.removed.length > 0) {
          const gone = new Set(rc.removed);
          for (let row = 0; row < cur.ids.length; row++) {
            if (cur.codes[row] !== 0 && gone.has(cur.ids[row]!)) {
              cur.codes[row] = 0;
              this.#tree = undefined;
            }
          }
        }
        changed = true;
      }
    }
    if (changed) this.version++;
    return changed;
  }

  /** Tests and items found in any followed run, sorted by name (items in natural order). */
  rowTree(): RowTree {
    if (this.#tree !== undefined) return this.#tree;
    const present = new Uint8Array(this.#rowTest.length);
    for (const rc of this.#cells.values()) {
      for (let row = 0; row < rc.codes.length; row++) if (rc.codes[row] !== 0) present[row] = 1;
    }
    const tests = new Map<string, string[]>();
    for (let row = 0; row < present.length; row++) {
      if (present[row] === 0) continue;
      const testname = this.#rowTest[row]!;
      let items = tests.get(testname);
      if (items === undefined) {
        items = [];
        tests.set(testname, items);
      }
      if (this.#rowItem[row] !== '') items.push(this.#rowItem[row]!);
    }
    const collator = new Intl.Collator('en', { numeric: true });
    this.#tree = {
      tests: [...tests.entries()]
        .sort((a, b) => collator.compare(a[0], b[0]))
        .map(([testname, items]) => ({ testname, items: items.sort(collator.compare) })),
    };
    return this.#tree;
  }

  /** Stores a cell; true when the run did not have that row (the rows may change). */
  #put(rc: RunCells, c: CellRecord): boolean {
    const row = this.#rowOf(c.testname, c.itempath);
    if (row >= rc.codes.length) grow(rc, Math.max(row + 1, rc.codes.length * 2));
    const isNew = rc.codes[row] === 0;
    rc.codes[row] = this.#codeOf(c.state, c.status);
    rc.ids[row] = c.id;
    return isNew;
  }

  #rowOf(testname: string, itempath: string): number {
    const key = displayName({ testname, itempath });
    let row = this.#rowByKey.get(key);
    if (row === undefined) {
      row = this.#rowTest.length;
      this.#rowByKey.set(key, row);
      this.#rowTest.push(testname);
      this.#rowItem.push(itempath);
    }
    return row;
  }

  #codeOf(state: TestState, status: string): number {
    const key = `${state}\u0000${status}`;
    let code = this.#outcomeByKey.get(key);
    if (code === undefined) {
      this.#outcomes.push({ state, status });
      code = this.#outcomes.length;
      this.#outcomeByKey.set(key, code);
    }
    return code;
  }
}

/** Makes room for more rows in a run's arrays. */
function grow(rc: RunCells, size: number): void {
  const codes = new Uint16Array(size);
  codes.set(rc.codes);
  const ids = new Int32Array(size);
  ids.set(rc.ids);
  rc.codes = codes;
  rc.ids = ids;
}
