/**
 * `{NAME}` / `{TEST:NAME}` against a run (runner/step-refs.ts): the plan's checks on real areas
 * (STEP_REF with file and line, before anything runs), and filling in a step from a real store:
 * parameters, the job's own values, a producer's values, and a value never recorded.
 */
import path from 'node:path';
import t, { type Test } from 'tap';
import { loadArea } from '../../src/config/area.js';
import { planRun } from '../../src/runner/run-plan.js';
import { checkStepRefs, resolveStep, type StepInputs } from '../../src/runner/step-refs.js';
import { TrellisError } from '../../src/util/errors.js';
import { writeArea } from '../helpers/area.js';
import { makeStore, NIGHTLY, nextOpId, regsFor, rowOf } from './store-fixture.js';

const PARAMS = '[fields]\nOS\nARCH\n\n[params]\nVERSION default=1.0\n';

let areas = 0;

/** Plans the area's tests and checks their references; the error's line, or 'ok'. */
function check(t: Test, tests: Record<string, string>, pattern = '%'): string {
  const dir = writeArea(path.join(t.testdir(), String(++areas)), { config: PARAMS, tests });
  const area = loadArea(dir, { env: {}, cpus: 2 });
  const rp = planRun(area, { target: 'linux/x86_64', runname: 'r', pattern }, {});
  try {
    checkStepRefs(
      rp.plan.tests,
      area.params.map((p) => p.name),
      area,
    );
    return 'ok';
  } catch (err) {
    if (!(err instanceof TrellisError)) throw err;
    t.equal(err.code, 'STEP_REF', err.toLine());
    return err.toLine().replaceAll(dir, 'AREA');
  }
}

t.test('the plan refuses what cannot work, naming file and line', async (t) => {
  t.equal(check(t, { a: '[ezsteps]\none echo {VERSION}\ntwo echo {made_by_one}\n' }), 'ok', 'a parameter, and a value of an earlier step');
  t.match(
    check(t, { a: '[ezsteps]\none echo {NOPE}\n' }),
    /^AREA\/tests\/a\/testconfig:2: step one of a uses \{NOPE\}, which is not a run parameter \(\[params\]: VERSION\) and no step before it can have recorded it; declare NOPE in \[params\]/,
  );
  t.match(check(t, { a: '[ezsteps]\none echo {a:x}\n' }), /uses \{a:x\}, its own test; write \{x\}/);
  t.match(check(t, { a: '[ezsteps]\none echo {zz:x}\n' }), /uses \{zz:x\}, but there is no test zz; known tests: a/);
  t.match(
    check(t, { a: '[ezsteps]\none true\n', b: '[ezsteps]\none echo {a:x}\n' }),
    /tests\/b\/testconfig:2: step one of b uses \{a:x\}, but b does not wait on a; add a to \[requirements\] waiton of b/,
  );
  t.match(
    check(t, { a: '[items]\nN 1 2\n[ezsteps]\none true\n', b: '[requirements]\nwaiton a\n[ezsteps]\none echo {a:x}\n' }),
    /uses \{a:x\}, but a has items and b does not wait on them item by item; give b items and \[requirements\] mode itemwait/,
  );
  t.equal(
    check(t, {
      a: '[items]\nN 1 2\n[ezsteps]\none true\n',
      b: '[requirements]\nwaiton a\nmode itemwait\n[items]\nN 1 2\n[ezsteps]\none echo {a:x}\n',
    }),
    'ok',
    'itemwait items read their own item',
  );
  t.match(
    check(t, { a: '[ezsteps]\none echo {b:y}\n', b: '[ezsteps]\none echo {a:x}\n' }),
    /^values handed on in a cycle: a uses \{b:y\} \(AREA\/tests\/a\/testconfig:2\), b uses \{a:x\} \(AREA\/tests\/b\/testconfig:2\); a test can use only the values of tests it waits on/,
  );
  t.match(
    check(t, { a: '[requirements]\nwaiton b\n[ezsteps]\none echo {b:y}\n', b: '[ezsteps]\none echo {a:x}\n' }),
    /^values handed on in a cycle: /,
    'one side waiting: still the cycle',
  );
  t.equal(check(t, { a: '[ezsteps]\none {manual} Check {VERSION}\ntwo echo {{LITERAL} ${HOME}\n' }), 'ok', 'option blocks and escapes');
  t.match(check(t, { a: '[setup]\nrunscript ./run.sh {NOPE}\n' }), /testconfig:2: step runscript of a uses \{NOPE\}/, 'the runscript too');
});

t.test("a later step's name one typo from a parameter is warned about, not refused", async (t) => {
  const dir = writeArea(path.join(t.testdir(), 'typo'), {
    config: '[fields]\nOS\n\n[params]\nCHANNEL default=beta\nVERSION default=1\n',
    tests: { a: '[ezsteps]\none echo {CHANNEL}\ntwo echo {CHANEL}\nthree echo {made_here} {version}\n' },
  });
  const area = loadArea(dir, { env: {}, cpus: 2 });
  const rp = planRun(area, { target: 'linux', runname: 'r', pattern: '%' }, {});
  const warnings = checkStepRefs(
    rp.plan.tests,
    area.params.map((p) => p.name),
    area,
  ).map((w) => w.replaceAll(dir, 'AREA'));
  t.same(warnings, [
    'AREA/tests/a/testconfig:3: step two of a uses {CHANEL}, which is no parameter: did you mean {CHANNEL}? (if an earlier step records CHANEL, ignore this)',
    'AREA/tests/a/testconfig:4: step three of a uses {version}, which is no parameter: did you mean {VERSION}? (if an earlier step records version, ignore this)',
  ]);
});

t.test('filling in a step from the store', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const rows = await store.registerTests(run.id, regsFor('build', 'deploy', 'multi', 'multi/x'));
  const data = (testId: number, name: string, value: string) => ({
    kind: 'data' as const,
    opId: nextOpId(),
    time: 1000,
    testId,
    name,
    value,
    expected: null,
    tol: null,
    units: null,
    status: 'n/a',
  });
  await store.write(run.id, [
    data(rowOf(rows, 'build').id, 'artifact', 'app 1.tgz'),
    data(rowOf(rows, 'deploy').id, 'target_host', 'h1'),
    data(rowOf(rows, 'multi/x').id, 'n', '7'),
    { kind: 'test', opId: nextOpId(), time: 1000, testId: rowOf(rows, 'build').id, set: { state: 'COMPLETED', status: 'PASS' } },
  ]);
  const deploy = rowOf(rows, 'deploy');
  const inputs: StepInputs = { params: { VERSION: '1.4', target_host: 'param wins' }, producers: { build: '', multi: 'x', gone: null } };
  let reads = 0;
  const source = {
    readOwn: () => store.getTestById(run.id, deploy.id),
    readTest: (name: string, itempath: string) => {
      reads++;
      return store.getTest(run.id, name, itempath);
    },
  };
  const cache = new Map();
  const step = (command: string) => ({ name: 'up', command, loc: { file: '/area/tests/deploy/testconfig', line: 4 } });
  // The testconfig reader has taken any option groups ({manual}) off the command already.
  t.same(await resolveStep(step('upload {build:artifact} v{VERSION} "{target_host}" {multi:n}'), inputs, source, cache), {
    command: `upload 'app 1.tgz' v1.4 "param wins" 7`,
  });
  await resolveStep(step('again {build:artifact}'), inputs, source, cache);
  t.equal(reads, 2, "a producer's row is read once per job");
  const own = { ...inputs, params: {} };
  t.same(await resolveStep(step('ssh {target_host}'), own, source, cache), { command: 'ssh h1' }, 'a value of the job itself');
  t.same(await resolveStep(step('plain $HOME'), inputs, source, cache), { command: 'plain $HOME' });
  const problems = await Promise.all(
    ['echo {build:version}', 'echo {missing}', 'echo {other:x}', 'echo {gone:x}'].map(async (c) => {
      const r = await resolveStep(step(c), own, source, cache);
      return 'problem' in r ? r.problem : 'ran';
    }),
  );
  t.match(problems, [
    /^step up \(\/area\/tests\/deploy\/testconfig:4\): \{build:version\}: build did not record a value version \(it ended COMPLETED\/PASS\)$/,
    /\{missing\} is not a run parameter, and no earlier step of this test recorded a value missing \(trellis set-value missing VALUE\)$/,
    /\{other:x\}: this test does not wait on other$/,
    /\{gone:x\}: gone has no item that this item maps to/,
  ]);
});
