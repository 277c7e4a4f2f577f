/**
 * Manual steps and resume through the built CLI, a few runs with many checks each (e2e starts are
 * costly): a test parks at its {manual} step without a slot, shows its prompt, is refused to the
 * wrong user, the wrong step and a test that does not wait, and goes on at once once approved;
 * a sign-off given while no runner lives is kept for the next run; a reject fails it; --resume
 * reruns from the failed step, moved back over a {restartable=no} step.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { makeArea } from '../helpers/area.js';
import { assertUserError } from '../helpers/e2e.js';
import { listTests, readLines, run, startRun, statesOf, TARGET, trellis } from '../helpers/run-e2e.js';

const RAN = (name: string) => `echo ${name} >> "$MT_RUN_AREA_HOME/ran"`;
const TESTS = {
  rel: `[ezsteps]\nbuild ${RAN('build')}\nsign-off {manual} Check the release notes, then approve\ndeploy ${RAN('deploy')}\n`,
  after: `[requirements]\nwaiton rel\n[ezsteps]\nx ${RAN('after')}\n`,
  free: `[ezsteps]\nx ${RAN('free')}\n`,
};
const CONFIG = (approvers: string) => `[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs 1\n${approvers}`;
const me = os.userInfo().username;

t.test('a parked test holds no slot, shows its prompt, refuses bad sign-offs, and goes on once approved', async (t) => {
  const area = makeArea(t, { config: CONFIG('approvers nobody-else\n'), tests: TESTS });
  const ran = () => readLines(path.join(area, 'ran'));
  // One slot: `free` can only run if the parked `rel` gave its slot back.
  const runner = startRun(t, area, 'r');
  await runner.waitFor((out) => /rel: WAITING for a sign-off/.test(out) && ran().includes('free'));
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { after: 'NOT_STARTED/n/a', free: 'COMPLETED/PASS', rel: 'WAITING/MANUAL' }, 'after stays queued');
  t.equal(rows.get('rel')?.comment, 'sign-off due at step sign-off: Check the release notes, then approve');
  const junit = await trellis(t, area, ['report', 'junit', '-t', TARGET, '-r', 'r']);
  t.match(junit.stdout, /<skipped message="waiting for a sign-off: step sign-off: Check the release notes, then approve"/);

  assertUserError(t, await trellis(t, area, ['approve', '-t', TARGET, '-r', 'r', 'rel']), 5, /user \S+ may not sign off/, /approvers/);
  fs.writeFileSync(path.join(area, 'trellis.config'), `${CONFIG(`approvers ${me} other\n`)}\n[server]\nbind 127.0.0.1\n`);
  assertUserError(
    t,
    await trellis(t, area, ['approve', '-t', TARGET, '-r', 'r', 'free']),
    5,
    /free is not waiting for a sign-off \(it is COMPLETED\/PASS\)/,
  );
  assertUserError(
    t,
    await trellis(t, area, ['approve', '-t', TARGET, '-r', 'r', 'rel', 'deploy']),
    4,
    /rel waits at step sign-off, not at step deploy/,
  );
  const ok = await trellis(t, area, ['approve', '-t', TARGET, '-r', 'r', 'rel', 'sign-off', '-m', 'notes read']);
  t.equal(ok.code, 0, ok.stderr);
  const end = await runner.done;
  t.equal(end.code, 0, end.stdout + end.stderr);
  t.same(ran().sort(), ['after', 'build', 'deploy', 'free'], 'deploy and what waited ran after the approval; build ran once');
  t.same(statesOf(await listTests(t, area, 'r')), { after: 'COMPLETED/PASS', free: 'COMPLETED/PASS', rel: 'COMPLETED/PASS' });
  const log = await trellis(t, area, ['log', '-t', TARGET, '-r', 'r']);
  t.match(log.stdout, new RegExp(`approve +${me}@\\S+ +rel step sign-off: notes read`), 'who and when in the run log');
});

t.test('with no runner the sign-off waits for the next run; a reject fails the test and its dependents', async (t) => {
  const area = makeArea(t, { config: CONFIG(''), tests: TESTS });
  const ran = () => readLines(path.join(area, 'ran'));
  const first = startRun(t, area, 'r', ['-p', 'rel,after']);
  await first.waitFor((out) => /rel: WAITING/.test(out));
  first.child.kill('SIGINT');
  t.equal((await first.done).code, 130);
  t.same(statesOf(await listTests(t, area, 'r')), { after: 'NOT_STARTED/n/a', rel: 'WAITING/MANUAL' }, 'Ctrl-C leaves it parked');
  t.equal((await trellis(t, area, ['approve', '-t', TARGET, '-r', 'r', 'rel'])).code, 0);
  t.equal((await run(t, area, 'r', ['-p', 'rel,after'])).code, 0);
  t.same(ran(), ['build', 'deploy', 'after'], 'the next run went on from deploy');

  // A reject, with a control character in its comment: stored as given, printed escaped.
  const second = startRun(t, area, 'r2', ['-p', 'rel,after']);
  await second.waitFor((out) => /rel: WAITING/.test(out));
  t.equal((await trellis(t, area, ['approve', '-t', TARGET, '-r', 'r2', 'rel', '--reject', '-m', 'no\u001b[31m notes'])).code, 0);
  const end = await second.done;
  t.equal(end.code, 1);
  const rows = await listTests(t, area, 'r2');
  t.same(statesOf(rows), { after: 'NOT_STARTED/PREQ_FAIL', rel: 'COMPLETED/FAIL' });
  t.match(rows.get('rel')?.comment, /rejected by .*: no\u001b\[31m notes/, 'stored as given');
  const shown = await trellis(t, area, ['list', 'tests', '-t', TARGET, '-r', 'r2']);
  t.match(shown.stdout, /no\\x1b\[31m notes/, 'printed escaped');
  t.notMatch(shown.stdout, /\u001b/);
});

t.test('--resume reruns from the failed step, moved back over {restartable=no}; --from-step checks its name', async (t) => {
  const flag = (name: string) => `test -e "$MT_RUN_AREA_HOME/${name}.ok"`;
  const area = makeArea(t, {
    config: CONFIG(''),
    tests: {
      a: `[ezsteps]\none ${RAN('a1')}\ntwo ${RAN('a2')} && ${flag('a')}\nthree ${RAN('a3')}\n`,
      b: `[ezsteps]\none ${RAN('b1')}\nvm {restartable=no} ${RAN('b2')} && ${flag('b')}\nthree ${RAN('b3')}\n`,
    },
  });
  t.equal((await run(t, area, 'r')).code, 1);
  fs.writeFileSync(path.join(area, 'a.ok'), '');
  fs.writeFileSync(path.join(area, 'b.ok'), '');
  assertUserError(t, await run(t, area, 'r', ['--from-step', 'nosuch']), 4, /--from-step nosuch: no selected test has a step of that name/);
  assertUserError(t, await run(t, area, 'r', ['--resume', '--preclean']), 2, /--preclean would remove them/);
  fs.writeFileSync(path.join(area, 'ran'), '');
  const res = await run(t, area, 'r', ['--resume']);
  t.equal(res.code, 0, res.stdout + res.stderr);
  t.same(ran(area).sort(), ['a2', 'a3', 'b1', 'b2', 'b3'], 'a from its failed step; b from the beginning (vm is not restartable)');
  const shown = await trellis(t, area, ['show', '-t', TARGET, '-r', 'r', 'a']);
  t.match(shown.stdout, /one +COMPLETED +PASS/, "the kept step's row stays");
  const log = await trellis(t, area, ['log', '-t', TARGET, '-r', 'r']);
  t.match(log.stdout, /resume .* a kept steps one \(PASS\); runs again from step two/);
  t.notMatch(log.stdout, /resume .* b /, 'b starts again from the beginning: a plain rerun');
});

function ran(area: string): string[] {
  return readLines(path.join(area, 'ran'));
}
