/**
 * The example area (testconfig/) run through the built CLI: everything passes on linux/x86_64;
 * linux/aarch64 shows a failure, a dependent that never starts and a test killed by its limit.
 */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { repoRoot, runCli } from '../helpers/cli.js';
import type { TestRow } from '../helpers/run-e2e.js';

const example = path.join(repoRoot, 'testconfig');

async function list(tt: Test, runArea: string, target: string): Promise<Map<string, TestRow>> {
  const res = await runCli(tt, ['list', 'tests', '--area', example, '--runarea', runArea, '-t', target, '-r', 'x', '--json']);
  tt.equal(res.code, 0, 'exit 0', { stderr: res.stderr });
  const rows = JSON.parse(res.stdout) as TestRow[];
  return new Map(rows.map((r) => [r.itempath ? `${r.testname}/${r.itempath}` : r.testname, r]));
}

t.test('linux/x86_64: exit 0, every test and item PASS', async (t) => {
  const runArea = t.testdir({});
  const res = await runCli(t, ['run', '--area', example, '--runarea', runArea, '-t', 'linux/x86_64', '-r', 'x']);
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  t.match(res.stdout, /Running 20 of 20 tests and items/);
  t.match(res.stdout, /PASS 20/);
  const rows = await list(t, runArea, 'linux/x86_64');
  // 6 tests without items + 14 items (integration 3, lint 2, package 3, unit 6) + 4 parents
  t.equal(rows.size, 24);
  const notPass = [...rows.values()].filter((r) => r.state !== 'COMPLETED' || r.status !== 'PASS');
  t.same(notPass, [], 'every row COMPLETED/PASS');
  for (const key of ['unit/core/O0', 'unit/io/O2', 'integration/beta/8002', 'package/net', 'lint/shell', 'setup']) {
    t.ok(rows.has(key), key);
  }
  // the runs land in --runarea, not in the area
  t.ok(fs.existsSync(path.join(runArea, 'linux', 'x86_64', 'x', 'setup', 'toolchain.txt')));
  t.equal(fs.readFileSync(path.join(runArea, 'linux', 'x86_64', 'x', 'package', 'core', 'core.pkg'), 'utf8'), 'packing core\n');
});

t.test('linux/aarch64: exit 1; flaky FAIL, release PREQ_FAIL, perf TIMED_OUT', async (t) => {
  const runArea = t.testdir({});
  const res = await runCli(t, ['run', '--area', example, '--runarea', runArea, '-t', 'linux/aarch64', '-r', 'x']);
  t.equal(res.code, 1, 'exit 1', { output: res.stdout + res.stderr });
  const rows = await list(t, runArea, 'linux/aarch64');
  t.match(rows.get('flaky'), { state: 'COMPLETED', status: 'FAIL', comment: 'step check exited 1' });
  t.match(rows.get('release'), { state: 'NOT_STARTED', status: 'PREQ_FAIL', comment: /flaky/ });
  t.match(rows.get('perf'), { state: 'KILLED', status: 'TIMED_OUT', comment: /runtime limit of 3s/ });
  t.notOk(fs.existsSync(path.join(runArea, 'linux', 'aarch64', 'x', 'release')), 'release never got a work folder');
  const others = [...rows.entries()].filter(([k]) => !['flaky', 'release', 'perf'].includes(k));
  t.equal(others.length, 21);
  t.same(
    others.filter(([, r]) => r.status !== 'PASS').map(([k]) => k),
    [],
    'everything else PASS',
  );
  t.match(res.stdout, /3 selected tests or items did not pass/);
});
