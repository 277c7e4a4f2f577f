/**
 * Reruns through the built CLI: a second run of the same name keeps recorded results; --rerun,
 * --rerun-clean and --rerun-all choose what runs again, only among the tests -p selects;
 * --preclean empties the work folder first.
 */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { makeArea } from '../helpers/area.js';
import { listTests, readLines, run, statesOf, trellis, workDir } from '../helpers/run-e2e.js';

/** Each step appends its test name to `ran`, then exits with `code`. */
const test = (code: number) => `[ezsteps]\nrun  echo "$MT_TEST_NAME" >> "$MT_RUN_AREA_HOME/ran" && exit ${code}\n`;
const TESTS = { pass1: test(0), pass2: test(0), fail1: test(1), fail2: test(1), warn1: test(2), abort1: test(5) };
const FIRST = {
  abort1: 'COMPLETED/ABORT',
  fail1: 'COMPLETED/FAIL',
  fail2: 'COMPLETED/FAIL',
  pass1: 'COMPLETED/PASS',
  pass2: 'COMPLETED/PASS',
  warn1: 'COMPLETED/WARN',
};

/** Runs once and returns a function giving the tests that ran since the last call. */
async function firstRun(t: Test, area: string) {
  const res = await run(t, area, 'r');
  t.equal(res.code, 1);
  t.same(statesOf(await listTests(t, area, 'r')), FIRST);
  let seen = 6;
  t.equal(readLines(path.join(area, 'ran')).length, seen);
  return () => {
    const lines = readLines(path.join(area, 'ran'));
    const fresh = lines.slice(seen).sort();
    seen = lines.length;
    return fresh;
  };
}
t.test('the same run again reruns nothing that ended', async (t) => {
  const area = makeArea(t, { tests: TESTS });
  const ranSince = await firstRun(t, area);
  const res = await run(t, area, 'r');
  t.equal(res.code, 1, 'the recorded failures still count');
  t.match(res.stdout, /Running 0 of 6/);
  t.same(ranSince(), []);
  t.same(statesOf(await listTests(t, area, 'r')), FIRST);
});

t.test('--rerun FAIL reruns only FAIL; --rerun FAIL,ABORT both', async (t) => {
  const area = makeArea(t, { tests: TESTS });
  const ranSince = await firstRun(t, area);
  t.equal((await run(t, area, 'r', ['--rerun', 'FAIL'])).code, 1);
  t.same(ranSince(), ['fail1', 'fail2']);
  t.equal((await run(t, area, 'r', ['--rerun', 'fail,abort'])).code, 1);
  t.same(ranSince(), ['abort1', 'fail1', 'fail2']);
});

t.test('--rerun-clean reruns what did not succeed (not WARN); fixed tests then pass', async (t) => {
  const area = makeArea(t, { tests: TESTS });
  const ranSince = await firstRun(t, area);
  for (const name of ['fail1', 'fail2', 'abort1']) fs.writeFileSync(path.join(area, 'tests', name, 'testconfig'), test(0));
  const res = await run(t, area, 'r', ['--rerun-clean']);
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  t.same(ranSince(), ['abort1', 'fail1', 'fail2']);
  t.same(statesOf(await listTests(t, area, 'r')), {
    abort1: 'COMPLETED/PASS',
    fail1: 'COMPLETED/PASS',
    fail2: 'COMPLETED/PASS',
    pass1: 'COMPLETED/PASS',
    pass2: 'COMPLETED/PASS',
    warn1: 'COMPLETED/WARN',
  });
});

t.test('--rerun-all reruns everything', async (t) => {
  const area = makeArea(t, { tests: TESTS });
  const ranSince = await firstRun(t, area);
  t.equal((await run(t, area, 'r', ['--rerun-all'])).code, 1);
  t.same(ranSince(), ['abort1', 'fail1', 'fail2', 'pass1', 'pass2', 'warn1']);
  t.same(statesOf(await listTests(t, area, 'r')), FIRST);
});

t.test('-p limits reruns to the selected tests', async (t) => {
  const area = makeArea(t, { tests: TESTS });
  const ranSince = await firstRun(t, area);
  t.equal((await run(t, area, 'r', ['--rerun-all', '-p', 'pass1'])).code, 0, 'only pass1 decides the exit code');
  t.same(ranSince(), ['pass1']);
  t.equal((await run(t, area, 'r', ['--rerun', 'FAIL', '-p', 'fail2,pass%'])).code, 1);
  t.same(ranSince(), ['fail2']);
  t.equal((await run(t, area, 'r', ['--rerun-clean', '-p', '~fail%'])).code, 1, 'abort1 is still ABORT');
  t.same(ranSince(), ['abort1']);
});

t.test('a rerun clears the old steps and values of the test', async (t) => {
  const area = makeArea(t, {
    tests: { a: '[ezsteps]\nfirst  true\nsecond  exit 1\n' },
  });
  t.equal((await run(t, area, 'r')).code, 1);
  fs.writeFileSync(path.join(area, 'tests', 'a', 'testconfig'), '[ezsteps]\nonly  true\n');
  t.equal((await run(t, area, 'r', ['--rerun', 'FAIL'])).code, 0);
  const res = await trellis(t, area, ['show', 'a', '-t', 'linux/x86_64', '-r', 'r', '--json']);
  t.equal(res.code, 0, 'exit 0', { stderr: res.stderr });
  const detail = JSON.parse(res.stdout) as { steps: Array<{ name: string; status: string }> };
  t.same(
    detail.steps.map((s) => `${s.name}:${s.status}`),
    ['only:PASS'],
  );
});

t.test('--preclean empties the work folder before the test runs', async (t) => {
  const area = makeArea(t, {
    tests: { a: '[ezsteps]\nlook  ls > listing.txt\n', b: '[ezsteps]\nlook  ls > listing.txt\n' },
  });
  t.equal((await run(t, area, 'r')).code, 0);
  for (const name of ['a', 'b']) fs.writeFileSync(path.join(workDir(area, 'r', name), 'stale.txt'), 'old');
  // without --preclean the stale file stays (the control); with it, it is gone; -p keeps b's
  t.equal((await run(t, area, 'r', ['--rerun-all', '-p', 'a'])).code, 0);
  t.match(fs.readFileSync(path.join(workDir(area, 'r', 'a'), 'listing.txt'), 'utf8'), /stale\.txt/);
  t.equal((await run(t, area, 'r', ['--rerun-all', '--preclean', '-p', 'a'])).code, 0);
  t.notOk(fs.existsSync(path.join(workDir(area, 'r', 'a'), 'stale.txt')));
  t.notMatch(fs.readFileSync(path.join(workDir(area, 'r', 'a'), 'listing.txt'), 'utf8'), /stale\.txt/);
  t.ok(fs.existsSync(path.join(workDir(area, 'r', 'b'), 'stale.txt')), 'b was not selected');
});
