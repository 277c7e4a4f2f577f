import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { MainDb } from '../../src/db/main-db.js';
import { MAIN_MIGRATIONS } from '../../src/db/main-schema.js';
import { getLatestVersion, mapStorageError, openDatabase } from '../../src/db/open.js';
import { RUN_DB_PAGE_SIZE, RunDb } from '../../src/db/run-db.js';
import { RUN_MIGRATIONS } from '../../src/db/run-schema.js';
import type { TrellisError } from '../../src/util/errors.js';

function tableNames(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).all() as { name: string }[];
    return rows.map((r) => r.name).filter((n) => !n.startsWith('sqlite_'));
  } finally {
    db.close();
  }
}

function userVersion(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

t.test('main.db: created from nothing, in a 0750 folder, and reopened unchanged', async (t) => {
  const file = path.join(t.testdir(), 'area', 'runs', '.db', 'main.db');
  const first = MainDb.open(file);
  const id = first.readAreaId();
  first.close();
  t.match(id, /^[0-9a-f]{32}$/);
  t.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o750);
  t.same(tableNames(file), [
    'change_counter',
    'job_queue',
    'meta',
    'outcomes',
    'pool_agents',
    'pool_counter',
    'pool_orphans',
    'removed_runs',
    'resource_claims',
    'resource_counter',
    'runs',
  ]);
  t.equal(userVersion(file), getLatestVersion(MAIN_MIGRATIONS));

  const again = MainDb.open(file);
  t.equal(again.readAreaId(), id, 'the area id is made once');
  again.close();
});

t.test('run database: tables, WAL and pragmas', async (t) => {
  const file = path.join(t.testdir(), '.db', '7.db');
  const rdb = RunDb.open(file, { runId: 7, areaId: 'abc', target: 'linux/x86_64', runname: 'nightly' }, { create: true });
  rdb.close();
  t.same(tableNames(file), [
    'agents',
    'applied_ops',
    'events',
    'item_counts',
    'meta',
    'step_rules',
    'steps',
    'test_data',
    'tests',
    'toplevel_counts',
  ]);
  t.equal(userVersion(file), getLatestVersion(RUN_MIGRATIONS));
  const db = openDatabase(file, RUN_MIGRATIONS);
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  t.equal(db.pragma('foreign_keys', { simple: true }), 1);
  t.equal(db.pragma('busy_timeout', { simple: true }), 10000);
  t.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL');
  t.same(db.prepare(`SELECT key, value FROM meta ORDER BY key`).all(), [
    { key: 'area_id', value: 'abc' },
    { key: 'run_id', value: '7' },
    { key: 'runname', value: 'nightly' },
    { key: 'target', value: 'linux/x86_64' },
  ]);
  t.equal(db.pragma('page_size', { simple: true }), RUN_DB_PAGE_SIZE, 'small pages');
  db.close();
  t.ok(fs.statSync(file).size <= 24 * 1024, `an empty run takes at most 24 KB (${fs.statSync(file).size} bytes)`);
});

t.test('a run database made with 4 KB pages keeps them when opened again', async (t) => {
  const file = path.join(t.testdir(), '.db', '3.db');
  openDatabase(file, RUN_MIGRATIONS).close();
  const rdb = RunDb.open(file, { runId: 3, areaId: 'abc', target: 'linux', runname: 'old' });
  rdb.close();
  const db = new Database(file, { readonly: true });
  t.equal(db.pragma('page_size', { simple: true }), 4096);
  db.close();
});

t.test('a migration added later is applied once to an existing file', async (t) => {
  const file = path.join(t.testdir(), 'x.db');
  const v1 = [{ version: 1, up: 'CREATE TABLE a (x INTEGER);' }];
  openDatabase(file, v1).close();
  const v2 = [...v1, { version: 2, up: 'CREATE TABLE b (y INTEGER); INSERT INTO b VALUES (1);' }];
  openDatabase(file, v2).close();
  const db = openDatabase(file, v2);
  t.same(db.prepare('SELECT count(*) AS n FROM b').get(), { n: 1 });
  t.equal(db.pragma('user_version', { simple: true }), 2);
  db.close();
});

t.test('a database newer than the code is refused with DB_TOO_NEW', async (t) => {
  const file = path.join(t.testdir(), '.db', 'main.db');
  MainDb.open(file).close();
  const raw = new Database(file);
  raw.pragma(`user_version = ${getLatestVersion(MAIN_MIGRATIONS) + 1}`);
  raw.close();
  const err = t.throws(() => MainDb.open(file)) as TrellisError;
  t.equal(err.code, 'DB_TOO_NEW');
  t.match(err.message, file);
  t.match(err.hint, /upgrade Trellis/);
});

t.test('a run area that cannot hold a .db folder gives RUNAREA_UNWRITABLE', async (t) => {
  const dir = t.testdir({ 'not-a-folder': 'just a file\n' });
  // Root ignores permission bits, so the run area is a regular file: nothing can be made under it.
  const file = path.join(dir, 'not-a-folder', '.db', 'main.db');
  const err = t.throws(() => MainDb.open(file)) as TrellisError;
  t.equal(err.code, 'RUNAREA_UNWRITABLE');
  t.equal(err.exitCode, 6);
  t.match(err.message, path.join(dir, 'not-a-folder', '.db'));
  t.match(err.hint, /runarea/);
});

t.test('a database path that is a folder gives RUNAREA_UNWRITABLE, naming the file', async (t) => {
  const dir = t.testdir({ '.db': { 'main.db': {} } });
  const file = path.join(dir, '.db', 'main.db');
  const err = t.throws(() => MainDb.open(file)) as TrellisError;
  t.equal(err.code, 'RUNAREA_UNWRITABLE');
  t.match(err.message, file);
});

t.test('a file that is not a database gives DB_DAMAGED', async (t) => {
  const dir = t.testdir({ '.db': { 'main.db': 'this is not sqlite, just some text that is long enough '.repeat(40) } });
  const err = t.throws(() => MainDb.open(path.join(dir, '.db', 'main.db'))) as TrellisError;
  t.equal(err.code, 'DB_DAMAGED');
  t.match(err.message, /main\.db is damaged/);
  t.match(err.hint, /trellis doctor/);
});

t.test('another SQLite failure (a database held by another process) gives DB_ERROR, not DB_DAMAGED', async (t) => {
  const file = path.join(t.testdir(), 'held.db');
  const holder = new Database(file);
  holder.exec('CREATE TABLE x (a)');
  holder.exec('BEGIN EXCLUSIVE');
  t.teardown(() => holder.close());
  const other = new Database(file, { timeout: 0 });
  t.teardown(() => other.close());
  let caught: unknown;
  try {
    other.exec('INSERT INTO x VALUES (1)');
  } catch (err) {
    caught = err;
  }
  const err = mapStorageError(caught, file) as TrellisError;
  t.equal(err.code, 'DB_ERROR');
  t.match(err.message, file);
  t.match(err.hint, /held the database/);
});
