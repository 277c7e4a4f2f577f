/**
 * A Megatest area whose tests judge their logs with logpro files and talk to Megatest from inside
 * ($MT_MEGATEST), run unchanged by the built CLI (issue 11). One run of one area, many checks:
 * logpro pass, warn, fail, required-missing, an ignore masking an error, a waived rule, a step that
 * exits 1 with a clean log (logpro decides), exit 2 without logpro (fails), an ezstep script found
 * in the test's folder, 200 MB of log, a runscript making 50 -step calls and loading test data with
 * every comparator, AUTO, and an in-test error reaching the test.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { TEST_SERVER_CONFIG } from '../helpers/area.js';
import { listTests, readLines, run, statesOf, TARGET, trellis, workDir } from '../helpers/run-e2e.js';
import { stopServersUnder } from '../helpers/servers.js';

t.setTimeout(300_000);

const MEGATEST_CONFIG = `[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs 2\n${TEST_SERVER_CONFIG}`;
const RUNCONFIGS = '[default]\nMODE regress\n\n[linux/x86_64]\n';

const BODY = `(expect:error in "LogFileBody" = 0 "Any error" #/error:/)
(expect:required in "LogFileBody" > 0 "Build done" #/^build done/)
`;

/** 50 -step pairs, every comparator of -load-test-data, and the roll-up. */
const RUNSCRIPT = `#!/bin/sh
i=0
while [ $i -lt 25 ]; do
  i=$((i + 1))
  $MT_MEGATEST -step part$i :state start :status n/a -setlog part$i.log || exit 1
  echo "part $i" > part$i.log
  $MT_MEGATEST -step part$i :state end :status 0 || exit 1
done
$MT_MEGATEST -load-test-data << EOF || exit 1
foo,       gt,      1.9,  1.8,      >
foo,       range,   1.0e9,  2e9,    1e9
foo,       lt,      1.2,  1.9,      <
foo,       le,      1.2,  1.2,      <=  , Amps, This is the high power circuit test
foo,       ge,      2,    1.5,      >=
foo,       tol,     1.25, 1.3,      0.1
foo,       word,    1.2,  pass,     silly stuff
faz,       note,    10,   8mA,      ,          ,"a comment, with a comma"
EOF
$MT_MEGATEST -test-status :state COMPLETED :status AUTO || exit 1
echo "auto done"
`;

/** The same roll-up with one value out of its tolerance. */
const AUTO_FAIL = `#!/bin/sh
$MT_MEGATEST -step one :state start :status n/a && $MT_MEGATEST -step one :state end :status 0 || exit 1
printf 'volt,out,2.5,1.9,0.1\\nvolt,in,1.0,1.0,0\\n' | $MT_MEGATEST -load-test-data || exit 1
$MT_MEGATEST -test-status :state COMPLETED :status AUTO -m "rolled up" || exit 1
`;

/** In-test mistakes: each must come back to the test as an exit code and a line. */
const MISTAKES = `#!/bin/sh
$MT_MEGATEST -step x :state sideways :status 0 2> bad-state.err; echo "bad-state=$?"
$MT_MEGATEST -test-status :state COMPLETED 2> no-status.err; echo "no-status=$?"
printf 'v,w,1,2,maybe\\n' | $MT_MEGATEST -load-test-data 2> bad-tol.err; echo "bad-tol=$?"
$MT_MEGATEST -frobnicate 2> unknown.err; echo "unknown=$?"
$MT_MEGATEST -step x :state end :status 0 -setlog /etc/passwd 2> outside.err; echo "outside=$?"
$MT_MEGATEST -test-files '*.log' -target "$MT_TARGET" :runname "$MT_RUNNAME" -testpatt lp_pass > paths.out; echo "paths=$?"
exit 0
`;

function writeMegatestArea(dir: string): void {
  const files: Record<string, string> = {
    'megatest.config': MEGATEST_CONFIG,
    'runconfigs.config': RUNCONFIGS,
    'tests/lp_pass/testconfig': `[ezsteps]\nbuild printf 'compiling\\nwarning: unused x\\nbuild done\\n'\nnext  echo next ran\n`,
    'tests/lp_pass/build.logpro': `${BODY}(expect:error in "Nowhere" = 0 "Never applies" #/xyzzy/)\n`,
    'tests/lp_warn/testconfig': `[ezsteps]\nbuild printf 'warning: slow disk\\nbuild done\\n'\nnext  echo next ran\n`,
    'tests/lp_warn/build.logpro': `${BODY}(expect:warning in "LogFileBody" = 0 "Any warning" #/warning:/)\n`,
    'tests/lp_fail/testconfig': `[ezsteps]\nbuild printf 'step one\\nerror: undefined symbol foo\\nbuild done\\nerror: again\\n'\nnext  echo next ran\n`,
    'tests/lp_fail/build.logpro': BODY,
    'tests/lp_required/testconfig': `[ezsteps]\nbuild echo compiling only\n`,
    'tests/lp_required/build.logpro': BODY,
    'tests/lp_ignore/testconfig': `[ezsteps]\nbuild printf 'error: none found\\nbuild done\\n'\n`,
    'tests/lp_ignore/build.logpro': `(expect:ignore in "LogFileBody" < 99 "Benign" #/error: none/)\n${BODY}`,
    'tests/lp_waive/testconfig': `[ezsteps]\nbuild printf 'error: known bug 1234\\nbuild done\\n'\nnext  echo next ran\n`,
    'tests/lp_waive/build.logpro': `(expect:waive in "LogFileBody" < 1 "Known bug" #/known bug 1234/)\n${BODY}`,
    // logpro decides in a Megatest area: a command that exits 1 with a clean log passes.
    'tests/lp_exit1/testconfig': `[ezsteps]\nbuild printf 'build done\\n'; exit 1\n`,
    'tests/lp_exit1/build.logpro': BODY,
    'tests/exit2/testconfig': `[ezsteps]\nfirst exit 2\nsecond echo second ran\n`,
    'tests/ezscript/testconfig': `[ezsteps]\nrun myscript.sh $MODE\n`,
    'tests/ezscript/myscript.sh': '#!/bin/sh\necho "found in the work folder: $1"\n',
    'tests/big/testconfig': `[ezsteps]\nbuild yes 'cc -c file.c -o file.o' | head -c 200000000; echo; echo 'Voltage: 1.93'; echo build done\n`,
    'tests/big/build.logpro': `${BODY}(expect:value in "LogFileBody" 1.9 0.1 "Output voltage" #/Voltage: ([\\d.]+)/)\n`,
    'tests/steps/testconfig': '[setup]\nrunscript main.sh\n',
    'tests/steps/main.sh': RUNSCRIPT,
    'tests/autofail/testconfig': '[setup]\nrunscript main.sh\n',
    'tests/autofail/main.sh': AUTO_FAIL,
    'tests/mistakes/testconfig': '[requirements]\nwaiton lp_pass\n\n[setup]\nrunscript main.sh\n',
    'tests/mistakes/main.sh': MISTAKES,
  };
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { mode: text.startsWith('#!') ? 0o755 : 0o644 });
  }
}

interface ShowJson {
  status: string;
  comment: string;
  steps: Array<{ name: string; status: string; exitCode: number | null; logfile: string }>;
  data: Array<{ name: string; value: string; expected: string | null; tol: string | null; status: string }>;
  rules: Array<{
    step: string;
    rule: string;
    kind: string;
    count: number;
    ok: boolean;
    status: string;
    lines: Array<{ line: number; text: string }>;
    measured: string | null;
  }>;
}

t.test('a Megatest area with logpro files and in-test calls runs unchanged', async (t) => {
  let area: string | undefined;
  t.teardown(() => (area === undefined ? undefined : stopServersUnder(area)));
  area = t.testdir();
  writeMegatestArea(area);
  const res = await run(t, area, 'mt');
  t.equal(res.code, 1, 'exit 1: some tests fail on purpose', { output: res.stdout + res.stderr });
  t.match(
    res.stderr,
    /warning: test lp_pass, step build: .*build\.logpro:\d+: section "Nowhere" is not defined/,
    'rule warnings are said once, at the start',
  );
  const rows = await listTests(t, area, 'mt');
  t.same(statesOf(rows), {
    autofail: 'COMPLETED/FAIL',
    big: 'COMPLETED/PASS',
    exit2: 'COMPLETED/FAIL',
    ezscript: 'COMPLETED/PASS',
    lp_exit1: 'COMPLETED/PASS',
    lp_fail: 'COMPLETED/FAIL',
    lp_ignore: 'COMPLETED/PASS',
    lp_pass: 'COMPLETED/PASS',
    lp_required: 'COMPLETED/FAIL',
    lp_waive: 'COMPLETED/WAIVED',
    lp_warn: 'COMPLETED/WARN',
    mistakes: 'COMPLETED/PASS',
    steps: 'COMPLETED/PASS',
  });
  const show = async (test: string): Promise<ShowJson> => {
    const r = await trellis(t, area!, ['show', test, '-t', TARGET, '-r', 'mt', '--json']);
    t.equal(r.code, 0, `show ${test}`, { stderr: r.stderr });
    return JSON.parse(r.stdout) as ShowJson;
  };
  const dir = (test: string) => workDir(area!, 'mt', test);

  t.test('logpro: the rules decide each step, and .dat files are written beside the logs', async (t) => {
    const fail = await show('lp_fail');
    t.same(
      fail.steps.map((s) => `${s.name}:${s.status}`),
      ['build:FAIL'],
      'a FAIL ends the test: the next step does not run',
    );
    const anyError = fail.rules.find((r) => r.kind === 'error')!;
    t.same(anyError.lines, [
      { line: 2, text: 'error: undefined symbol foo' },
      { line: 4, text: 'error: again' },
    ]);
    t.equal(anyError.count, 2);
    t.match(fail.comment, /"Any error" = 0 expected, found 2 \(first: line 2\)/);
    t.match(
      fs.readFileSync(path.join(dir('lp_fail'), 'build.dat'), 'utf8'),
      /\[final\]\nexit-code 1\nexit-status FAIL\nmessage Any error\n/,
    );
    t.same(
      (await show('lp_warn')).steps.map((s) => `${s.name}:${s.status}`),
      ['build:WARN', 'next:PASS'],
      'after WARN the next step runs',
    );
    t.same(
      (await show('lp_waive')).steps.map((s) => `${s.name}:${s.status}`),
      ['build:WAIVED'],
      'after WAIVED it does not (as Megatest)',
    );
    t.match(rows.get('lp_required')!.comment, /"Build done" > 0 expected, found 0/);
    const ignore = await show('lp_ignore');
    t.same(
      ignore.rules.map((r) => `${r.kind}:${r.count}`),
      ['ignore:1', 'error:0', 'required:1'],
      'the ignore took the line first',
    );
    t.equal((await show('lp_exit1')).steps[0]!.exitCode, 1, 'the step exited 1, its log passed: PASS');
    t.same(
      (await show('exit2')).steps.map((s) => `${s.name}:${s.status}`),
      ['first:FAIL'],
      'exit 2 without logpro is a FAIL',
    );
    t.same(readLines(path.join(dir('ezscript'), 'run.log')), ['found in the work folder: regress']);
  });

  t.test('200 MB of log judged in the run, its value rule recorded as a value', async (t) => {
    const big = await show('big');
    t.ok(fs.statSync(path.join(dir('big'), 'build.log')).size > 200_000_000, 'the log is 200 MB');
    t.same(
      big.data.map((d) => `${d.name}=${d.value} ${d.status}`),
      ['build/Output voltage=1.93 PASS'],
    );
    t.equal(big.rules.find((r) => r.kind === 'value')!.measured, '1.93');
  });

  t.test('50 -step calls, every comparator of -load-test-data, AUTO', async (t) => {
    const steps = await show('steps');
    t.equal(steps.steps.filter((s) => /^part\d+$/.test(s.name) && s.status === 'PASS').length, 25, '25 steps started and ended');
    t.equal(steps.steps.find((s) => s.name === 'part7')!.logfile, path.join(dir('steps'), 'part7.log'), '-setlog names the step log');
    t.same(steps.data.map((d) => `${d.name} ${d.status}`).sort(), [
      'faz/note n/a',
      'foo/ge PASS',
      'foo/gt PASS',
      'foo/le PASS',
      'foo/lt PASS',
      'foo/range PASS',
      'foo/tol PASS',
      'foo/word n/a',
    ]);
    t.equal(steps.status, 'PASS');
    t.ok(readLines(path.join(dir('steps'), 'main.sh.log')).includes('auto done'));
    const auto = await show('autofail');
    t.equal(auto.comment, 'rolled up', 'AUTO rolled the failing value up, with the message');
    t.same(auto.data.map((d) => `${d.name} ${d.status}`).sort(), ['volt/in PASS', 'volt/out FAIL']);
  });

  t.test('in-test mistakes reach the test as an exit code and a line', async (t) => {
    const log = readLines(path.join(dir('mistakes'), 'main.sh.log'));
    t.same(log, ['bad-state=2', 'no-status=2', 'bad-tol=2', 'unknown=2', 'outside=2', 'paths=0']);
    const err = (f: string) => fs.readFileSync(path.join(dir('mistakes'), f), 'utf8');
    t.match(err('bad-state.err'), /^megatest: :state 'sideways' is not a step state/);
    t.match(err('no-status.err'), /you must give :state and :status with every call to -test-status/);
    t.match(err('bad-tol.err'), /line 1 \(v\/w\): tolerance 'maybe' is not a number/);
    t.match(err('unknown.err'), /-frobnicate is not something a test can ask of Trellis/);
    t.match(err('outside.err'), /is outside the run area/);
    t.same(readLines(path.join(dir('mistakes'), 'paths.out')), [
      path.join(dir('lp_pass'), 'build.log'),
      path.join(dir('lp_pass'), 'next.log'),
    ]);
    const junit = await trellis(t, area!, ['report', 'junit', '-t', TARGET, '-r', 'mt']);
    t.match(
      junit.stdout,
      /message="FAIL: step build, exit code 0, log rules: &quot;Any error&quot; = 0 expected, found 2 \(line 2: error: undefined symbol foo\)"/,
    );
  });
});
