/**
 * A step's status once its process ended: Megatest's rule in a megatest.config area (exit 0 only,
 * or the log rules alone), Trellis' in its own areas (the exit-code map, the worse of it and the
 * rules), the .dat written beside the log, a log that cannot be read, a judging pass stopped; and
 * log rules carried in a job spec (JSON) judging the same as the ones read from the config.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { buildRuleSet, parseLogpro, reviveRuleSet, serializeRuleSet } from '../../src/logrules/index.js';
import { exitCodesOf, exitStatus, judgeStep } from '../../src/runner/step-verdict.js';
import { validateJobSpec } from '../../src/runner/job-spec.js';
import { judgeText } from '../../src/logrules/index.js';

const RULES = buildRuleSet([
  parseLogpro(
    String.raw`(expect:error in "LogFileBody" = 0 "Any error" #/error:/)
(expect:warning in "LogFileBody" = 0 "Any warning" #/warning:/i)
(expect:value in "LogFileBody" 1.9 0.1 "Voltage" #/Voltage: ([\d.]+)/)
(expect:required in "LogFileBody" > 0 "Done" #/^done/)`,
    { file: 'x.logpro', line: 1 },
  ),
]);

t.test('the area kind comes from its config file; exit codes by kind', async (t) => {
  t.same(
    [exitCodesOf('/a/megatest.config'), exitCodesOf('/a/trellis.config'), exitCodesOf('/a/not-megatest.config')],
    ['megatest', 'trellis', 'trellis'],
  );
  t.same(
    [0, 1, 2, 4].map((c) => exitStatus(c, null, 'megatest')),
    ['PASS', 'FAIL', 'FAIL', 'FAIL'],
  );
  t.same(
    [0, 1, 2, 4].map((c) => exitStatus(c, null, 'trellis')),
    ['PASS', 'FAIL', 'WARN', 'WAIVED'],
  );
  t.equal(exitStatus(0, 'SIGSEGV', 'megatest'), 'FAIL');
});

t.test('judging: who decides in each kind of area', async (t) => {
  const dir = t.testdir();
  const log = (name: string, text: string) => {
    const file = path.join(dir, `${name}.log`);
    fs.writeFileSync(file, text);
    return file;
  };
  const warn = log('warn', 'Warning: slow\nVoltage: 1.95\ndone\n');
  const end = (logfile: string, code: number, map: 'trellis' | 'megatest') =>
    judgeStep({ step: 's', logfile, code, signal: null, rules: RULES, map, now: 0 });
  const mt = await end(warn, 1, 'megatest');
  t.same(
    [mt.status, mt.comment],
    ['WARN', 'step s: "Any warning" = 0 expected, found 1 (first: line 1)'],
    'Megatest: the rules alone (exit 1 ignored)',
  );
  t.same(mt.values, [
    {
      name: 's/Voltage',
      value: '1.95',
      expected: '1.9',
      tol: '0.1',
      status: 'PASS',
      comment: '1 measured in range, 0 out of range (rule-2)',
    },
  ]);
  t.equal(mt.rules?.length, 4);
  t.match(fs.readFileSync(path.join(dir, 'warn.dat'), 'utf8'), /\[rule-2\][\s\S]*\[final\]\nexit-code 2\nexit-status WARN\n/);
  const tr = await end(warn, 1, 'trellis');
  t.same(
    [tr.status, tr.comment],
    ['FAIL', 'step s exited 1; log: "Any warning" = 0 expected, found 1 (first: line 1)'],
    'Trellis: the worse of both',
  );
  t.same((await end(warn, 0, 'trellis')).status, 'WARN');
  const clean = log('clean', 'Voltage: 1.9\ndone\n');
  t.same((await end(clean, 2, 'trellis')).status, 'WARN', 'exit 2 in a Trellis area still warns');
  t.same((await end(clean, 2, 'megatest')).status, 'PASS', 'in a Megatest area the clean log passes');
  const none = await judgeStep({ step: 's', logfile: clean, code: 2, signal: null, rules: undefined, map: 'megatest', now: 0 });
  t.same(none, { status: 'FAIL', comment: 'step s exited 2' }, 'no rules, Megatest area: only 0 passes');
  const gone = await end(path.join(dir, 'missing.log'), 0, 'trellis');
  t.equal(gone.status, 'FAIL');
  t.match(gone.comment, /^step s: cannot read log .*missing\.log/);
  const stop = new AbortController();
  stop.abort(new Error('killed on request'));
  await t.rejects(
    judgeStep({ step: 's', logfile: clean, code: 0, signal: null, rules: RULES, map: 'trellis', now: 0, abort: stop.signal }),
    /killed on request/,
  );
});

t.test('rules travel in a job spec as JSON and judge the same', async (t) => {
  const json = JSON.parse(JSON.stringify(serializeRuleSet(RULES)));
  const revived = reviveRuleSet(json);
  const text = 'error: one\nwarning: two\nVoltage: 2.5\n';
  t.same(
    judgeText(text, revived, 0).rules.map((r) => [r.count, r.status]),
    judgeText(text, RULES, 0).rules.map((r) => [r.count, r.status]),
  );
  t.throws(() => reviveRuleSet({ ...json, rules: [{ ...json.rules[0], kind: 'erorr' }] }), /unknown kind 'erorr'/);
  const spec = {
    version: 1,
    kind: 'remote',
    launchId: 'L',
    launcher: 'ssh',
    runArea: '/r',
    areaDir: '/a',
    runId: 1,
    testId: 2,
    target: 't',
    runname: 'n',
    testname: 'x',
    itempath: '',
    workDir: '/r/t/n/x',
    shell: '/bin/sh',
    who: '',
    force: false,
    deadtime: 60,
    env: {},
    exitCodes: 'megatest',
    def: {
      name: 'x',
      dir: '/a/tests/x',
      configFile: '/a/tests/x/testconfig',
      steps: [],
      skip: {},
      triggers: [],
      runtimelim: null,
      logRules: { build: json },
    },
  };
  const read = validateJobSpec(spec, '/r/t/n/x/.trellis-job.json');
  t.equal(read.exitCodes, 'megatest');
  const broken = {
    ...spec,
    def: {
      ...spec.def,
      logRules: { build: { ...json, rules: [{ ...json.rules[0], patterns: [{ text: '/(/', source: '(', flags: '', scan: true }] }] } },
    },
  };
  t.throws(() => validateJobSpec(broken, '/r/t/n/x/.trellis-job.json'), {
    code: 'BAD_JOB',
    message: /def\.logRules' for step "build" \(pattern \/\(\/ is not a regular expression/,
  });
  const old = { ...spec, exitCodes: undefined, def: { ...spec.def, logRules: undefined } };
  const older = validateJobSpec(old, '/r/t/n/x/.trellis-job.json');
  t.same([older.exitCodes, older.def.logRules], ['trellis', {}], 'a spec written before rules travelled: none, and Trellis’ map');
});
