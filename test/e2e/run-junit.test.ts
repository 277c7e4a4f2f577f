/**
 * `trellis run --junit FILE`: a Jenkins job is one command, exit code plus report, whatever the
 * outcome: all passed, some failed, or stopped by Ctrl-C. A report path that cannot be written is
 * refused before anything runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { makeArea } from '../helpers/area.js';
import { assertUserError, dump } from '../helpers/e2e.js';
import { attrValues, validateJunit, xpath } from '../helpers/junit-schema.js';
import { killGroupOnTeardown, readPidFile, run, startRun, trellis } from '../helpers/run-e2e.js';

/** The report's totals: tests, failures, errors, skipped. */
function totals(file: string): string[] {
  return ['tests', 'failures', 'errors', 'skipped'].map((a) => xpath(file, `string(/testsuites/testsuite/@${a})`));
}

function assertValid(t: Test, file: string): void {
  const v = validateJunit(file);
  t.ok(v.ok, `valid against junit-10.xsd\n${v.output}`);
}

t.test('a passing run: exit 0 and a report of passes', async (t) => {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nrun  true\n', b: '[items]\nX 1 2\n\n[ezsteps]\nrun  echo $X\n' } });
  const file = path.join(t.testdirName, 'results.xml');
  const res = await run(t, area, 'r', ['--junit', file]);
  t.equal(res.code, 0, res.code === 0 ? 'exit 0' : dump(res));
  t.match(res.stdout, `JUnit report: ${file}`);
  assertValid(t, file);
  t.same(totals(file), ['3', '0', '0', '0']);
  t.same(attrValues(file, '//testcase/@name'), ['a', '1', '2']);
});

t.test('a failing run: exit 1 and the failure in the report', async (t) => {
  const area = makeArea(t, {
    tests: {
      ok: '[ezsteps]\nrun  true\n',
      bad: '[ezsteps]\nbuild  echo compiling; echo broken >&2; exit 1\n',
      after: '[requirements]\nwaiton bad\n\n[ezsteps]\nrun  true\n',
    },
  });
  // A relative path is taken from the current folder (a Jenkins workspace).
  const file = path.join(t.testdirName, 'out', 'results.xml');
  fs.mkdirSync(path.dirname(file));
  const res = await run(t, area, 'r', ['--junit', 'out/results.xml'], { cwd: t.testdirName });
  t.equal(res.code, 1, res.code === 1 ? 'exit 1' : dump(res));
  assertValid(t, file);
  t.same(totals(file), ['3', '1', '0', '1'], 'bad fails, after is skipped (PREQ_FAIL)');
  t.equal(xpath(file, 'string(//testcase[@name="bad"]/failure/@message)'), 'FAIL: step build, exit code 1');
  t.match(xpath(file, 'string(//testcase[@name="bad"]/failure)'), /compiling\nbroken\n$/);
});

t.test('Ctrl-C: exit 130, and the report says what was stopped and what never ran', async (t) => {
  const area = makeArea(t, {
    config: '[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs 1\n',
    tests: {
      a_long: '[requirements]\npriority 10\n\n[ezsteps]\nhang  echo $$ > "$MT_RUN_AREA_HOME/long.pid"; sleep 1000\n',
      b_queued: '[ezsteps]\nrun  true\n',
    },
  });
  let pgid: number | undefined;
  killGroupOnTeardown(t, () => pgid);
  const file = path.join(t.testdirName, 'results.xml');
  const proc = startRun(t, area, 'r', ['--junit', file]);
  pgid = await readPidFile(path.join(area, 'long.pid'), proc);
  proc.child.kill('SIGINT');
  const res = await proc.done;
  t.equal(res.code, 130, res.code === 130 ? 'exit 130' : dump(res));
  assertValid(t, file);
  t.same(totals(file), ['2', '0', '1', '1']);
  t.match(xpath(file, 'string(//testcase[@name="a_long"]/error/@message)'), /^KILLED\/ABORT: interrupted/);
  t.equal(xpath(file, 'string(//testcase[@name="b_queued"]/skipped/@message)'), 'not started');
});

t.test('--junit into a folder that does not exist: refused before anything runs', async (t) => {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nrun  touch "$MT_RUN_AREA_HOME/ran"\n' } });
  const res = await run(t, area, 'r', ['--junit', path.join(t.testdirName, 'nope', 'results.xml')]);
  assertUserError(t, res, 6, /--junit .*nope\/results\.xml: the folder .*nope does not exist/, /create it first/);
  t.notOk(fs.existsSync(path.join(area, 'ran')), 'nothing ran');
  const runs = await trellis(t, area, ['list', 'runs', '--json']);
  t.same(JSON.parse(runs.stdout), [], 'no run was made');
});
