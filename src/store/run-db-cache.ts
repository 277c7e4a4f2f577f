/**
 * The open run databases of a direct store: each opened on first use and kept, the most recently
 * used MAX_OPEN_RUN_DBS of them. A server whose dashboards scroll over 500 runs would otherwise
 * hold 500 connections and their page caches (about 0.8 MB each). Store calls are synchronous,
 * so none is using a database when it is closed.
 */
import { RunDb, type RunDbMeta } from '../db/run-db.js';

/** Run databases kept open at once (least recently used closed first). */
export const MAX_OPEN_RUN_DBS = 128;

export class RunDbCache {
  /** Map order is use order: the first entry is the least recently used. */
  readonly #open = new Map<number, RunDb>();
  readonly #fileOf: (runId: number) => string;

  constructor(fileOf: (runId: number) => string) {
    this.#fileOf = fileOf;
  }

  /**
   * The run's database; when it is not open, opened (created and migrated as needed) with what
   * `meta` gives, which is asked only then.
   */
  get(runId: number, meta: () => RunDbMeta): RunDb {
    let rdb = this.#open.get(runId);
    if (rdb !== undefined) {
      this.#open.delete(runId);
      this.#open.set(runId, rdb);
      return rdb;
    }
    rdb = RunDb.open(this.#fileOf(runId), meta());
    this.#open.set(runId, rdb);
    for (const [id, old] of this.#open) {
      if (this.#open.size <= MAX_OPEN_RUN_DBS) break;
      old.close();
      this.#open.delete(id);
    }
    return rdb;
  }

  /** Closes the run's database if it is open (the run was removed). */
  drop(runId: number): void {
    this.#open.get(runId)?.close();
    this.#open.delete(runId);
  }

  /** Closes them all, most recently used first. */
  closeAll(): void {
    for (const rdb of [...this.#open.values()].reverse()) rdb.close();
    this.#open.clear();
  }
}
