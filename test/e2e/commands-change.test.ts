/**
 * The commands that change runs, through the built CLI: set-state-status, remove, lock/unlock and
 * kill on a live run. Each test makes its own area in a temp folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ExitCode } from '../../src/util/errors.js';
import { runCli, startCli } from '../helpers/cli.js';
import { makeArea } from '../helpers/area.js';
import { assertUserError, dump, parseJson, waitForFile } from '../helpers/e2e.js';
import { byKey, mixedRun, X86, type Row, type RunRow } from './commands-fixture.js';

t.test('set-state-status: on a test, and on an item rolls the parent up', async (t) => {
  const { cli } = await mixedRun(t);
  const set = await cli(['set-state-status', 'COMPLETED,WAIVED', ...X86, '-r', 'n', '-p', 'fail']);
  t.equal(set.code, 0, dump(set));
  t.match(set.stdout, /WAIVED on 1 /);
  const onItem = await cli(['set-state-status', ',WAIVED', ...X86, '-r', 'n', '-p', 'itm/2']);
  t.equal(onItem.code, 0, dump(onItem));
  const k = byKey(parseJson<Row[]>(await cli(['list', 'tests', ...X86, '-r', 'n', '--json'])));
  t.match(k, {
    fail: { state: 'COMPLETED', status: 'WAIVED' },
    'itm/1': { status: 'PASS' },
    'itm/2': { state: 'COMPLETED', status: 'WAIVED' },
    itm: { state: 'COMPLETED', status: 'WAIVED' },
    pass: { status: 'PASS' },
  });
  const [run] = parseJson<RunRow[]>(await cli(['list', 'runs', '--json']));
  t.match(run, { status: 'WAIVED' }, 'the run rolls up too');

  const none = await cli(['set-state-status', ',PASS', ...X86, '-r', 'n', '-p', 'nosuch']);
  t.equal(none.code, ExitCode.notFound, 'no matching test: exit 4');
  const bad = await cli(['set-state-status', 'FROZEN,PASS', ...X86, '-r', 'n', '-p', 'pass']);
  assertUserError(t, bad, ExitCode.usage, /FROZEN/, /COMPLETED/);
});

t.test('remove -p removes the rows and work folders of the matching tests', async (t) => {
  const { area, cli } = await mixedRun(t);
  const runDir = path.join(area, 'runs', 'linux', 'x86_64', 'n');
  t.ok(fs.existsSync(path.join(runDir, 'fail')));
  const r = await cli(['remove', ...X86, '-r', 'n', '-p', 'fail,itm/2']);
  t.equal(r.code, 0, dump(r));
  const keys = Object.keys(byKey(parseJson<Row[]>(await cli(['list', 'tests', ...X86, '-r', 'n', '--json'])))).sort();
  t.same(keys, ['itm', 'itm/1', 'pass']);
  t.notOk(fs.existsSync(path.join(runDir, 'fail')), 'fail folder gone');
  t.notOk(fs.existsSync(path.join(runDir, 'itm', '2')), 'itm/2 folder gone');
  t.ok(fs.existsSync(path.join(runDir, 'itm', '1')), 'itm/1 kept');
  t.ok(fs.existsSync(path.join(runDir, 'pass')), 'pass kept');
});

t.test('remove without -p removes the whole run: database, folder and listing', async (t) => {
  const { area, cli } = await mixedRun(t);
  const keep = await cli(['run', ...X86, '-r', 'keep', '-p', 'pass']);
  t.equal(keep.code, 0, dump(keep));
  const [run] = parseJson<RunRow[]>(await cli(['list', 'runs', 'n', '--json']));
  const dbFile = path.join(area, 'runs', '.db', `${run!.id}.db`);
  t.ok(fs.existsSync(dbFile));
  const r = await cli(['remove', ...X86, '-r', 'n']);
  t.equal(r.code, 0, dump(r));
  t.notOk(fs.existsSync(dbFile), 'run database gone');
  t.notOk(fs.existsSync(path.join(area, 'runs', 'linux', 'x86_64', 'n')), 'run folder gone');
  t.same(
    parseJson<RunRow[]>(await cli(['list', 'runs', '--json'])).map((x) => x.runname),
    ['keep'],
  );
  t.ok(fs.existsSync(path.join(area, 'runs', 'linux', 'x86_64', 'keep', 'pass')), 'the other run is untouched');
  assertUserError(t, await cli(['list', 'tests', ...X86, '-r', 'n']), ExitCode.notFound, /no run/);
});

t.test('lock and unlock', async (t) => {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nx true\n' } });
  const cli = (args: string[]) => runCli(t, args, { cwd: area });
  t.equal((await cli(['run', ...X86, '-r', 'n'])).code, 0);
  const lock = await cli(['lock', ...X86, '-r', 'n']);
  t.equal(lock.code, 0, dump(lock));
  t.match(lock.stdout, /Locked linux\/x86_64\/n \(by \S+@\S+\)/);
  t.match(parseJson<RunRow[]>(await cli(['list', 'runs', '--json'])), [{ state: 'locked' }]);
  assertUserError(t, await cli(['remove', ...X86, '-r', 'n']), ExitCode.conflict, /locked/);
  const unlock = await cli(['unlock', ...X86, '-r', 'n']);
  t.equal(unlock.code, 0, dump(unlock));
  t.match(unlock.stdout, /Unlocked linux\/x86_64\/n \(now done\)/);
  t.match(parseJson<RunRow[]>(await cli(['list', 'runs', '--json'])), [{ state: 'done' }]);
  t.equal((await cli(['run', ...X86, '-r', 'n', '--rerun-all'])).code, 0, 'runs again once unlocked');
});

t.test('kill -p stops a live test: KILLED/ABORT, the run exits 1', async (t) => {
  const area = makeArea(t, {
    tests: {
      slow: '[ezsteps]\nwait touch "$MT_RUN_AREA_HOME/started"; sleep 60\n',
      quick: '[ezsteps]\nx true\n',
    },
  });
  const run = startCli(t, ['run', ...X86, '-r', 'n'], { cwd: area });
  await waitForFile(path.join(area, 'started'));
  const kill = await runCli(t, ['kill', ...X86, '-r', 'n', '-p', 'slow'], { cwd: area });
  t.equal(kill.code, 0, dump(kill));
  t.match(kill.stdout, /KILLREQ\s+slow/);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 10000);
  const r = await run.done;
  clearTimeout(timer);
  t.equal(r.code, ExitCode.testsFailed, `the run ends on its own within 10 s\n${dump(r)}`);
  t.match(r.stdout, /ABORT\s+slow\b.*kill/);
  const k = byKey(parseJson<Row[]>(await runCli(t, ['list', 'tests', ...X86, '-r', 'n', '--json'], { cwd: area })));
  t.match(k, { slow: { state: 'KILLED', status: 'ABORT' }, quick: { status: 'PASS' } });
  const none = await runCli(t, ['kill', ...X86, '-r', 'n'], { cwd: area });
  t.equal(none.code, 0);
  t.match(none.stdout, /Nothing to kill/);
});
