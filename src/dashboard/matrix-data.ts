/**
 * What the dashboard knows of the run area: every run's summary, and the cells of the runs it
 * follows (those on screen and near it). It changes only by applying change-feed batches, and
 * keeps memory bounded by dropping the cells of runs it stops following.
 */
import type { CellRecord, FeedBatch, FeedCursor, RunRecord } from '../model/records.js';

/** A row's key: the test name, or `test/itempath` (test names never hold a `/`). */
export function rowKey(testname: string, itempath: string): string {
  return itempath === '' ? testname : `${testname}/${itempath}`;
}

interface RunCells {
  seq: number;
  byKey: Map<string, CellRecord>;
  keyById: Map<number, string>;
}

/** Tests and their items over the followed runs, sorted by name. */
export interface RowTree {
  tests: { testname: string; items: string[] }[];
}

const byNewest = (a: RunRecord, b: RunRecord) => b.created - a.created || b.id - a.id;

/** Runs and followed cells, updated from the change feed. */
export class MatrixData {
  readonly #runs = new Map<number, RunRecord>();
  readonly #cells = new Map<number, RunCells>();
  #followed = new Set<number>();
  #runsSeq = 0;
  #sorted: RunRecord[] | undefined;
  #tree: RowTree | undefined;
  /** true once the first batch (every run) has arrived */
  loaded = false;
  /** bumped on every change, so views know when to draw again */
  version = 0;

  /** Every run, newest first. */
  runs(): RunRecord[] {
    return (this.#sorted ??= [...this.#runs.values()].sort(byNewest));
  }

  run(id: number): RunRecord | undefined {
    return this.#runs.get(id);
  }

  /** True when the run's cells have arrived (a run without tests has none to wait for). */
  hasCells(runId: number): boolean {
    return this.#cells.has(runId) || this.#runs.get(runId)?.total === 0;
  }

  cell(runId: number, key: string): CellRecord | undefined {
    return this.#cells.get(runId)?.byKey.get(key);
  }

  /** Follows exactly these runs from now on; the cells of the others are dropped. */
  follow(runIds: Iterable<number>): boolean {
    const next = new Set(runIds);
    const same = next.size === this.#followed.size && [...next].every((id) => this.#followed.has(id));
    if (same) return false;
    this.#followed = next;
    for (const id of [...this.#cells.keys()]) if (!next.has(id)) this.#cells.delete(id);
    this.#tree = undefined;
    this.version++;
    return true;
  }

  /** Runs followed whose cells have not arrived yet. */
  pending(): number[] {
    return [...this.#followed].filter((id) => !this.hasCells(id));
  }

  /** Where to ask the feed from. */
  cursor(): FeedCursor {
    const runs: Record<string, number> = {};
    for (const id of this.#followed) runs[String(id)] = this.#cells.get(id)?.seq ?? 0;
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
      if (!this.#followed.has(rc.runId) || !this.#runs.has(rc.runId)) continue;
      const cur = this.#cells.get(rc.runId);
      if (rc.full) {
        if (cur !== undefined && rc.seq < cur.seq) continue;
        const fresh: RunCells = { seq: rc.seq, byKey: new Map(), keyById: new Map() };
        for (const c of rc.cells) putCell(fresh, c);
        this.#cells.set(rc.runId, fresh);
        this.#tree = undefined;
        changed = true;
      } else if (cur !== undefined && rc.seq > cur.seq) {
        cur.seq = rc.seq;
        for (const c of rc.cells) if (putCell(cur, c)) this.#tree = undefined;
        for (const id of rc.removed) {
          const key = cur.keyById.get(id);
          if (key === undefined) continue;
          cur.keyById.delete(id);
          cur.byKey.delete(key);
          this.#tree = undefined;
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
    const tests = new Map<string, Set<string>>();
    for (const rc of this.#cells.values()) {
      for (const c of rc.byKey.values()) {
        let items = tests.get(c.testname);
        if (items === undefined) tests.set(c.testname, (items = new Set()));
        if (c.itempath !== '') items.add(c.itempath);
      }
    }
    const collator = new Intl.Collator('en', { numeric: true });
    this.#tree = {
      tests: [...tests.entries()]
        .sort((a, b) => collator.compare(a[0], b[0]))
        .map(([testname, items]) => ({ testname, items: [...items].sort(collator.compare) })),
    };
    return this.#tree;
  }
}

/** Stores a cell; true when it is a row the run did not have (the rows may change). */
function putCell(rc: RunCells, c: CellRecord): boolean {
  const key = rowKey(c.testname, c.itempath);
  const isNew = !rc.byKey.has(key);
  rc.byKey.set(key, c);
  rc.keyById.set(c.id, key);
  return isNew;
}
