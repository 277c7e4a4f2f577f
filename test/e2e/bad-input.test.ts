/**
 * Bad input through the built CLI: each mistake gives one `trellis: ` line on stderr that names
 * what and where and what to do, a documented exit code (docs/exit-codes.md), and no stack trace
 * unless --debug. Each test works in its own temp folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ExitCode } from '../../src/util/errors.js';
import { runCli } from '../helpers/cli.js';
import { makeArea } from '../helpers/area.js';
import { assertUserError, dump } from '../helpers/e2e.js';

const T = ['-t', 'linux/x86_64'];
const PASSING = { a: '[ezsteps]\nx true\n' };

t.test('an unknown target exits 3 naming the runconfigs file and the known targets (no [default])', async (t) => {
  const area = makeArea(t, { tests: PASSING, runconfigs: '[linux/x86_64]\nCPU x86\n' });
  const r = await runCli(t, ['run', '-t', 'linux/ppc', '-r', 'n'], { cwd: area });
  assertUserError(t, r, ExitCode.config, /linux\/ppc/, /runconfigs\.config/, /known targets: linux\/x86_64/);
});

t.test('a target with the wrong number of values exits 2 naming the keys', async (t) => {
  const area = makeArea(t, { tests: PASSING });
  for (const target of ['linux', 'linux/x86_64/extra']) {
    const r = await runCli(t, ['run', '-t', target, '-r', 'n'], { cwd: area });
    assertUserError(t, r, ExitCode.usage, new RegExp(`'${target}'`), /OS ARCH/, /trellis\.config:\d+/);
  }
});

t.test('no area above the current folder exits 4 and says how to make one', async (t) => {
  const empty = t.testdir({});
  const r = await runCli(t, ['list', 'runs'], { cwd: empty });
  assertUserError(
    t,
    r,
    ExitCode.notFound,
    /no trellis\.config/,
    new RegExp(empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    /--area|trellis init/,
  );
});

t.test('a syntax error in trellis.config exits 3 with file:line', async (t) => {
  const area = makeArea(t, { config: '[fields]\nOS\nARCH\n\n[setup\nmax_concurrent_jobs 2\n', tests: PASSING });
  const r = await runCli(t, ['run', ...T, '-r', 'n'], { cwd: area });
  assertUserError(t, r, ExitCode.config, /trellis\.config:5\b/, /\[setup/);
  t.notOk(fs.existsSync(path.join(area, 'runs', '.db')), 'nothing recorded');
});

t.test('a syntax error in a testconfig exits 3 with file:line', async (t) => {
  const area = makeArea(t, { tests: { ...PASSING, b: '[ezsteps]\nx true\n[oops\n' } });
  const r = await runCli(t, ['run', ...T, '-r', 'n'], { cwd: area });
  assertUserError(t, r, ExitCode.config, /tests\/b\/testconfig:3\b/, /\[oops/);
});

t.test('#{scheme …} is refused with file:line', async (t) => {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nx echo #{scheme (+ 1 2)}\n' } });
  const r = await runCli(t, ['run', ...T, '-r', 'n'], { cwd: area });
  assertUserError(t, r, ExitCode.config, /tests\/a\/testconfig:2\b/, /scheme/, /#\{shell/);
});

t.test('a waiton naming an unknown test warns with file:line and the run goes on', async (t) => {
  const area = makeArea(t, { tests: { a: '[requirements]\nwaiton nosuch\n\n[ezsteps]\nx true\n' } });
  const r = await runCli(t, ['run', ...T, '-r', 'n'], { cwd: area });
  t.equal(r.code, 0, dump(r));
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, dump(r));
  t.match(lines[0], /^trellis: warning: .*tests\/a\/testconfig:2\b.*'nosuch'/);
  t.match(r.stdout, /PASS\s+a\b/);
});

t.test('a waiton cycle exits 3 naming the cycle', async (t) => {
  const area = makeArea(t, {
    tests: {
      a: '[requirements]\nwaiton b\n\n[ezsteps]\nx true\n',
      b: '[requirements]\nwaiton c\n\n[ezsteps]\nx true\n',
      c: '[requirements]\nwaiton a\n\n[ezsteps]\nx true\n',
    },
  });
  const r = await runCli(t, ['run', ...T, '-r', 'n'], { cwd: area });
  const line = assertUserError(t, r, ExitCode.config, /cycle/, /testconfig:2\b/);
  t.match(line, /([abc]) -> [abc] -> [abc] -> \1/, 'the whole cycle');
});

t.test('usage errors exit 2 and point at --help; bad values at an example', async (t) => {
  const area = makeArea(t, { tests: PASSING });
  const cases: Array<[string[], RegExp, RegExp]> = [
    [['run', '-r', 'n'], /--target/, /--help/],
    [['run', ...T], /--runname/, /--help/],
    [['run', ...T, '-r', 'n', '--bogus'], /bogus/, /--help/],
    [['run', ...T, '-r', 'n', '-j', '0'], /-j 0\b/, /e\.g\. -j 4/],
    [['run', ...T, '-r', 'n', '-j', 'x'], /-j x\b/, /e\.g\. -j 4/],
    [['run', ...T, '-r', 'n', '-j', '1.5'], /-j 1\.5\b/, /e\.g\. -j 4/],
    [['list', 'things'], /things|runs, tests|choices/i, /--help/],
    [['frobnicate'], /frobnicate/, /--help/],
    [[], /command/, /--help/],
  ];
  const results = await Promise.all(cases.map(([argv]) => runCli(t, argv, { cwd: area })));
  for (const [i, [, what, hint]] of cases.entries()) assertUserError(t, results[i]!, ExitCode.usage, what, hint);
  t.notOk(fs.existsSync(path.join(area, 'runs')), 'no run area made');
});

t.test('show of an unknown test and list tests of an unknown run exit 4', async (t) => {
  const area = makeArea(t, { tests: PASSING });
  t.equal((await runCli(t, ['run', ...T, '-r', 'n'], { cwd: area })).code, 0);
  const show = await runCli(t, ['show', 'nosuch', ...T, '-r', 'n'], { cwd: area });
  assertUserError(t, show, ExitCode.notFound, /nosuch/, /list tests/);
  const list = await runCli(t, ['list', 'tests', ...T, '-r', 'other'], { cwd: area });
  assertUserError(t, list, ExitCode.notFound, /linux\/x86_64\/other/, /list runs/);
});

t.test('in-test helpers outside a test exit 4 naming the environment variables', async (t) => {
  const dir = t.testdir({});
  const env = { TRELLIS_RUN_AREA: undefined, TRELLIS_RUN_ID: undefined, TRELLIS_TEST_ID: undefined };
  const helpers = [
    ['step', 'build', '--state', 'start'],
    ['test-status', '--status', 'PASS'],
    ['set-value', 'x', '1'],
  ];
  const results = await Promise.all(helpers.map((argv) => runCli(t, argv, { cwd: dir, env })));
  for (const [i, argv] of helpers.entries()) {
    assertUserError(t, results[i]!, ExitCode.notFound, new RegExp(`trellis ${argv[0]}`), /TRELLIS_RUN_AREA/, /TRELLIS_TEST_ID/);
  }
});

t.test('init into an existing area exits 5 and changes nothing', async (t) => {
  const area = makeArea(t, { tests: PASSING });
  const before = fs.readFileSync(path.join(area, 'trellis.config'), 'utf8');
  const r = await runCli(t, ['init', area]);
  assertUserError(t, r, ExitCode.conflict, /trellis\.config already exists/);
  t.equal(fs.readFileSync(path.join(area, 'trellis.config'), 'utf8'), before);
  t.notOk(fs.existsSync(path.join(area, 'tests', 'hello')));
});

t.test('--debug adds a stack trace after the line', async (t) => {
  const area = makeArea(t, { tests: PASSING, runconfigs: '[linux/x86_64]\n' });
  const r = await runCli(t, ['run', '-t', 'linux/ppc', '-r', 'n', '--debug'], { cwd: area });
  t.equal(r.code, ExitCode.config, dump(r));
  const lines = r.stderr.split('\n');
  t.ok(
    lines.some((l) => /^trellis: unknown target 'linux\/ppc'/.test(l)),
    dump(r),
  );
  t.match(r.stderr, /^ {4}at /m, 'a stack');
});
