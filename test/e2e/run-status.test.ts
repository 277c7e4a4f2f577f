/**
 * How a test's status comes about, through the built CLI: step exit codes map to statuses, and a
 * runscript reports on itself with `trellis step`, `test-status` and `set-value`.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { makeArea } from '../helpers/area.js';
import { listTests, run, statesOf, TARGET, trellis, workDir } from '../helpers/run-e2e.js';

const exitTest = (code: number) => `[ezsteps]\nrun  exit ${code}\nafter  touch "$MT_RUN_AREA_HOME/after-$MT_TEST_NAME"\n`;

t.test('step exit codes: 0 PASS, 1 FAIL, 2 WARN, 3 CHECK, 4 WAIVED, 5 ABORT, 6 SKIP, 7 FAIL, signal FAIL', async (t) => {
  const codes = [0, 1, 2, 3, 4, 5, 6, 7];
  const tests: Record<string, string> = {};
  for (const c of codes) tests[`e${c}`] = exitTest(c);
  tests['sig'] = '[ezsteps]\nrun  kill -KILL $$\n';
  const area = makeArea(t, { tests });
  const res = await run(t, area, 'r');
  t.equal(res.code, 1, 'exit 1', { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), {
    e0: 'COMPLETED/PASS',
    e1: 'COMPLETED/FAIL',
    e2: 'COMPLETED/WARN',
    e3: 'COMPLETED/CHECK',
    e4: 'COMPLETED/WAIVED',
    e5: 'COMPLETED/ABORT',
    e6: 'COMPLETED/SKIP',
    e7: 'COMPLETED/FAIL',
    sig: 'COMPLETED/FAIL',
  });
  t.match(rows.get('e7')!.comment, /exited 7/);
  t.match(rows.get('sig')!.comment, /SIGKILL/);
  // FAIL and ABORT stop the test; the other statuses let the next step run
  const after = (n: string) => fs.existsSync(path.join(area, `after-${n}`));
  t.same(
    codes.filter((c) => after(`e${c}`)).map((c) => `e${c}`),
    ['e0', 'e2', 'e3', 'e4', 'e6'],
  );
  // exactly the tests that did not end PASS, WARN, WAIVED or SKIP are listed as failures
  t.match(res.stdout, /5 selected tests or items did not pass/);
});

t.test('a WARN (or WAIVED, SKIP) test still gives exit 0', async (t) => {
  const area = makeArea(t, { tests: { ok: exitTest(0), warn: exitTest(2), waived: exitTest(4), skip: exitTest(6) } });
  const res = await run(t, area, 'r');
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  t.same(statesOf(await listTests(t, area, 'r')), {
    ok: 'COMPLETED/PASS',
    skip: 'COMPLETED/SKIP',
    waived: 'COMPLETED/WAIVED',
    warn: 'COMPLETED/WARN',
  });
});

t.test('a CHECK test gives exit 1', async (t) => {
  const area = makeArea(t, { tests: { check: exitTest(3) } });
  t.equal((await run(t, area, 'r')).code, 1);
});

t.test('the worst step wins: WARN then PASS is WARN', async (t) => {
  const area = makeArea(t, { tests: { a: '[ezsteps]\none  exit 2\ntwo  exit 0\n' } });
  t.equal((await run(t, area, 'r')).code, 0);
  t.same(statesOf(await listTests(t, area, 'r')), { a: 'COMPLETED/WARN' });
});

const RUNSCRIPT = `#!/bin/sh
set -e
trellis step render --state start
echo rendering
trellis step render --state end --status PASS
trellis set-value pages 12 --expected 12 --tol 0 --units pages
if [ "$MODE" = warn ]; then trellis test-status --status WARN -m "slow disk"; fi
if [ "$MODE" = value ]; then trellis set-value v 10 --expected 12 --tol 1; fi
exit 0
`;

function runscriptArea(t: Parameters<typeof makeArea>[0], mode: string): string {
  return makeArea(t, {
    tests: { doc: `[env-override]\nMODE ${mode}\n\n[setup]\nrunscript build.sh\n` },
    files: { 'tests/doc/build.sh': RUNSCRIPT },
  });
}

t.test('runscript: trellis test-status --status WARN -m msg makes the test WARN', async (t) => {
  const area = runscriptArea(t, 'warn');
  const res = await run(t, area, 'r');
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.match(rows.get('doc'), { state: 'COMPLETED', status: 'WARN', comment: 'slow disk' });
});

t.test('runscript: set-value outside its tolerance makes the test FAIL; show prints steps and values', async (t) => {
  const area = runscriptArea(t, 'value');
  const res = await run(t, area, 'r');
  t.equal(res.code, 1, 'exit 1', { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.match(rows.get('doc'), { state: 'COMPLETED', status: 'FAIL', comment: /v=10/ });
  const show = await trellis(t, area, ['show', 'doc', '-t', TARGET, '-r', 'r']);
  t.equal(show.code, 0, 'exit 0', { stderr: show.stderr });
  t.match(show.stdout, /doc: COMPLETED FAIL/);
  t.match(show.stdout, /build\.sh\s+COMPLETED\s+PASS/);
  t.match(show.stdout, /render\s+COMPLETED\s+PASS/);
  t.match(show.stdout, /pages\s+12\s+12\s+0\s+pages\s+PASS/);
  t.match(show.stdout, /v\s+10\s+12\s+1\s+.*FAIL/);
  const json = await trellis(t, area, ['show', 'doc', '-t', TARGET, '-r', 'r', '--json']);
  const detail = JSON.parse(json.stdout) as {
    steps: Array<{ name: string; status: string }>;
    data: Array<{ name: string; status: string }>;
  };
  t.same(detail.steps.map((s) => `${s.name}:${s.status}`).sort(), ['build.sh:PASS', 'render:PASS']);
  t.same(detail.data.map((d) => `${d.name}:${d.status}`).sort(), ['pages:PASS', 'v:FAIL']);
});

t.test('runscript: values within tolerance and no status report leave PASS', async (t) => {
  const area = runscriptArea(t, 'plain');
  const res = await run(t, area, 'r');
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  t.match((await listTests(t, area, 'r')).get('doc'), { status: 'PASS' });
  t.equal(fs.readFileSync(path.join(workDir(area, 'r', 'doc'), 'build.sh.log'), 'utf8'), 'rendering\npages=12 PASS\n');
});

t.test('the in-test helpers refuse to run outside a test', async (t) => {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nrun  true\n' } });
  const env = { TRELLIS_RUN_AREA: undefined, TRELLIS_RUN_ID: undefined, TRELLIS_TEST_ID: undefined };
  const res = await trellis(t, area, ['test-status', '--status', 'WARN'], { env });
  t.not(res.code, 0);
  t.match(res.stderr, /must run inside a test/);
});
