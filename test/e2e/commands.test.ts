/**
 * The commands people use to look at runs, through the built CLI: list runs/tests/targets, show,
 * init, config show, and --help. Each test makes its own area in a temp folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ExitCode } from '../../src/util/errors.js';
import { runCli } from '../helpers/cli.js';
import { makeArea } from '../helpers/area.js';
import { assertUserError, dump, parseJson } from '../helpers/e2e.js';
import { byKey, mixedRun, RUNCONFIGS, X86, type Row, type RunRow } from './commands-fixture.js';

t.test('list runs: text and --json, by name pattern and target', async (t) => {
  const area = makeArea(t, { runconfigs: RUNCONFIGS, tests: { a: '[ezsteps]\nx true\n' } });
  const cli = (args: string[]) => runCli(t, args, { cwd: area });
  for (const [target, runname] of [
    ['linux/x86_64', 'nightly-1'],
    ['linux/aarch64', 'nightly-2'],
    ['linux/x86_64', 'weekly'],
  ]) {
    t.equal((await cli(['run', '-t', target!, '-r', runname!])).code, 0);
  }

  const text = await cli(['list', 'runs']);
  t.equal(text.code, 0, dump(text));
  t.match(text.stdout, /^TARGET\s+RUNNAME\s+STATE\s+STATUS/);
  for (const name of ['nightly-1', 'nightly-2', 'weekly']) t.match(text.stdout, new RegExp(`linux/\\S+\\s+${name}\\s+done\\s+PASS`));

  const all = parseJson<RunRow[]>(await cli(['list', 'runs', '--json']));
  t.equal(all.length, 3);
  const weekly = all.find((r) => r.runname === 'weekly');
  t.match(weekly, {
    id: Number,
    target: 'linux/x86_64',
    keys: { OS: 'linux', ARCH: 'x86_64' },
    runname: 'weekly',
    state: 'done',
    status: 'PASS',
    total: 1,
    counts: { PASS: 1 },
    created: /^\d{4}-\d\d-\d\dT/,
  });

  const nightly = parseJson<RunRow[]>(await cli(['list', 'runs', 'nightly%', '--json']));
  t.same(nightly.map((r) => r.runname).sort(), ['nightly-1', 'nightly-2']);
  const x86 = parseJson<RunRow[]>(await cli(['list', 'runs', 'nightly%', '-t', 'linux/x86_64', '--json']));
  t.same(
    x86.map((r) => `${r.target} ${r.runname}`),
    ['linux/x86_64 nightly-1'],
  );
  const aarch = await cli(['list', 'runs', '-t', 'linux/aarch64']);
  t.match(aarch.stdout, /nightly-2/);
  t.notMatch(aarch.stdout, /nightly-1|weekly/);
  t.same(parseJson(await cli(['list', 'runs', 'nosuch%', '--json'])), []);
});

t.test('list tests: text, --json, -p, --state and --status', async (t) => {
  const { cli } = await mixedRun(t);
  const text = await cli(['list', 'tests', ...X86, '-r', 'n']);
  t.equal(text.code, 0, dump(text));
  t.match(text.stdout, /^TEST\s+STATE\s+STATUS/);
  t.match(text.stdout, /\bfail\s+COMPLETED\s+FAIL\b.*step boom/);
  t.match(text.stdout, /itm\/2\s+COMPLETED\s+FAIL/);

  const rows = parseJson<Row[]>(await cli(['list', 'tests', ...X86, '-r', 'n', '--json']));
  t.equal(rows.length, 5, 'pass, fail, itm, itm/1, itm/2');
  for (const r of rows) t.match(r, { testname: String, itempath: String, state: String, status: String });
  const k = byKey(rows);
  t.match(k, {
    pass: { state: 'COMPLETED', status: 'PASS' },
    fail: { state: 'COMPLETED', status: 'FAIL' },
    itm: { status: 'FAIL' },
    'itm/1': { status: 'PASS' },
    'itm/2': { status: 'FAIL' },
  });

  const failed = parseJson<Row[]>(await cli(['list', 'tests', ...X86, '-r', 'n', '--status', 'FAIL', '--json']));
  t.same(Object.keys(byKey(failed)).sort(), ['fail', 'itm', 'itm/2']);
  const patt = parseJson<Row[]>(await cli(['list', 'tests', ...X86, '-r', 'n', '-p', 'pa%', '--json']));
  t.same(Object.keys(byKey(patt)), ['pass']);
  const notStarted = parseJson<Row[]>(await cli(['list', 'tests', ...X86, '-r', 'n', '--state', 'NOT_STARTED', '--json']));
  t.same(notStarted, []);
  const completed = parseJson<Row[]>(await cli(['list', 'tests', ...X86, '-r', 'n', '--state', 'completed', '-p', 'itm/1', '--json']));
  t.ok(completed.some((r) => r.testname === 'itm' && r.itempath === '1'));
  t.notOk(completed.some((r) => r.itempath === '2'));
});

t.test('list targets: configured ones and ones with runs', async (t) => {
  const area = makeArea(t, { runconfigs: RUNCONFIGS, tests: { a: '[ezsteps]\nx true\n' } });
  const cli = (args: string[]) => runCli(t, args, { cwd: area });
  t.equal((await cli(['run', '-t', 'linux/arm', '-r', 'n'])).code, 0, 'a target matched only by [linux/%]');
  t.equal((await cli(['run', ...X86, '-r', 'n'])).code, 0);
  const list = parseJson<Array<{ target: string; configured: boolean; runs: number }>>(await cli(['list', 'targets', '--json']));
  t.same(list, [
    { target: 'linux/aarch64', configured: true, runs: 0 },
    { target: 'linux/arm', configured: false, runs: 1 },
    { target: 'linux/x86_64', configured: true, runs: 1 },
  ]);
  const text = await cli(['list', 'targets']);
  t.match(text.stdout, /linux\/arm\s+no\s+1/);
  t.match(text.stdout, /linux\/x86_64\s+yes\s+1/);
});

t.test('show: state, host, times, steps, logs and the tail of the failing log', async (t) => {
  const { area, cli } = await mixedRun(t);
  const r = await cli(['show', 'fail', ...X86, '-r', 'n']);
  t.equal(r.code, 0, dump(r));
  const out = r.stdout;
  t.match(out, /^fail: COMPLETED FAIL/);
  t.match(out, /host\s+\S+ \(pid \d+\)/);
  t.match(out, /started\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  t.match(out, /ended\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\(\d+\.\ds\)/);
  const workDir = path.join(area, 'runs', 'linux', 'x86_64', 'n', 'fail');
  t.match(out, new RegExp(`1\\s+first\\s+COMPLETED\\s+PASS\\s+0\\s+\\d+\\.\\ds\\s+${workDir}/first\\.log`));
  t.match(out, new RegExp(`2\\s+boom\\s+COMPLETED\\s+FAIL\\s+1\\s+\\d+\\.\\ds\\s+${workDir}/boom\\.log`));
  t.match(out, /Last lines of step boom:\n\s+the error line/);
  t.notMatch(out, /Items:/, 'a test without items lists none');

  const item = await cli(['show', 'itm/2', ...X86, '-r', 'n']);
  t.match(item.stdout, /^itm\/2: COMPLETED FAIL/);
  t.match(item.stdout, /Last lines of step check:\n\s+item 2/);

  const parent = await cli(['show', 'itm', ...X86, '-r', 'n']);
  t.match(parent.stdout, /Items:\n\s+ITEM.*\n\s+1\s+COMPLETED\s+PASS.*\n\s+2\s+COMPLETED\s+FAIL/);
  t.notMatch(parent.stdout, /Items:\n.*\n\s+COMPLETED/, 'no empty item row for the test itself');

  const json = parseJson<{ steps: Array<{ name: string; status: string; duration: number; logfile: string }> }>(
    await cli(['show', 'fail', ...X86, '-r', 'n', '--json']),
  );
  t.match(json, {
    testname: 'fail',
    status: 'FAIL',
    steps: [
      { name: 'first', status: 'PASS' },
      { name: 'boom', status: 'FAIL' },
    ],
  });
  for (const s of json.steps) {
    t.type(s.duration, 'number');
    t.ok(fs.existsSync(s.logfile), `${s.logfile} exists`);
  }
});

t.test('init DIR makes an area whose run passes', async (t) => {
  const parent = t.testdir();
  const init = await runCli(t, ['init', 'myarea'], { cwd: parent });
  t.equal(init.code, 0, dump(init));
  t.match(init.stdout, /created myarea\/trellis\.config/);
  t.match(init.stdout, /Next: cd myarea && trellis run/);
  const run = await runCli(t, ['run', ...X86, '-r', 'first'], { cwd: path.join(parent, 'myarea') });
  t.equal(run.code, 0, dump(run));
  t.match(run.stdout, /All selected tests passed/);
});

t.test('config show: whole file, one value, --json, runconfigs for a target', async (t) => {
  const area = makeArea(t, {
    config: '[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs 3\n',
    runconfigs: '[default]\nGREETING hello\n\n[linux/x86_64]\nCPU x86\n',
    tests: { a: '[ezsteps]\nx true\n' },
  });
  const cli = (args: string[]) => runCli(t, args, { cwd: area });
  const all = await cli(['config', 'show']);
  t.equal(all.code, 0, dump(all));
  t.match(all.stdout, /^# .*trellis\.config\n\[fields\]\nOS\nARCH\n/);
  t.match(all.stdout, /\[setup\]\nmax_concurrent_jobs 3\n/);

  const one = await cli(['config', 'show', '--section', 'setup', '--var', 'max_concurrent_jobs']);
  t.equal(one.stdout, '3\n', dump(one));
  // makeArea adds `[server] bind 127.0.0.1` to every test area (test servers stay on loopback).
  t.same(parseJson(await cli(['config', 'show', '--json'])), {
    fields: { OS: '', ARCH: '' },
    setup: { max_concurrent_jobs: '3' },
    server: { bind: '127.0.0.1' },
  });

  const rc = await cli(['config', 'show', '--file', 'runconfigs', ...X86]);
  t.equal(rc.code, 0, dump(rc));
  t.match(rc.stdout, /runconfigs\.config/);
  t.match(rc.stdout, /GREETING hello/);
  t.match(rc.stdout, /CPU x86/);

  assertUserError(t, await cli(['config', 'show', '--section', 'setup', '--var', 'nosuch']), ExitCode.notFound, /nosuch/, /\[setup\]/);
  assertUserError(t, await cli(['config', 'show', '--section', 'nosuch']), ExitCode.notFound, /\[nosuch\]/, /fields, setup/);
  assertUserError(t, await cli(['config', 'show', '--var', 'x']), ExitCode.usage, /--section/);
});

t.test('--help of every command shows an example', async (t) => {
  const commands = [
    '',
    'run',
    'list',
    'show',
    'set-state-status',
    'remove',
    'lock',
    'unlock',
    'kill',
    'init',
    'config',
    'step',
    'test-status',
    'set-value',
  ];
  const results = await Promise.all(commands.map((c) => runCli(t, [...(c ? [c] : []), '--help'])));
  commands.forEach((c, i) => {
    const r = results[i]!;
    t.equal(r.code, 0, `${c || 'trellis'} --help\n${dump(r)}`);
    t.match(r.stdout, new RegExp(`Examples:\\n  trellis ${c}`), `${c || 'trellis'} --help has an example`);
    t.equal(r.stderr, '');
  });
});
