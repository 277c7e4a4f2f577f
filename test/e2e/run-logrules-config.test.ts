/**
 * Log rules through the built CLI, as far as this part goes: `trellis run` reads every test's rules
 * (STEP.logpro, [logpro], [logrules]) before anything runs, so a bad rule file is one line naming
 * file:line (exit 3) and no test starts; good rules let the run go on.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ExitCode } from '../../src/util/errors.js';
import { makeArea } from '../helpers/area.js';
import { assertUserError, dump } from '../helpers/e2e.js';
import { run } from '../helpers/run-e2e.js';

const STEP = '[ezsteps]\ncompile  touch "$MT_RUN_AREA_HOME/ran-$MT_TEST_NAME"; echo compiling\n';

t.test('bad rules stop the run before any test starts, naming file:line', async (t) => {
  const cases: Array<[string, Record<string, string>, Record<string, string>, RegExp[]]> = [
    [
      'unbalanced parentheses in STEP.logpro',
      { b: STEP },
      { 'tests/b/compile.logpro': ';; rules\n(expect:error in "LogFileBody" = 0 "err" #/error/\n' },
      [/tests\/b\/compile\.logpro:2: '\(' opened here is never closed/],
    ],
    [
      'a bad regex in STEP.logpro',
      { b: STEP },
      { 'tests/b/compile.logpro': '(expect:error in "LogFileBody" = 0 "err" #/[a-/)\n' },
      [/compile\.logpro:1: \/\[a-\/ is not a valid regular expression/],
    ],
    [
      'an unknown expect kind in [logpro]',
      { b: `${STEP}\n[logpro]\ncompile\n  (expect:fatal in "LogFileBody" = 0 "x" #/x/)\n` },
      {},
      [/tests\/b\/testconfig:6: \(expect:fatal …\) is not a logpro rule/],
    ],
    [
      'a bad comparator in [logrules]',
      { b: `${STEP}\n[logrules]\ncompile required /done/ => 1\n` },
      {},
      [/tests\/b\/testconfig:5: \[logrules\] required: '=> 1' is not COMPARATOR COUNT/],
    ],
    [
      'Scheme code in STEP.logpro',
      { b: STEP },
      { 'tests/b/compile.logpro': '(for-each (lambda (s) (expect:required in logfile > 0 s (regexp s))) (list "a"))\n' },
      [/compile\.logpro:1: \(for-each …\) is Scheme code/],
    ],
  ];
  for (const [name, tests, files, patterns] of cases) {
    const area = makeArea(t, { tests: { a: STEP, ...tests }, files });
    const res = await run(t, area, 'r');
    assertUserError(t, res, ExitCode.config, ...patterns);
    t.notOk(fs.existsSync(path.join(area, 'ran-a')), `${name}: no test started`);
  }
});

t.test('good rules of every form are read and the run goes on', async (t) => {
  const area = makeArea(t, {
    tests: {
      a: `${STEP}\n[logpro]\ncompile (expect:required in "LogFileBody" > 0 "compiling" #/compiling/)\n\n[logrules]\ncompile error /error/i\n% warning /warn/\n`,
    },
    files: { 'tests/a/compile.logpro': '(expect:ignore in logfile >= 0 "noise" #/noise/)\n' },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 0, 'exit 0', { output: dump(res) });
  t.ok(fs.existsSync(path.join(area, 'ran-a')));
});
