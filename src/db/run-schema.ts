/**
 * Schema of `.db/<run-id>.db`: everything about one run, so removing or archiving a run is
 * removing or moving one file. Append migrations; never edit one that has shipped.
 */
import type { Migration } from './open.js';

export const RUN_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: `
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;

      -- One row per test (itempath '') and per item. A test with items holds their roll-up.
      CREATE TABLE tests (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        testname    TEXT NOT NULL,
        itempath    TEXT NOT NULL DEFAULT '',
        state       TEXT NOT NULL DEFAULT 'NOT_STARTED',
        status      TEXT NOT NULL DEFAULT 'n/a',
        comment     TEXT NOT NULL DEFAULT '',
        host        TEXT NOT NULL DEFAULT '',
        pid         INTEGER,
        rundir      TEXT NOT NULL DEFAULT '',
        priority    INTEGER NOT NULL DEFAULT 0,
        start       REAL,
        "end"       REAL,
        duration    REAL,
        agent_id    INTEGER,
        item_vars   TEXT NOT NULL DEFAULT '{}',
        owner       TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        tags        TEXT NOT NULL DEFAULT '',
        updated     REAL NOT NULL,
        UNIQUE (testname, itempath)
      );
      -- How many toplevel rows, and how many items of each test, are in each state and status.
      -- Kept by triggers so that a batch reads a handful of rows to refresh the run's summary and
      -- a parent's roll-up, instead of scanning every test after every write.
      CREATE TABLE toplevel_counts (
        state  TEXT NOT NULL,
        status TEXT NOT NULL,
        count  INTEGER NOT NULL,
        PRIMARY KEY (state, status)
      ) WITHOUT ROWID;
      CREATE TABLE item_counts (
        testname TEXT NOT NULL,
        state    TEXT NOT NULL,
        status   TEXT NOT NULL,
        count    INTEGER NOT NULL,
        PRIMARY KEY (testname, state, status)
      ) WITHOUT ROWID;

      CREATE TRIGGER toplevel_counts_insert AFTER INSERT ON tests WHEN new.itempath = '' BEGIN
        INSERT INTO toplevel_counts VALUES (new.state, new.status, 1)
          ON CONFLICT DO UPDATE SET count = count + 1;
      END;
      CREATE TRIGGER toplevel_counts_delete AFTER DELETE ON tests WHEN old.itempath = '' BEGIN
        UPDATE toplevel_counts SET count = count - 1 WHERE state = old.state AND status = old.status;
        DELETE FROM toplevel_counts WHERE state = old.state AND status = old.status AND count <= 0;
      END;
      CREATE TRIGGER toplevel_counts_update AFTER UPDATE OF state, status ON tests
        WHEN new.itempath = '' AND (old.state IS NOT new.state OR old.status IS NOT new.status) BEGIN
        UPDATE toplevel_counts SET count = count - 1 WHERE state = old.state AND status = old.status;
        DELETE FROM toplevel_counts WHERE state = old.state AND status = old.status AND count <= 0;
        INSERT INTO toplevel_counts VALUES (new.state, new.status, 1)
          ON CONFLICT DO UPDATE SET count = count + 1;
      END;

      CREATE TRIGGER item_counts_insert AFTER INSERT ON tests WHEN new.itempath <> '' BEGIN
        INSERT INTO item_counts VALUES (new.testname, new.state, new.status, 1)
          ON CONFLICT DO UPDATE SET count = count + 1;
      END;
      CREATE TRIGGER item_counts_delete AFTER DELETE ON tests WHEN old.itempath <> '' BEGIN
        UPDATE item_counts SET count = count - 1
          WHERE testname = old.testname AND state = old.state AND status = old.status;
        DELETE FROM item_counts
          WHERE testname = old.testname AND state = old.state AND status = old.status AND count <= 0;
      END;
      CREATE TRIGGER item_counts_update AFTER UPDATE OF state, status ON tests
        WHEN new.itempath <> '' AND (old.state IS NOT new.state OR old.status IS NOT new.status) BEGIN
        UPDATE item_counts SET count = count - 1
          WHERE testname = old.testname AND state = old.state AND status = old.status;
        DELETE FROM item_counts
          WHERE testname = old.testname AND state = old.state AND status = old.status AND count <= 0;
        INSERT INTO item_counts VALUES (new.testname, new.state, new.status, 1)
          ON CONFLICT DO UPDATE SET count = count + 1;
      END;

      CREATE TABLE steps (
        test_id   INTEGER NOT NULL REFERENCES tests (id) ON DELETE CASCADE,
        name      TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        state     TEXT NOT NULL,
        status    TEXT NOT NULL DEFAULT 'n/a',
        exit_code INTEGER,
        start     REAL NOT NULL,
        "end"     REAL,
        logfile   TEXT NOT NULL DEFAULT '',
        comment   TEXT NOT NULL DEFAULT '',
        UNIQUE (test_id, name)
      );

      CREATE TABLE test_data (
        test_id  INTEGER NOT NULL REFERENCES tests (id) ON DELETE CASCADE,
        name     TEXT NOT NULL,
        value    TEXT NOT NULL,
        expected TEXT,
        tol      TEXT,
        units    TEXT,
        status   TEXT NOT NULL DEFAULT 'n/a',
        comment  TEXT NOT NULL DEFAULT '',
        time     REAL NOT NULL,
        UNIQUE (test_id, name)
      );

      -- The change feed: no foreign key, the log outlives removed tests.
      CREATE TABLE events (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        time    REAL NOT NULL,
        test_id INTEGER,
        kind    TEXT NOT NULL,
        detail  TEXT NOT NULL DEFAULT '',
        who     TEXT NOT NULL DEFAULT ''
      );

      CREATE TABLE agents (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        kind       TEXT NOT NULL,
        host       TEXT NOT NULL,
        pid        INTEGER NOT NULL,
        proc_start INTEGER,
        started    REAL NOT NULL,
        heartbeat  REAL NOT NULL,
        ended      REAL
      );
      CREATE INDEX agents_live ON agents (kind, ended);

      -- Ids of applied write ops: a retried batch is applied exactly once.
      CREATE TABLE applied_ops (
        op_id TEXT PRIMARY KEY,
        time  REAL NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    // The runner looks for kill requests every second: find them without reading every row.
    up: `CREATE INDEX tests_state ON tests (state);`,
  },
  {
    version: 3,
    // Launchers (where a test ran, and which launch `trellis exec` may run), and each step's
    // process group with its start time, so the orphans of a dead runner can be ended safely.
    up: `
      ALTER TABLE tests ADD COLUMN launcher TEXT NOT NULL DEFAULT '';
      ALTER TABLE tests ADD COLUMN job_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE tests ADD COLUMN launch_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE steps ADD COLUMN pid INTEGER;
      ALTER TABLE steps ADD COLUMN proc_start INTEGER;
    `,
  },
  {
    version: 4,
    // What the log rules found in each judged step's log (docs/log-rules.md): one row per rule,
    // replaced when the step is judged again, gone with its test's steps on a rerun.
    up: `
      CREATE TABLE step_rules (
        test_id     INTEGER NOT NULL REFERENCES tests (id) ON DELETE CASCADE,
        step        TEXT NOT NULL,
        num         INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        comparator  TEXT NOT NULL DEFAULT '',
        expected    TEXT NOT NULL DEFAULT '',
        count       INTEGER NOT NULL DEFAULT 0,
        ok          INTEGER NOT NULL,
        status      TEXT NOT NULL,
        lines       TEXT NOT NULL DEFAULT '[]',
        measured    TEXT,
        pass        INTEGER NOT NULL DEFAULT 0,
        fail        INTEGER NOT NULL DEFAULT 0,
        expired     INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (test_id, step, num)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    // Rows appended from outside the area (`trellis result`): never launched, rerun or reaped.
    up: `ALTER TABLE tests ADD COLUMN external INTEGER NOT NULL DEFAULT 0;`,
  },
];
