/**
 * `trellis report junit|tap|json` through the built CLI on a real run with hostile output:
 * colour codes and other control characters, bytes that are not UTF-8, `]]>` and `<&>`, a 50 MB
 * log, dotted and non-ASCII names, items with slashes. JUnit is validated with xmllint against
 * junit-10.xsd and read back with XPath; TAP with tap-parser; JSON by its documented shape.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { makeArea } from '../helpers/area.js';
import { repoRoot } from '../helpers/cli.js';
import { dump } from '../helpers/e2e.js';
import { attrValues, validateJunit, xpath } from '../helpers/junit-schema.js';
import { run, TARGET, trellis } from '../helpers/run-e2e.js';
import { parseTap } from '../helpers/tap-parse.js';

const HOSTILE_SH = `#!/bin/bash
printf '\\033[31mred\\033[0m cdata ]]> end <&> "q" \\n'
printf 'bell\\a nul\\0 vt\\v ff\\f lone-esc\\033 done\\n'
printf '\\xff\\xfe\\xc3 not utf-8, ünï 😀\\n'
printf 'carriage\\r\\n'
exit 1
`;
const BIG_LOG_BYTES = 50 * 1024 * 1024;

/** An area with one of everything a report must carry. */
function hostileArea(t: Parameters<typeof makeArea>[0]): string {
  return makeArea(t, {
    tests: {
      'comp.ile': '[ezsteps]\nout  ./hostile.sh\n',
      'ünï.code': '[ezsteps]\nrun  echo fine\n',
      big: `[ezsteps]\nspew  yes 'a line of the big log' | head -c ${BIG_LOG_BYTES}; echo END-OF-BIG; exit 1\n`,
      unit: '[items]\nMOD core.lib x<&>y\nOPT O0 O2\n\n[ezsteps]\ncheck  echo "$MOD/$OPT"; test "$OPT" != O2\n',
      after: '[requirements]\nwaiton unit\n\n[ezsteps]\nrun  true\n',
      slow: '[requirements]\nruntimelim 1s\n\n[ezsteps]\nsleep  echo sleeping; sleep 30\n',
      skipme: '[skip]\nfileexists testconfig\n\n[ezsteps]\nrun  true\n',
      warn: '[ezsteps]\nrun  exit 2\n',
    },
    files: { 'tests/comp.ile/hostile.sh': HOSTILE_SH },
  });
}

const CASES = ['after', 'big', 'comp.ile', 'skipme', 'slow', 'core.lib/O0', 'core.lib/O2', 'x<&>y/O0', 'x<&>y/O2', 'warn', 'ünï.code'];

t.test('junit, tap and json of a run with hostile output', async (t) => {
  const area = hostileArea(t);
  const r1 = await run(t, area, 'r1', ['-j', '4']);
  t.equal(r1.code, 1, r1.code === 1 ? 'the run fails' : dump(r1));
  const bigLog = path.join(area, 'runs/linux/x86_64/r1/big/spew.log');
  t.ok(fs.statSync(bigLog).size > BIG_LOG_BYTES, 'a 50 MB log');

  const out = path.join(t.testdirName, 'r1.xml');
  const rep = await trellis(t, area, ['report', 'junit', '-t', TARGET, '-r', 'r1', '-o', out]);
  t.equal(rep.code, 0, rep.code === 0 ? 'exit 0' : dump(rep));
  t.equal(rep.stdout, '', 'nothing on stdout with -o');
  const v = validateJunit(out);
  t.ok(v.ok, `valid against junit-10.xsd\n${v.output}`);
  t.ok(fs.statSync(out).size < 200_000, `capped: ${fs.statSync(out).size} bytes for a 50 MB log`);
  t.same(attrValues(out, '//testcase/@name'), CASES, 'item paths (or test names) as case names');
  t.same(
    ['tests', 'failures', 'errors', 'skipped'].map((a) => xpath(out, `string(/testsuites/testsuite/@${a})`)),
    ['11', '4', '1', '2'],
    'big, comp.ile, unit/core.lib/O2 and unit/x<&>y/O2 fail; slow errs; after and skipme skipped',
  );
  t.same(
    [...new Set(attrValues(out, '//testcase/@classname'))],
    [
      'linux_x86_64.after',
      'linux_x86_64.big',
      'linux_x86_64.comp_ile',
      'linux_x86_64.skipme',
      'linux_x86_64.slow',
      'linux_x86_64.unit',
      'linux_x86_64.warn',
      'linux_x86_64.ünï_code',
    ],
  );
  const hostile = xpath(out, 'string(//testcase[@name="comp.ile"]/failure)');
  t.match(hostile, 'red cdata ]]> end <&> "q"', 'colour codes gone, ]]> and <&> kept as text');
  t.match(hostile, 'bell\ufffd nul\ufffd vt\ufffd ff\ufffd lone-esc\ufffd done', 'control characters replaced');
  t.match(hostile, '\ufffd\ufffd\ufffd not utf-8, ünï 😀', 'invalid UTF-8 decoded with replacement');
  t.equal(xpath(out, 'string(//testcase[@name="comp.ile"]/failure/@message)'), 'FAIL: step out, exit code 1');
  const bigOut = xpath(out, 'string(//testcase[@name="big"]/system-out)');
  t.match(bigOut, /^a line of the big log$/m, 'the head');
  t.match(
    bigOut,
    new RegExp(`bytes cut here; the whole log is ${bigLog.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`),
    'the cut and the full path',
  );
  t.match(xpath(out, 'string(//testcase[@name="big"]/failure)'), /END-OF-BIG\n$/, 'the failure shows the end of the log');
  t.equal(xpath(out, 'string(//testcase[@name="slow"]/error/@type)'), 'TIMED_OUT');
  t.match(xpath(out, 'string(//testcase[@name="after"]/skipped/@message)'), /^PREQ_FAIL: /);
  t.equal(xpath(out, 'string(//property[@name="trellis.run.state"]/@value)'), 'done');

  // The same area run again (directly this time): the same cases under the same names.
  t.equal((await run(t, area, 'r2', ['-j', '4', '--direct'])).code, 1);
  const r2 = await trellis(t, area, ['report', 'junit', '-t', TARGET, '-r', 'r2', '--direct']);
  t.equal(r2.code, 0, r2.code === 0 ? 'exit 0' : dump(r2));
  const out2 = path.join(t.testdirName, 'r2.xml');
  fs.writeFileSync(out2, r2.stdout);
  t.ok(validateJunit(out2).ok, 'stdout is valid JUnit too');
  const ids = (f: string) => attrValues(f, '//testcase/@classname').map((c, i) => `${c} ${attrValues(f, '//testcase/@name')[i]}`);
  t.same(ids(out2), ids(out), 'case ids stable across runs');

  const tap = await trellis(t, area, ['report', 'tap', '-t', TARGET, '-r', 'r1']);
  t.equal(tap.code, 0, tap.code === 0 ? 'exit 0' : dump(tap));
  const parsed = await parseTap(tap.stdout);
  t.same([parsed.bailouts, parsed.extra], [[], []], 'no bail out, nothing that is not TAP');
  t.same(
    parsed.results.failures.filter((f) => 'tapError' in f && f.tapError),
    [],
    'no parse errors',
  );
  t.match(parsed.results, { count: 8, fail: 4, skip: 2 }, '8 tests: big, comp.ile, slow, unit not ok; after, skipme skipped');
  t.same(
    parsed.points.filter((p) => p.level === 1).map((p) => [p.name, p.ok]),
    [
      ['core.lib/O0', true],
      ['core.lib/O2', false],
      ['x<&>y/O0', true],
      ['x<&>y/O2', false],
    ],
    'the items of unit as a subtest',
  );
  t.match(parsed.points.find((p) => p.name === 'big')!.diag, { status: 'FAIL', step: 'spew', exitCode: 1, log: bigLog });

  const json = await trellis(t, area, ['report', 'json', '-t', TARGET, '-r', 'r1', '-p', 'unit']);
  t.equal(json.code, 0, json.code === 0 ? 'exit 0' : dump(json));
  const report = JSON.parse(json.stdout) as { run: Record<string, unknown>; tests: Array<Record<string, unknown>> };
  t.match(report.run, {
    target: TARGET,
    runname: 'r1',
    state: 'done',
    status: 'FAIL',
    cases: { total: 4, passed: 2, failed: 2, errors: 0, skipped: 0 },
  });
  t.match(
    report.tests[0],
    { itempath: '', case: false, message: '4 items: 2 passed, 2 failed, 0 errors, 0 skipped' },
    'the rolled-up row counts its items',
  );
  t.same(
    report.tests.map((x) => [x['itempath'], x['case'], x['outcome']]),
    [
      ['', false, 'failed'],
      ['core.lib/O0', true, 'passed'],
      ['core.lib/O2', true, 'failed'],
      ['x<&>y/O0', true, 'passed'],
      ['x<&>y/O2', true, 'failed'],
    ],
  );
  // A pattern that picks some items of a test keeps only those; one that picks none leaves the
  // test's rolled-up row out of the cases (it is not a case just because its items are not shown).
  const some = await trellis(t, area, ['report', 'json', '-t', TARGET, '-r', 'r1', '-p', 'unit/core%']);
  t.match(JSON.parse(some.stdout), { run: { cases: { total: 2, passed: 1, failed: 1 } } });
  const none = await trellis(t, area, ['report', 'junit', '-t', TARGET, '-r', 'r1', '-p', 'unit/zzz%,warn']);
  t.match(none.stdout, /<testsuite [^>]*tests="1" failures="0"/, 'only warn is a case');
  t.match(report.tests[2], {
    steps: [{ name: 'check', status: 'FAIL', exitCode: 1, logfile: /check\.log$/ }],
    step: 'check',
    message: 'FAIL: step check, exit code 1',
  });
});

t.test('a 50 MB log: the report reads only its head and tail', async (t) => {
  const area = makeArea(t, { tests: { big: `[ezsteps]\nspew  yes 'x' | head -c ${BIG_LOG_BYTES}; exit 1\n` } });
  t.equal((await run(t, area, 'r', ['--direct'])).code, 1);
  const rssFile = path.join(t.testdirName, 'rss');
  const probe = path.join(repoRoot, 'test/fixtures/probes/max-rss.mjs');
  const rep = await trellis(t, area, ['report', 'junit', '-t', TARGET, '-r', 'r', '--direct', '--logs', 'all'], {
    env: { NODE_OPTIONS: `--import=${probe}`, TRELLIS_TEST_RSS_FILE: rssFile },
  });
  t.equal(rep.code, 0, rep.code === 0 ? 'exit 0' : dump(rep));
  t.ok(rep.stdout.length < 50_000, `${rep.stdout.length} characters of XML`);
  const peakMb = Number(fs.readFileSync(rssFile, 'utf8')) / 1024;
  // Node and the CLI take about 70 MB; a log read whole would add 50 MB or more.
  t.ok(peakMb < 100, `peak RSS ${peakMb.toFixed(0)} MB`);
});
