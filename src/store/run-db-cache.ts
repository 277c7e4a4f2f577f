/**
 * The open run databases of a direct store: each opened on first use and kept, the most recently
 * used MAX_OPEN_RUN_DBS of them. A server whose dashboards scroll over 500 runs would otherwise
 * hold 500 connections and their page caches (about 0.8 MB each). Store calls are synchronous,
 * so none is using a database when it is closed.
 */
import { statSync } from 'node:fs';
import { RunDb, type RunDbMeta } from '../db/run-db.js';

/** Run databases kept open at once (least recently used closed first). */
export const MAX_OPEN_RUN_DBS = 128;

export class RunDbCache {
  /** Map order is use order: the first entry is the least recently used. */
  readonly #open = new Map<number, RunDb>();
  readonly #fileOf: (runId: number) => string;
  /** the file each open database was opened from (device and inode), to notice it being replaced */
  readonly #identity = new WeakMap<RunDb, string>();

  constructor(fileOf: (runId: number) => string) {
    this.#fileOf = fileOf;
  }

  /**
   * The run's database; when it is not open, opened (migrated as needed; created only with
   * `create`) with what `meta` gives, which is asked only then.
   */
  get(runId: number, meta: () => RunDbMeta, opts: { create?: boolean } = {}): RunDb {
    const file = this.#fileOf(runId);
    let rdb = this.#open.get(runId);
    if (rdb !== undefined) {
      this.#open.delete(runId);
      if (fileIdentity(file) === this.#identity.get(rdb)) {
        this.#open.set(runId, rdb);
        return rdb;
      }
      // Removed, emptied or replaced under us: the open connection would go on reading (and
      // writing) a file no one else sees. Open the path again, which says what became of it.
      rdb.close();
    }
    rdb = RunDb.open(file, meta(), opts);
    this.#identity.set(rdb, fileIdentity(file));
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

/**
 * Device and inode of a file with data (a stat, ~2 us); 'gone' when it is missing or empty. A
 * changed answer means the file was removed, truncated or replaced since it was opened.
 */
export function fileIdentity(file: string): string {
  try {
    const st = statSync(file);
    return st.size === 0 ? 'gone' : `${st.dev}:${st.ino}`;
  } catch {
    return 'gone';
  }
}
