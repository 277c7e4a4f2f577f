/**
 * waiton through the built CLI: a failed prerequisite marks its whole chain PREQ_FAIL at once
 * (while other tests still run), nothing of that chain is launched, and mode toplevel dependents
 * run after a failure all the same.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { makeArea } from '../helpers/area.js';
import { listTests, run, startRun, statesOf, workDir } from '../helpers/run-e2e.js';

t.test('a fails: b and c are PREQ_FAIL at once, c never launched, exit 1', async (t) => {
  const area = makeArea(t, {
    tests: {
      a: '[ezsteps]\nfail  echo failing && exit 1\n',
      b: '[requirements]\nwaiton a\n\n[ezsteps]\nrun  touch "$MT_RUN_AREA_HOME/b-ran"\n',
      c: '[requirements]\nwaiton b\n\n[ezsteps]\nrun  touch "$MT_RUN_AREA_HOME/c-ran"\n',
      // runs beside the chain until the test releases it
      slow: '[ezsteps]\nwait  while [ ! -e "$MT_RUN_AREA_HOME/release" ]; do sleep 0.05; done\n',
    },
  });
  const proc = startRun(t, area, 'r');
  // c is settled while slow still runs: PREQ_FAIL is immediate, not at the end of the run
  await proc.waitFor((out) => /PREQ_FAIL\s+c\b/.test(out) && /PREQ_FAIL\s+b\b/.test(out));
  const during = await listTests(t, area, 'r');
  t.match(statesOf(during), {
    a: 'COMPLETED/FAIL',
    b: 'NOT_STARTED/PREQ_FAIL',
    c: 'NOT_STARTED/PREQ_FAIL',
    slow: /^(LAUNCHED|RUNNING)\/n\/a$/,
  });
  fs.writeFileSync(path.join(area, 'release'), '');
  const res = await proc.done;
  t.equal(res.code, 1, 'exit 1', { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { a: 'COMPLETED/FAIL', b: 'NOT_STARTED/PREQ_FAIL', c: 'NOT_STARTED/PREQ_FAIL', slow: 'COMPLETED/PASS' });
  t.match(rows.get('b')!.comment, /waits on a/);
  t.match(rows.get('c')!.comment, /waits on b/);
  for (const name of ['b', 'c']) {
    t.notOk(fs.existsSync(path.join(area, `${name}-ran`)), `${name} never ran`);
    t.notOk(fs.existsSync(workDir(area, 'r', name)), `${name} has no work folder (no log)`);
  }
  t.ok(fs.existsSync(path.join(workDir(area, 'r', 'a'), 'fail.log')), 'a has its log');
  t.match(res.stdout, /3 selected tests or items did not pass/);
});

t.test('a chain that passes runs in order', async (t) => {
  const step = 'run  echo "$MT_TEST_NAME" >> "$MT_RUN_AREA_HOME/order"';
  const area = makeArea(t, {
    tests: {
      c: `[requirements]\nwaiton b\n\n[ezsteps]\n${step}\n`,
      b: `[requirements]\nwaiton a\n\n[ezsteps]\n${step}\n`,
      a: `[ezsteps]\n${step}\n`,
    },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  t.equal(fs.readFileSync(path.join(area, 'order'), 'utf8'), 'a\nb\nc\n');
});

t.test('mode toplevel: the dependent runs after its prerequisite failed', async (t) => {
  const area = makeArea(t, {
    tests: {
      a: '[ezsteps]\nfail  exit 1\n',
      report: '[requirements]\nwaiton a\nmode toplevel\n\n[ezsteps]\nrun  touch "$MT_RUN_AREA_HOME/report-ran"\n',
      strict: '[requirements]\nwaiton a\n\n[ezsteps]\nrun  true\n',
    },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 1, 'a failed, so the run fails');
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { a: 'COMPLETED/FAIL', report: 'COMPLETED/PASS', strict: 'NOT_STARTED/PREQ_FAIL' });
  t.ok(fs.existsSync(path.join(area, 'report-ran')));
});

t.test('mode toplevel still waits for its prerequisite to end', async (t) => {
  const area = makeArea(t, {
    tests: {
      a: '[ezsteps]\nslow  sleep 0.3 && touch "$MT_RUN_AREA_HOME/a-done" && exit 1\n',
      after: '[requirements]\nwaiton a\nmode toplevel\n\n[ezsteps]\ncheck  test -e "$MT_RUN_AREA_HOME/a-done"\n',
    },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 1);
  t.same(statesOf(await listTests(t, area, 'r')), { a: 'COMPLETED/FAIL', after: 'COMPLETED/PASS' });
});
