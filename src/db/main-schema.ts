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
  {
    version: 2,
    // The change feed of the runs index. Triggers keep it, not the code: every writer (the
    // server, a --direct process) bumps the change number in the same statement as its change,
    // so no code path can forget it and no reader can see the change without its number.
    up: `
      -- One row: the area's last change number. It starts at 1 so that a reader's first cursor
      -- (0) is always behind it and existing runs (given 1 below) are all after 0.
      CREATE TABLE change_counter (
        id  INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL
      );
      INSERT INTO change_counter (id, seq) VALUES (1, 1);

      ALTER TABLE runs ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
      UPDATE runs SET change_seq = 1;
      CREATE INDEX runs_change_seq ON runs (change_seq);

      -- Removed runs, so a reader behind learns they are gone. Ids are never reused
      -- (AUTOINCREMENT), so one row per id is enough.
      CREATE TABLE removed_runs (
        id         INTEGER PRIMARY KEY,
        change_seq INTEGER NOT NULL
      );
      CREATE INDEX removed_runs_change_seq ON removed_runs (change_seq);

      CREATE TRIGGER runs_change_insert AFTER INSERT ON runs BEGIN
        UPDATE change_counter SET seq = seq + 1 WHERE id = 1;
        UPDATE runs SET change_seq = (SELECT seq FROM change_counter WHERE id = 1) WHERE id = new.id;
      END;
      -- Only the real columns: the trigger's own UPDATE of change_seq must not count as a change.
      CREATE TRIGGER runs_change_update
        AFTER UPDATE OF state, status, counts, total, started, ended, updated, locked_by, locked_at, keys ON runs
      BEGIN
        UPDATE change_counter SET seq = seq + 1 WHERE id = 1;
        UPDATE runs SET change_seq = (SELECT seq FROM change_counter WHERE id = 1) WHERE id = new.id;
      END;
      CREATE TRIGGER runs_change_delete AFTER DELETE ON runs BEGIN
        UPDATE change_counter SET seq = seq + 1 WHERE id = 1;
        INSERT OR REPLACE INTO removed_runs (id, change_seq)
          VALUES (old.id, (SELECT seq FROM change_counter WHERE id = 1));
      END;
    `,
  },
  {
    version: 3,
    // The history index: what `trellis history`, `last-success` and `check` read, so they never
    // open the run databases (1,000 runs would take seconds). The direct store keeps it in the
    // same batch as the run summary; existing runs are indexed once on first open (the meta key).
    up: `
      -- One row per test or item of a run in a final state (kind 'run': upserted when it gets
      -- there, deleted when it leaves it or is removed, and with its run), and one per job that
      -- \`trellis wrap\` or \`trellis record\` recorded (run_id NULL, kind 'wrap' or 'record').
      CREATE TABLE outcomes (
        id       INTEGER PRIMARY KEY,
        kind     TEXT NOT NULL,
        run_id   INTEGER REFERENCES runs (id) ON DELETE CASCADE,
        -- wrap/record: the caller's id for the job, so its second call (the end) or a retried
        -- one updates the row instead of adding another
        job_key  TEXT,
        target   TEXT NOT NULL,
        runname  TEXT NOT NULL,
        testname TEXT NOT NULL,
        itempath TEXT NOT NULL,
        state    TEXT NOT NULL,
        status   TEXT NOT NULL,
        -- 1 when COMPLETED with PASS, WARN, WAIVED or SKIP (model/states.ts isSuccessfulOutcome)
        success  INTEGER NOT NULL,
        host     TEXT NOT NULL,
        started  REAL,
        ended    REAL,
        duration REAL,
        -- when it happened, the history order: the start, else the end, else when it was recorded
        at       REAL NOT NULL,
        comment  TEXT NOT NULL DEFAULT ''
      );
      -- Partial: wrap/record rows (no run) and run rows (no key) stay out of the other's index.
      CREATE UNIQUE INDEX outcomes_run_test ON outcomes (run_id, testname, itempath) WHERE run_id IS NOT NULL;
      CREATE UNIQUE INDEX outcomes_job ON outcomes (job_key) WHERE job_key IS NOT NULL;
      -- Every read names the test: one test's history, newest first, per target.
      CREATE INDEX outcomes_test ON outcomes (testname, itempath, target, at);
      INSERT INTO meta (key, value) VALUES ('outcomes_backfill', 'pending');
    `,
  },
  {
    version: 4,
    // Shared resources (docs/workflows.md): the shares tests of any run hold, and the tests
    // waiting for one, area-wide. A claim is taken in one transaction for all the resources of a
    // test, so two runners never both take the last share. Its own change number (triggers, as
    // for runs) lets a waiting runner's change feed wake on a release and on nothing else.
    up: `
      CREATE TABLE resource_claims (
        id         INTEGER PRIMARY KEY,
        resource   TEXT NOT NULL,
        -- the count the claimant's area declares: listed with the claim
        count      INTEGER NOT NULL,
        -- 'held' or 'waiting'
        state      TEXT NOT NULL,
        run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        test_id    INTEGER NOT NULL,
        target     TEXT NOT NULL,
        runname    TEXT NOT NULL,
        testname   TEXT NOT NULL,
        itempath   TEXT NOT NULL,
        -- the runner that holds it: its heartbeat renews the claim; same host: its pid says
        agent_id   INTEGER NOT NULL,
        host       TEXT NOT NULL,
        pid        INTEGER NOT NULL,
        proc_start REAL,
        since      REAL NOT NULL,
        renewed    REAL NOT NULL,
        UNIQUE (resource, run_id, test_id)
      );
      CREATE INDEX resource_claims_holder ON resource_claims (run_id, agent_id);

      CREATE TABLE resource_counter (
        id  INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL
      );
      INSERT INTO resource_counter (id, seq) VALUES (1, 1);
      CREATE TRIGGER resource_claims_insert AFTER INSERT ON resource_claims BEGIN
        UPDATE resource_counter SET seq = seq + 1 WHERE id = 1;
      END;
      -- A renewal, or a wait asked again, is no change anyone waits for: only a share taken or
      -- given back is (else each waiting runner's retry would wake all the others, for ever).
      CREATE TRIGGER resource_claims_update AFTER UPDATE OF state ON resource_claims
        WHEN old.state <> new.state
      BEGIN
        UPDATE resource_counter SET seq = seq + 1 WHERE id = 1;
      END;
      CREATE TRIGGER resource_claims_delete AFTER DELETE ON resource_claims BEGIN
        UPDATE resource_counter SET seq = seq + 1 WHERE id = 1;
      END;
    `,
  },
  {
    version: 5,
    // Run parameters ([params], `trellis run --param`): recorded with the run, shown by `list runs`,
    // `show` and the reports. JSON, NAME → value.
    up: `ALTER TABLE runs ADD COLUMN params TEXT NOT NULL DEFAULT '{}';`,
  },
  {
    version: 6,
    // A closed run (`trellis close`): locked, and when it was closed; unlocking opens it again.
    up: `ALTER TABLE runs ADD COLUMN closed_at REAL;`,
  },
  {
    version: 7,
    // The agent pool (docs/agents.md): the `trellis agent` processes that registered, and the jobs
    // runners queued for them (`--launcher agents`). A job is taken in one UPDATE, so two agents
    // never both take it. Its own change number (triggers) wakes idle agents on what they wait
    // for — a job queued (or queued again), an agent joining, draining or leaving — and on nothing
    // else: a job taken or ended, or a heartbeat, would wake every idle agent of the pool for nothing.
    up: `
      CREATE TABLE pool_agents (
        name       TEXT PRIMARY KEY,
        host       TEXT NOT NULL,
        user       TEXT NOT NULL,
        pid        INTEGER NOT NULL,
        proc_start REAL,
        slots      INTEGER NOT NULL,
        tags       TEXT NOT NULL DEFAULT '[]',
        version    TEXT NOT NULL,
        -- 'running', 'draining' or 'stopped'
        state      TEXT NOT NULL,
        session    TEXT NOT NULL,
        started    REAL NOT NULL,
        heartbeat  REAL NOT NULL,
        ended      REAL,
        load       REAL
      ) WITHOUT ROWID;

      CREATE TABLE job_queue (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id         INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        test_id        INTEGER NOT NULL,
        launch_id      TEXT NOT NULL UNIQUE,
        spec_file      TEXT NOT NULL,
        target         TEXT NOT NULL,
        runname        TEXT NOT NULL,
        label          TEXT NOT NULL,
        tags           TEXT NOT NULL DEFAULT '[]',
        hosts          TEXT NOT NULL DEFAULT '[]',
        runner_agent   INTEGER NOT NULL,
        -- 'queued', 'claimed', 'ended', 'failed' or 'cancelled'
        state          TEXT NOT NULL,
        agent          TEXT,
        agent_session  TEXT,
        tried          TEXT NOT NULL DEFAULT '[]',
        requeues_left  INTEGER NOT NULL,
        queued         REAL NOT NULL,
        claimed        REAL,
        ended          REAL,
        note           TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX job_queue_state ON job_queue (state, id);
      -- Steps an agent that died left running on its host: the next agent there ends them.
      CREATE TABLE pool_orphans (
        id         INTEGER PRIMARY KEY,
        host       TEXT NOT NULL,
        agent      TEXT NOT NULL,
        pid        INTEGER NOT NULL,
        proc_start REAL
      );
      CREATE INDEX job_queue_run ON job_queue (run_id, test_id);

      CREATE TABLE pool_counter (
        id  INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL
      );
      INSERT INTO pool_counter (id, seq) VALUES (1, 1);
      CREATE TRIGGER job_queue_insert AFTER INSERT ON job_queue BEGIN
        UPDATE pool_counter SET seq = seq + 1 WHERE id = 1;
      END;
      CREATE TRIGGER job_queue_requeue AFTER UPDATE OF state ON job_queue
        WHEN old.state <> new.state AND new.state = 'queued'
      BEGIN
        UPDATE pool_counter SET seq = seq + 1 WHERE id = 1;
      END;
      CREATE TRIGGER pool_agents_insert AFTER INSERT ON pool_agents BEGIN
        UPDATE pool_counter SET seq = seq + 1 WHERE id = 1;
      END;
      CREATE TRIGGER pool_agents_update AFTER UPDATE OF state, session, slots, tags ON pool_agents BEGIN
        UPDATE pool_counter SET seq = seq + 1 WHERE id = 1;
      END;
    `,
  },
  {
    version: 8,
    // A queued job's spec itself (runner/job-spec.ts, JSON), given to the agent that takes it: the
    // runner writes no spec file, the agent writes it into the work folder it makes. Cleared when
    // the job ends: only a job that may still run needs it.
    up: `ALTER TABLE job_queue ADD COLUMN spec TEXT;`,
  },
  {
    version: 9,
    // The run's limit on its jobs claimed at once (JobRequest.runLimit); NULL: the runner keeps it.
    up: `ALTER TABLE job_queue ADD COLUMN run_limit INTEGER;`,
  },
];
