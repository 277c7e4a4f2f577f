/**
 * Errors that reach a user by the code docs/exit-codes.md gives them: each case runs the CLI with
 * --debug, which names the code (`trellis: debug: error code X, exit N`) after the one line.
 * Runs use --direct: no server is needed to reach these errors, except where a server is the point.
 */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { makeArea } from '../helpers/area.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { dump } from '../helpers/e2e.js';

const T = ['-t', 'linux/x86_64'];

function assertCode(t: Test, r: CliResult, code: string, exit: number, message: RegExp): void {
  t.equal(r.code, exit, `exit ${exit}: ${dump(r)}`);
  const lines = r.stderr.split('\n');
  t.match(lines[0], message, 'the one line says what');
  t.match(r.stderr, new RegExp(`^trellis: debug: error code ${code}, exit ${exit}$`, 'm'), `names ${code}`);
}

t.test('WAITON_CYCLE and NO_TESTS: a run that cannot be planned', async (t) => {
  const area = makeArea(t, {
    tests: { a: '[requirements]\nwaiton b\n\n[ezsteps]\nx true\n', b: '[requirements]\nwaiton a\n\n[ezsteps]\nx true\n' },
  });
  assertCode(t, await runCli(t, ['run', '--direct', '--debug', ...T, '-r', 'n'], { cwd: area }), 'WAITON_CYCLE', 3, /waiton cycle/);
  assertCode(
    t,
    await runCli(t, ['run', '--direct', '--debug', ...T, '-r', 'n', '-p', 'nosuch'], { cwd: area }),
    'NO_TESTS',
    4,
    /no test matches pattern 'nosuch'/,
  );
  assertCode(t, await runCli(t, ['check', '--direct', '--debug', '--max-age', '1d'], { cwd: area }), 'NO_TESTS', 4, /nothing to check/);
});

t.test('NO_ENV: an in-test helper outside a test', async (t) => {
  const env = Object.fromEntries(
    Object.keys(process.env)
      .filter((k) => k.startsWith('TRELLIS_') || k.startsWith('MT_'))
      .map((k) => [k, undefined]),
  );
  assertCode(t, await runCli(t, ['step', 'build', '--state', 'start', '--debug'], { cwd: t.testdir(), env }), 'NO_ENV', 4, /step/);
});

t.test('AREA_EXISTS: init over an area', async (t) => {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nx true\n' } });
  assertCode(t, await runCli(t, ['init', area, '--debug']), 'AREA_EXISTS', 5, /already exists/);
});

t.test('OUTPUT_UNWRITABLE: a report into a folder that is a file', async (t) => {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nx true\n' }, files: { 'plain-file': 'x' } });
  const out = path.join(area, 'plain-file', 'report.xml');
  const r = await runCli(t, ['run', '--direct', '--debug', ...T, '-r', 'n', '--junit', out], { cwd: area });
  assertCode(t, r, 'OUTPUT_UNWRITABLE', 6, /--junit/);
  t.notOk(fs.existsSync(path.join(area, 'runs', '.db')), 'checked before anything ran');
});

t.test('SERVER_START: a server that cannot listen where [server] bind says', async (t) => {
  // 203.0.113.7 is TEST-NET-3: no interface of this host has it, so listen fails at once.
  const area = makeArea(t, { config: '[fields]\nOS\nARCH\n\n[server]\nbind 203.0.113.7\n', tests: { a: '[ezsteps]\nx true\n' } });
  assertCode(
    t,
    await runCli(t, ['server', 'start', '--foreground', '--debug'], { cwd: area }),
    'SERVER_START',
    7,
    /cannot listen on 203\.0\.113\.7/,
  );
});
