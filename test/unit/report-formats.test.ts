/**
 * The three reporters on hand-made results with hostile names and output: JUnit validated with
 * xmllint against junit-10.xsd and read back with XPath, TAP read back with tap-parser, JSON by
 * its documented shape.
 */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { TestDetail } from '../../src/model/records.js';
import { junitClassname } from '../../src/report/junit.js';
import { REPORTERS, type ReportInput } from '../../src/report/reporters.js';
import type { LogExcerpt } from '../../src/util/log-excerpt.js';
import { attrValues, validateJunit, xpath } from '../helpers/junit-schema.js';
import { parseTap } from '../helpers/tap-parse.js';
import { reportInput, row, runRecord, step, wholeLog } from './report-fixture.js';

const HOSTILE = 'colour \x1b[31mred\x1b[0m, nul \x00 bell \x07, cdata ]]> end, <&>"\', lone \ud800, \ufffe, ünï 😀\n';

/** One of everything: every outcome, dotted and non-ASCII names, items with slashes, hostile logs. */
function hostileInput(logMode: ReportInput['logMode'] = 'failed'): ReportInput {
  const logs: Record<string, LogExcerpt> = {};
  const comp = row('comp.ile', '');
  logs[step(comp, 'build', 'PASS', 0).logfile] = wholeLog(HOSTILE);
  const unit = row('unit', '', { status: 'FAIL' });
  const o2 = row('unit', 'core/O2.fast', { status: 'FAIL', comment: 'step check exited 1' });
  step(o2, 'build', 'PASS', 0);
  logs[step(o2, 'check', 'FAIL', 1).logfile] = { size: 50_000_000, head: 'first line\n', tail: `${HOSTILE}last line\n`, cut: 49_999_000 };
  logs[o2.steps[0]!.logfile] = { size: 0, head: '', tail: '', cut: 0, error: 'ENOENT' };
  const nu = row('unit', 'net/ü', { host: 'h2' });
  const slow = row('slow', '', { state: 'KILLED', status: 'TIMED_OUT', comment: 'runtime limit of 3s exceeded' });
  logs[step(slow, 'sleep', 'ABORT', null, { state: 'KILLED' }).logfile] = wholeLog('sleeping\n');
  const dead = row('dead', '', { state: 'INCOMPLETE', status: 'DEAD', comment: 'its runner is gone' });
  const after = row('after', '', {
    state: 'NOT_STARTED',
    status: 'PREQ_FAIL',
    comment: 'waits on unit (FAIL)',
    start: null,
    end: null,
    duration: null,
    host: '',
  });
  const zero = row('zero', '', { state: 'NOT_STARTED', status: 'ZERO_ITEMS', start: null, end: null, duration: null });
  const skip = row('skip', '', { status: 'SKIP', comment: 'skipped: stamp exists' });
  const warn = row('warn#1\\x', '', { status: 'WARN', comment: 'slow <disk>' });
  const running = row('running', '', { state: 'RUNNING', status: 'n/a', end: null, duration: null });
  const tests: TestDetail[] = [after, comp, dead, running, skip, slow, unit, o2, nu, warn, zero];
  const run = runRecord({ target: 'linux.gnu/x86_64', keys: { OS: 'linux.gnu', ARCH: 'x86_64' }, state: 'locked', lockedBy: 'ann@h1' });
  return { ...reportInput(tests, logs, { logMode }), run };
}

function writeJunit(t: Test, input: ReportInput): { file: string; xml: string } {
  const xml = REPORTERS.junit.format(input);
  const file = path.join(t.testdir(), 'junit.xml');
  fs.writeFileSync(file, xml);
  const v = validateJunit(file);
  t.ok(v.ok, `valid against junit-10.xsd\n${v.output}`);
  return { file, xml };
}

t.test('junit: where each test ran, as properties (JUnit has none per test case)', async (t) => {
  const remote = row('remote', 'a/1', { launcher: 'slurm', jobId: '4821', host: 'n7', pid: 99 });
  const viaSsh = row('remote', 'a/2', { launcher: 'ssh', jobId: 'build2', host: 'build2', pid: 98 });
  const here = row('local', '', { launcher: 'local' });
  const { file } = writeJunit(t, { ...reportInput([row('remote', ''), remote, viaSsh, here], {}), run: runRecord() });
  t.equal(xpath(file, 'string(//property[@name="trellis.launchers"]/@value)'), 'local,slurm,ssh');
  t.equal(xpath(file, 'string(//property[@name="trellis.job.linux_x86_64.remote.a/1"]/@value)'), 'n7 (pid 99), slurm job 4821');
  t.equal(xpath(file, 'string(//property[@name="trellis.job.linux_x86_64.remote.a/2"]/@value)'), 'build2 (pid 98), ssh to build2');
  t.equal(xpath(file, 'count(//property[starts-with(@name, "trellis.job.linux_x86_64.local")])'), '0', 'none for tests run here');
});

t.test('junit: valid, counted, mapped', async (t) => {
  const { file, xml } = writeJunit(t, hostileInput());
  t.notMatch(xml, /[\x00-\x08\x0b\x0c\x0e-\x1f]/, 'no raw control character');
  t.notMatch(xml, /<!\[CDATA\[/, 'escaped text, no CDATA');
  t.equal(xpath(file, 'count(/testsuites/testsuite)'), '1', 'one suite for the run');
  t.same(
    ['tests', 'failures', 'errors', 'skipped'].map((a) => xpath(file, `string(/testsuites/testsuite/@${a})`)),
    ['10', '1', '2', '4'],
    '10 cases: unit/core/O2.fast failed; slow, dead errors; after, zero, skip, running skipped',
  );
  t.equal(xpath(file, 'count(/testsuites/@skipped)'), '0', 'no skipped attribute on testsuites (junit-10.xsd)');
  t.same(attrValues(file, '//testcase/@name'), [
    'after',
    'comp.ile',
    'dead',
    'running',
    'skip',
    'slow',
    'core/O2.fast',
    'net/ü',
    'warn#1\\x',
    'zero',
  ]);
  const classnames = attrValues(file, '//testcase/@classname');
  t.ok(
    classnames.every((c) => c.split('.').length === 2),
    `exactly one dot in every classname: ${classnames.join(' ')}`,
  );
  t.ok(classnames.includes('linux_gnu_x86_64.comp_ile'), 'dots and slashes in target and test become _');
  t.same(
    attrValues(file, '//testcase/@time').filter((x) => !/^\d+\.\d{3}$/.test(x)),
    [],
    'times with 3 decimals',
  );
  t.match(xpath(file, 'string(/testsuites/testsuite/@time)'), /^\d+\.\d{3}$/);
  t.match(
    xpath(file, 'string(/testsuites/testsuite/@timestamp)'),
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/,
    'zoned ISO timestamp',
  );
  t.equal(xpath(file, 'string(//property[@name="trellis.run.state"]/@value)'), 'locked', 'run state as a property');
  t.equal(xpath(file, 'string(//property[@name="trellis.hosts"]/@value)'), 'h1,h2');
  t.equal(xpath(file, 'string(//property[@name="trellis.run.lockedBy"]/@value)'), 'ann@h1');

  const failure = '//testcase[@name="core/O2.fast"]/failure';
  t.equal(xpath(file, `string(${failure}/@message)`), 'FAIL: step check, exit code 1');
  t.equal(xpath(file, `string(${failure}/@type)`), 'FAIL');
  const body = xpath(file, `string(${failure})`);
  t.match(body, 'step check: log /logs/', 'the body names the log');
  t.match(body, 'cdata ]]> end, <&>"\'', 'the log tail, escaped and read back whole');
  t.match(body, 'last line');
  t.notMatch(body, /\x1b|\[31m/, 'colour codes removed');
  const out = xpath(file, `string(//testcase[@name="core/O2.fast"]/system-out)`);
  t.match(
    out,
    /first line\n\[\.\.\. 49,999,000 bytes of 50,000,000 bytes cut here; the whole log is \/logs\/\d+\/check\.log \.\.\.\]\n/,
    'head, marker, tail',
  );
  t.match(out, '(log not readable: ENOENT)', 'a missing log is said, not fatal');
  t.match(out, 'ünï 😀', 'non-ASCII kept');
  t.match(out, 'lone \ufffd, \ufffd', 'lone surrogate and U+FFFE replaced');
  t.equal(xpath(file, 'string(//testcase[@name="slow"]/error/@type)'), 'TIMED_OUT');
  t.match(xpath(file, 'string(//testcase[@name="slow"]/error)'), 'sleeping');
  t.equal(xpath(file, 'string(//testcase[@name="dead"]/error/@message)'), 'INCOMPLETE/DEAD: its runner is gone');
  t.equal(xpath(file, 'string(//testcase[@name="after"]/skipped/@message)'), 'PREQ_FAIL: waits on unit (FAIL)');
  t.equal(xpath(file, 'string(//testcase[@name="running"]/skipped/@message)'), 'still RUNNING when the report was made');
  t.equal(xpath(file, 'count(//testcase[@name="comp.ile"]/*)'), '0', 'a pass has no children in --logs failed');
  t.equal(xpath(file, 'count(//testcase[@classname="linux_gnu_x86_64.unit" and @name="unit"])'), '0', 'the rolled-up row is no case');
});

t.test('junit --logs all and none', async (t) => {
  const all = writeJunit(t, hostileInput('all'));
  t.equal(xpath(all.file, 'count(//system-out)'), '10', 'every case carries its output');
  t.match(xpath(all.file, 'string(//testcase[@name="comp.ile"]/system-out)'), 'cdata ]]> end, <&>"\'');
  const none = writeJunit(t, hostileInput('none'));
  t.equal(xpath(none.file, 'count(//system-out)'), '0');
  t.match(xpath(none.file, 'string(//failure)'), 'last line', 'the failure still has its log tail');
  t.same(
    REPORTERS.junit
      .logsWanted(hostileInput('none'))
      .files.map((f) => path.basename(f))
      .sort(),
    ['check.log', 'sleep.log'],
    'none reads only the failing steps',
  );
});

t.test('junit: an empty run is valid too', async (t) => {
  const { file } = writeJunit(t, reportInput([]));
  t.equal(xpath(file, 'string(/testsuites/@tests)'), '0');
});

t.test('junit classname: one dot whatever the names hold', async (t) => {
  t.equal(junitClassname('linux/x86_64', 'unit'), 'linux_x86_64.unit');
  t.equal(junitClassname('a.b/c.d', 'e.f.g'), 'a_b_c_d.e_f_g');
});

t.test('tap: version 14, read back by tap-parser', async (t) => {
  const text = REPORTERS.tap.format(hostileInput());
  t.match(text, /^TAP version 14\n/);
  const parsed = await parseTap(text);
  t.same(parsed.bailouts, [], 'no bail out');
  t.same(parsed.extra, [], 'nothing the parser could not read as TAP');
  t.same(
    parsed.results.failures.filter((f) => 'tapError' in f && f.tapError),
    [],
    'no parse errors',
  );
  t.match(parsed.results, { ok: false, count: 9, pass: 6, fail: 3, skip: 4 }, '9 tests: unit, slow, dead not ok; 4 skipped');
  const top = parsed.points.filter((p) => p.level === 0);
  t.same(
    top.map((p) => p.name),
    ['after', 'comp.ile', 'dead', 'running', 'skip', 'slow', 'unit', 'warn#1\\x', 'zero'],
    '# and \\ unescaped',
  );
  const items = parsed.points.filter((p) => p.level === 1);
  t.same(
    items.map((p) => [p.name, p.ok]),
    [
      ['core/O2.fast', false],
      ['net/ü', true],
    ],
    'items as a subtest',
  );
  t.match(items[0]!.diag, {
    status: 'FAIL',
    step: 'check',
    exitCode: 1,
    duration: 1.5,
    log: /check\.log$/,
    message: 'FAIL: step check, exit code 1',
  });
  t.match(
    top.find((p) => p.name === 'after'),
    { ok: true, skip: 'PREQ_FAIL: waits on unit (FAIL)' },
  );
  t.match(top.find((p) => p.name === 'slow')!.diag, { state: 'KILLED', status: 'TIMED_OUT', step: 'sleep', exitCode: null });
  t.match(top.find((p) => p.name === 'comp.ile')!.diag, { status: 'PASS', step: 'build', exitCode: 0 });
});

t.test('json: the documented shape', async (t) => {
  const report = JSON.parse(REPORTERS.json.format(hostileInput())) as {
    generated: string;
    run: Record<string, unknown>;
    tests: Array<Record<string, unknown>>;
  };
  t.match(report.generated, /^\d{4}-.*[+-]\d\d:\d\d$/);
  t.match(report.run, { target: 'linux.gnu/x86_64', runname: 'nightly', state: 'locked', status: 'FAIL', lockedBy: 'ann@h1' });
  t.same(report.run['cases'], { total: 10, passed: 3, failed: 1, errors: 2, skipped: 4 });
  t.equal(report.tests.length, 11, 'every row, the rolled-up one too');
  const o2 = report.tests.find((x) => x['itempath'] === 'core/O2.fast')!;
  t.match(o2, {
    testname: 'unit',
    state: 'COMPLETED',
    status: 'FAIL',
    case: true,
    outcome: 'failed',
    message: 'FAIL: step check, exit code 1',
    step: 'check',
  });
  t.match(o2['steps'], [
    { name: 'build', exitCode: 0 },
    { name: 'check', status: 'FAIL', exitCode: 1, start: /[+-]\d\d:\d\d$/, logfile: /check\.log$/ },
  ]);
  t.match(
    report.tests.find((x) => x['testname'] === 'unit' && x['itempath'] === ''),
    { case: false, outcome: 'failed' },
  );
  t.match(
    report.tests.find((x) => x['testname'] === 'comp.ile'),
    { case: true, outcome: 'passed', message: '', step: null },
  );
});
