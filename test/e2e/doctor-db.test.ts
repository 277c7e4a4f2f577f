/**
 * `trellis doctor` on `.db/` and the work folders, through the built CLI: a run database with no
 * row is put back whole (status, counts, lock, history); a missing run database is named with what
 * to do and left for a person; folders without rows are noted, never deleted (doctor-rebuild:
 * a runs index lost under a live server).
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { dump, parseJson } from '../helpers/e2e.js';
import { setup, shape, T } from './doctor-fixture.js';

// Each command is a Node start and a server round trip: on a 2-core machine under load, minutes.
t.setTimeout(600_000);

t.test('a run database without a row is put back whole', async (t) => {
  const s = setup(t);
  t.equal((await s.cli('run', ...T, '-r', 'r1')).code, 1, 'r1 (b fails)');
  t.equal((await s.cli('server', 'stop', '--all')).code, 0);
  const older = path.join(s.paths.root, 'main-db.copy');
  fs.copyFileSync(s.paths.mainDb, older);
  t.equal((await s.cli('run', ...T, '-r', 'r2')).code, 1, 'r2');
  t.equal((await s.cli('lock', ...T, '-r', 'r2')).code, 0, 'r2 locked');
  const want = shape(await s.runs());
  t.equal((await s.cli('server', 'stop', '--all')).code, 0);
  // An older copy of the index put back: r2 is in no list, though its database is there.
  for (const f of fs.readdirSync(s.paths.dbDir)) if (f.startsWith('main.db')) fs.rmSync(path.join(s.paths.dbDir, f));
  fs.renameSync(older, s.paths.mainDb);
  t.same(
    (await s.runs()).map((r) => r.runname),
    ['r1'],
    'r2 is missing from the list',
  );
  t.equal((await s.cli('server', 'stop', '--all')).code, 0);

  const r = await s.cli('doctor');
  t.equal(r.code, 1, dump(r));
  t.match(r.stdout, /2\.db \(run linux\/x86_64\/r2\) has no row in .*main\.db/);
  const repair = await s.cli('doctor', '--repair');
  t.equal(repair.code, 0, dump(repair));
  t.match(repair.stdout, /repaired: put run linux\/x86_64\/r2 back under id 2/);
  t.same(shape(await s.runs()), want, 'the run is back with its state, status, counts and lock');
  const history = await s.cli('history', 'b', '--json');
  t.same(
    parseJson<Array<{ runname: string }>>(history)
      .map((h) => h.runname)
      .sort(),
    ['r1', 'r2'],
    'and its history',
  );
});

t.test('a missing run database is named with what to do; folders without rows are noted and kept', async (t) => {
  const s = setup(t);
  await s.cli('run', ...T, '-r', 'r1');
  await s.cli('run', ...T, '-r', 'r2');
  t.equal((await s.cli('server', 'stop', '--all')).code, 0);
  fs.rmSync(s.paths.runDb(1));
  const stray = path.join(s.paths.root, 'linux', 'x86_64', 'gone-run');
  const strayTest = path.join(s.paths.root, 'linux', 'x86_64', 'r2', 'no-such-test');
  fs.mkdirSync(stray, { recursive: true });
  fs.mkdirSync(strayTest, { recursive: true });
  const r = await s.cli('doctor', '--repair');
  t.equal(r.code, 1, `a problem --repair cannot fix stays open\n${dump(r)}`);
  t.match(r.stdout, /PROBLEM\s+the database of run linux\/x86_64\/r1 \(.*1\.db\) is missing/);
  t.match(r.stdout, /fix: restore it from a backup, or remove the run .*trellis remove -t linux\/x86_64 -r r1/);
  t.match(r.stdout, new RegExp(`note\\s+${stray.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a work folder of no run`));
  t.match(r.stdout, new RegExp(`note\\s+${strayTest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a test folder with no row`));
  t.ok(fs.existsSync(stray) && fs.existsSync(strayTest), 'no folder is deleted');
  t.equal((await s.cli('remove', ...T, '-r', 'r1')).code, 0, 'the fix it names works');
  const after = await s.cli('doctor');
  t.equal(after.code, 0, dump(after));
});
