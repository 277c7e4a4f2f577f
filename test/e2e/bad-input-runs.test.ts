/**
 * Bad input that reaches a run, through the built CLI: hostile item values and run names, a missing
 * runscript, an unwritable run area, a run that is busy or locked. As in bad-input.test.ts, an
 * error is one `trellis: ` line, a documented exit code and no stack trace. Each test works in its
 * own temp folder.
 */
import type { TestRow } from '../helpers/run-e2e.js';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ExitCode } from '../../src/util/errors.js';
import { runCli, startCli } from '../helpers/cli.js';
import { makeArea, writeArea } from '../helpers/area.js';
import { assertUserError, dump, parseJson, waitForFile, walk } from '../helpers/e2e.js';

const T = ['-t', 'linux/x86_64'];
const PASSING = { a: '[ezsteps]\nx true\n' };

type Row = TestRow;

t.test('hostile item values and run names stay inside the run area', async (t) => {
  const values = ['..', 'a/b', 'héllo', '../../../etc', '$HOME;x'];
  // The area sits deep inside this test's own folder, so an escape would land where walk() sees it.
  const root = t.testdir();
  const area = writeArea(path.join(root, 'd1', 'd2', 'd3', 'd4', 'area'), {
    tests: { h: `[items]\nV ${values.join(' ')}\n\n[ezsteps]\nx printf '%s' "$V" > value.txt\n` },
  });
  const before = new Set(walk(root));
  // '/' is refused in run names (hostile-names.test.ts); dots, blanks and non-ASCII are not.
  const runname = '.. my ..run ü';
  const r = await runCli(t, ['run', ...T, '-r', runname], { cwd: area });
  t.equal(r.code, 0, dump(r));

  const runsDir = path.join(area, 'runs');
  const runs = runsDir + path.sep;
  const created = walk(root).filter((p) => !before.has(p));
  t.ok(created.length > 0);
  t.same(
    created.filter((p) => p !== runsDir && !p.startsWith(runs)),
    [],
    'nothing written outside <area>/runs',
  );
  t.same(
    created.filter((p) =>
      path
        .relative(path.join(area, 'runs'), p)
        .split(path.sep)
        .some((c) => c === '..' || c === '.'),
    ),
    [],
    'no . or .. folder names',
  );

  const rows = parseJson<Row[]>(await runCli(t, ['list', 'tests', ...T, '-r', runname, '--json'], { cwd: area }));
  const items = rows.filter((row) => row.itempath !== '');
  t.same(items.map((row) => row.itempath).sort(), [...values].sort(), 'item paths keep the raw values');
  for (const row of items) {
    t.ok(row.rundir.startsWith(runs), `${row.itempath}: work folder ${row.rundir} inside the run area`);
    t.notOk(path.relative(runs, row.rundir).split(path.sep).includes('..'));
    t.equal(fs.readFileSync(path.join(row.rundir, 'value.txt'), 'utf8'), row.itempath, `${row.itempath}: $V has the raw value`);
  }
  t.match(r.stdout, /PASS\s+h\/\.\.\/\.\.\/\.\.\/etc/, 'the summary shows the raw value');
});

t.test('a missing runscript fails the test with a comment naming the script', async (t) => {
  const area = makeArea(t, { tests: { a: '[setup]\nrunscript nosuch.sh\n' } });
  const r = await runCli(t, ['run', ...T, '-r', 'n'], { cwd: area });
  t.equal(r.code, ExitCode.testsFailed, dump(r));
  t.notMatch(r.stderr, /^ {4}at /m);
  const rows = parseJson<Row[]>(await runCli(t, ['list', 'tests', ...T, '-r', 'n', '--json'], { cwd: area }));
  t.match(rows, [{ testname: 'a', state: 'COMPLETED', status: 'FAIL', comment: /runscript nosuch\.sh not found/ }]);
});

t.test('a run area below a regular file exits 6 with one line', async (t) => {
  const area = makeArea(t, { tests: PASSING, files: { 'plainfile': 'not a folder\n' } });
  const bad = path.join(area, 'plainfile', 'runs');
  for (const argv of [
    ['run', ...T, '-r', 'n'],
    ['list', 'runs'],
  ]) {
    const r = await runCli(t, [...argv, '--runarea', bad], { cwd: area });
    assertUserError(t, r, ExitCode.storage, /plainfile\/runs/, /--runarea|runarea/);
  }
});

t.test('a second trellis run on a live run refuses naming pid and host; the first finishes', async (t) => {
  const area = makeArea(t, {
    tests: { slow: '[ezsteps]\nwait touch "$MT_RUN_AREA_HOME/started"; while [ ! -e "$MT_RUN_AREA_HOME/go" ]; do sleep 0.05; done\n' },
  });
  const first = startCli(t, ['run', ...T, '-r', 'n'], { cwd: area });
  await waitForFile(path.join(area, 'started'));
  const second = await runCli(t, ['run', ...T, '-r', 'n'], { cwd: area });
  assertUserError(t, second, ExitCode.conflict, new RegExp(`pid ${first.child.pid}\\b`), /on (host )?\S+/, /wait/);
  fs.writeFileSync(path.join(area, 'go'), '');
  const r = await first.done;
  t.equal(r.code, 0, dump(r));
  t.match(r.stdout, /PASS\s+slow\b/);
});

t.test('a locked run refuses run and set-state-status unless --force, and records the forcing', async (t) => {
  const area = makeArea(t, { tests: PASSING });
  t.equal((await runCli(t, ['run', ...T, '-r', 'n'], { cwd: area })).code, 0);
  const lock = await runCli(t, ['lock', ...T, '-r', 'n'], { cwd: area });
  t.equal(lock.code, 0, dump(lock));

  const run = await runCli(t, ['run', ...T, '-r', 'n', '--rerun-all'], { cwd: area });
  assertUserError(t, run, ExitCode.conflict, /locked/, /unlock|--force/);
  const set = await runCli(t, ['set-state-status', 'COMPLETED,WAIVED', ...T, '-r', 'n', '-p', 'a'], { cwd: area });
  assertUserError(t, set, ExitCode.conflict, /locked/, /--force/);
  let rows = parseJson<Row[]>(await runCli(t, ['list', 'tests', ...T, '-r', 'n', '--json'], { cwd: area }));
  t.match(rows, [{ testname: 'a', status: 'PASS' }], 'unchanged');

  const forced = await runCli(t, ['set-state-status', 'COMPLETED,WAIVED', ...T, '-r', 'n', '-p', 'a', '--force'], { cwd: area });
  t.equal(forced.code, 0, dump(forced));
  rows = parseJson<Row[]>(await runCli(t, ['list', 'tests', ...T, '-r', 'n', '--json'], { cwd: area }));
  t.match(rows, [{ testname: 'a', status: 'WAIVED' }]);

  const rerun = await runCli(t, ['run', ...T, '-r', 'n', '--rerun-all', '--force'], { cwd: area });
  t.equal(rerun.code, 0, dump(rerun));
  t.match(rerun.stdout, /PASS\s+a\b/);

  // No command shows the events log yet: read the run's database (read-only) for the record.
  const [meta] = parseJson<Array<{ id: number; state: string }>>(await runCli(t, ['list', 'runs', '--json'], { cwd: area }));
  t.equal(meta?.state, 'locked', 'still locked after forced changes');
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path.join(area, 'runs', '.db', `${meta!.id}.db`), { readonly: true });
  t.teardown(() => db.close());
  const events = db.prepare(`SELECT kind, detail, who FROM events WHERE kind = 'forced'`).all() as Array<{ detail: string; who: string }>;
  t.ok(events.length >= 2, 'the forced set-state-status and the forced run are recorded');
  for (const e of events) t.match(e, { detail: /while locked/, who: /\S+@\S+/ });
});
