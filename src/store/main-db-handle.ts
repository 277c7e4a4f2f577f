/**
 * main.db as a direct store holds it: checked before it is opened (a missing or emptied runs index
 * beside run databases is refused, not recreated empty), the history index backfilled once, and
 * opened again when the file is removed, emptied or replaced under the open connection — which
 * would otherwise go on serving (and checkpointing into) a file no one else sees.
 */
import { MainDb } from '../db/main-db.js';
import { mapStorageError } from '../db/open.js';
import { checkMainDbFile, describeDbFileState, inspectDbFile } from '../util/db-files.js';
import { TrellisError } from '../util/errors.js';
import type { RunAreaPaths } from '../config/paths.js';
import { backfillOutcomes } from './outcome-index.js';
import { fileIdentity } from './run-db-cache.js';

export class MainDbHandle {
  readonly #paths: RunAreaPaths;
  readonly #now: () => number;
  #db: MainDb | undefined;
  #identity = 'gone';

  constructor(paths: RunAreaPaths, now: () => number) {
    this.#paths = paths;
    this.#now = now;
    this.#open();
  }

  /** The open runs index (as of the last check). */
  get db(): MainDb {
    if (this.#db === undefined) this.#open();
    return this.#db!;
  }

  /**
   * Looks at the file (a stat); when it is not the one open, closes the connection (and calls
   * `onReopen`, for the run databases opened under it) and opens the path again (a file restored
   * from a backup); throws when the runs index is gone.
   */
  check(onReopen: () => void): void {
    if (this.#db !== undefined && fileIdentity(this.#paths.mainDb) === this.#identity) return;
    if (this.#db !== undefined) {
      this.#db.close();
      this.#db = undefined;
      onReopen();
    }
    // Created only when the store is opened: a runs index that vanishes under a running store is
    // damage to report, not a cue to start an empty one.
    const state = inspectDbFile(this.#paths.mainDb);
    if (state === 'missing' || state === 'empty') {
      throw new TrellisError(
        state === 'missing' ? 'DB_MISSING' : 'DB_DAMAGED',
        `the runs index ${this.#paths.mainDb} ${describeDbFileState(state)}: it was removed or emptied while this process had it open`,
        'restore it from a backup, or run `trellis doctor --repair` to rebuild it from the run databases',
      );
    }
    this.#open();
  }

  close(): void {
    this.#db?.close();
    this.#db = undefined;
  }

  #open(): void {
    const paths = this.#paths;
    try {
      checkMainDbFile(paths.mainDb, paths.dbDir);
    } catch (err) {
      throw mapStorageError(err, paths.mainDb);
    }
    const db = MainDb.open(paths.mainDb);
    try {
      // Once per run area, on the first open after the history index was added.
      backfillOutcomes(db, paths, this.#now());
    } catch (err) {
      db.close();
      throw mapStorageError(err, paths.dbDir);
    }
    this.#db = db;
    this.#identity = fileIdentity(paths.mainDb);
  }
}
