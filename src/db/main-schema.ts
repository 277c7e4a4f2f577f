/**
 * Schema of `.db/main.db`, the runs index: one row per run with its rolled-up state, status and
 * counts, so listing runs never opens the per-run databases. Append migrations; never edit one
 * that has shipped.
 */
import type { Migration } from './open.js';

export const MAIN_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: `
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
      -- The area id lets clients check that a server serves this run area and not another.
      INSERT INTO meta (key, value) VALUES ('area_id', lower(hex(randomblob(16))));

      -- AUTOINCREMENT: a removed run's id is never handed out again, so a stale <id>.db file or a
      -- client holding an old id can never be mistaken for a new run.
      CREATE TABLE runs (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        target    TEXT NOT NULL,
        runname   TEXT NOT NULL,
        keys      TEXT NOT NULL DEFAULT '{}',
        state     TEXT NOT NULL DEFAULT 'new',
        status    TEXT NOT NULL DEFAULT 'n/a',
        counts    TEXT NOT NULL DEFAULT '{}',
        total     INTEGER NOT NULL DEFAULT 0,
        created   REAL NOT NULL,
        started   REAL,
        ended     REAL,
        updated   REAL NOT NULL,
        locked_by TEXT,
        locked_at REAL,
        UNIQUE (target, runname)
      );
      CREATE INDEX runs_newest ON runs (created DESC, id DESC);
      CREATE INDEX runs_runname_newest ON runs (runname, created DESC);
    `,
  },
];
