/**
 * A test's log rules read with its testconfig: STEP.logpro beside it, `[logpro] STEP` values (the
 * file wins, as in Megatest), `[logrules]` lines (keys may repeat, % patterns), and bad rules
 * reported with file:line while the testconfig is read.
 */
import path from 'node:path';
import t from 'tap';
import { loadArea, resolveTarget } from '../../src/config/area.js';
import { loadTest } from '../../src/config/testconfig.js';
import type { Area } from '../../src/config/types.js';
import { judgeText } from '../../src/logrules/index.js';

type Fixture = Parameters<typeof t.testdir>[0];
const ENV = { PATH: '/usr/bin:/bin' };

function areaWith(t: { testdir(files: Fixture): string }, files: Record<string, string>): Area {
  const dir = t.testdir({ 'trellis.config': '[fields]\nOS\n', 'runconfigs.config': '[linux]\n', tests: { a: files } });
  return loadArea(dir, { env: ENV, cpus: 2 });
}

function load(area: Area) {
  return loadTest(area, 'a', { env: ENV, target: resolveTarget(area, 'linux'), rget: () => undefined });
}

const STEPS = '[ezsteps]\ncompile make\nrun ./run.sh\nreport ./report.sh\n';

t.test('STEP.logpro, [logpro] STEP and [logrules] lines, per step', async (t) => {
  const area = areaWith(t, {
    testconfig: [
      STEPS, // lines 1-4, then a blank line 5
      '[logpro]',
      'compile (expect:error in "LogFileBody" = 0 "in testconfig, but the file wins" #/never/)',
      'run ;; logpro rules in the testconfig',
      '  (expect:required in "LogFileBody" > 0 "run finished" #/^finished/)',
      '',
      '[logrules]',
      'compile error /error/i',
      'compile ignore /no errors/',
      '% abort /Segmentation fault/',
      'report',
      '  required /^report written$/',
      '  warning /slow/',
    ].join('\n'),
    'compile.logpro': '(expect:warning in "LogFileBody" = 0 "warnings from the file" #/warn/)\n',
  });
  const def = load(area);
  t.same([...def.logRules.keys()], ['compile', 'run', 'report']);
  const compile = def.logRules.get('compile')!;
  t.same(
    compile.rules.map((r) => `${r.num} ${r.kind} ${r.description} @${path.basename(r.loc.file)}:${r.loc.line}`),
    [
      '0 warning warnings from the file @compile.logpro:1',
      '1 ignore ignore /no errors/ @testconfig:13',
      '2 error error /error/i @testconfig:12',
      '3 abort abort /Segmentation fault/ @testconfig:14',
    ],
    'the file, then [logrules] (ignore first), numbered after the file',
  );
  t.same(
    def.logRules.get('run')!.rules.map((r) => `${r.kind}:${r.loc.line}`),
    ['required:9', 'abort:14'],
    '[logpro] value lines keep their own line numbers',
  );
  t.same(
    def.logRules.get('report')!.rules.map((r) => `${r.kind}:${r.loc.line}`),
    ['abort:14', 'required:16', 'warning:17'],
    'in the order written',
  );
  t.equal(judgeText('no errors here\n', compile, 0).status, 'PASS');
  t.equal(judgeText('an Error\n', compile, 0).status, 'FAIL');
  t.equal(judgeText('warn\n', compile, 0).status, 'WARN');
});

t.test('a test without rules has none', async (t) => {
  t.equal(load(areaWith(t, { testconfig: STEPS })).logRules.size, 0);
});

t.test('bad rules stop the testconfig with file:line', async (t) => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    [
      'a bad STEP.logpro',
      { 'compile.logpro': '\n(expect:error in "LogFileBody" = 0 "x" #/(/)\n' },
      /compile\.logpro:2: \/\(\/ is not a valid regular expression/,
    ],
    [
      'unbalanced STEP.logpro',
      { 'run.logpro': '(expect:error in "LogFileBody" = 0 "x" #/x/' },
      /run\.logpro:1: '\(' opened here is never closed/,
    ],
    [
      'a bad [logpro] value',
      { testconfig: `${STEPS}\n[logpro]\nrun\n  ;; fine\n  (expect:oops in "LogFileBody" = 0 "x" #/x/)\n` },
      /testconfig:9: \(expect:oops …\) is not a logpro rule/,
    ],
    [
      'a bad [logrules] line',
      { testconfig: `${STEPS}\n[logrules]\nrun error /x/\nrun errr /y/\n` },
      /testconfig:8: \[logrules\] 'errr' is not a rule kind/,
    ],
    [
      'a [logrules] step that does not exist',
      { testconfig: `${STEPS}\n[logrules]\ncompil error /x/\n` },
      /testconfig:7: \[logrules\] compil: there is no ezstep named 'compil' \(steps: compile, run, report\)/,
    ],
    [
      'a [logrules] step without a rule',
      { testconfig: `${STEPS}\n[logrules]\nrun\n` },
      /testconfig:7: \[logrules\] run: no rule after the step name/,
    ],
  ];
  for (const [name, files, message] of cases) {
    const area = areaWith(t, { testconfig: STEPS, ...files });
    t.throws(() => load(area), { code: /^CONFIG_/, message }, name);
  }
});

t.test('[logpro] for a step that does not exist is ignored, as Megatest does', async (t) => {
  const def = load(areaWith(t, { testconfig: `${STEPS}\n[logpro]\ngone (expect:error in "LogFileBody" = 0 "x" #/x/)\n` }));
  t.equal(def.logRules.size, 0);
});
