import t from 'tap';
import type { TrellisError } from '../../src/util/errors.js';
import { makeStore, NIGHTLY, nextOpId, regsFor, setOp } from './store-fixture.js';

t.test('a locked run refuses every change unless forced', async (t) => {
  const { store, clock } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const [a] = await store.registerTests(run.id, regsFor('a'));
  clock.now = 1_700_000_000;
  await store.setRunState(run.id, 'locked', { who: 'ann@h1' });

  const refusals: Array<[string, () => Promise<unknown>]> = [
    ['write', () => store.write(run.id, [setOp(a!.id, 'COMPLETED', 'PASS', 5)])],
    ['reset', () => store.write(run.id, [{ kind: 'reset', opId: nextOpId(), testId: a!.id, time: 5 }])],
    ['registerTests', () => store.registerTests(run.id, regsFor('b'))],
    ['removeTests', () => store.removeTests(run.id, [a!.id])],
  ];
  for (const [what, call] of refusals) {
    const err = (await t.rejects(call(), { code: 'RUN_LOCKED', exitCode: 5 }, what)) as unknown as TrellisError;
    t.equal(
      err.toLine(),
      'run linux/x86_64/nightly is locked (by ann@h1 at 2023-11-14T22:13:20Z); ' +
        'unlock it with `trellis unlock -t linux/x86_64 -r nightly` or pass --force',
      `${what}: says who, when and what to do`,
    );
  }
  t.same(
    (await store.listTests(run.id)).map((r) => [r.testname, r.state]),
    [['a', 'NOT_STARTED']],
    'nothing changed',
  );
  t.same(
    (await store.events(run.id, 0)).filter((e) => e.kind === 'forced'),
    [],
  );

  await store.write(run.id, [setOp(a!.id, 'COMPLETED', 'PASS', 5)], { force: true, who: 'bob@h2' });
  t.match(await store.getTestById(run.id, a!.id), { state: 'COMPLETED', status: 'PASS' });
  t.match(
    await store.getRun(run.id),
    { state: 'locked', status: 'PASS', counts: { PASS: 1 }, lockedBy: 'ann@h1' },
    'the summary follows, the lock stays',
  );
  t.match(
    (await store.events(run.id, 0)).filter((e) => e.kind === 'forced'),
    [{ who: 'bob@h2', detail: 'write of 1 op(s) while locked by ann@h1 at 2023-11-14T22:13:20Z', time: 1_700_000_000 }],
  );

  await store.setRunState(run.id, 'done');
  await store.write(run.id, [setOp(a!.id, 'COMPLETED', 'FAIL', 6)]);
  t.match(await store.getRun(run.id), { state: 'done', status: 'FAIL' }, 'unlocked: writes need no force');
});
