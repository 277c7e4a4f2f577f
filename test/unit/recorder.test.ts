/**
 * The runner's Recorder over a real direct store: ops taken out for another request to carry
 * (takeOps, what the agents launcher's enqueueJobs carries) are only the named tests', in order,
 * after any batch in flight that writes those tests; the rest is written as usual; and settled()
 * counts carried ops as on their way until the carrier is answered.
 */
import t from 'tap';
import { Recorder } from '../../src/runner/recorder.js';
import type { Store } from '../../src/store/store.js';
import { makeStore, NIGHTLY, regsFor, rowOf } from './store-fixture.js';

async function setUp(t: Parameters<typeof makeStore>[0], store?: (real: Store) => Store) {
  const fx = makeStore(t);
  const run = await fx.store.ensureRun(NIGHTLY);
  const rows = await fx.store.registerTests(run.id, regsFor('a', 'b'));
  const errors: unknown[] = [];
  const recorder = new Recorder({
    store: store ? store(fx.store) : fx.store,
    runId: run.id,
    prefix: 'r1',
    now: () => fx.clock.now,
    options: { who: 'tester' },
    onError: (err) => errors.push(err),
  });
  return { ...fx, run, a: rowOf(rows, 'a').id, b: rowOf(rows, 'b').id, recorder, errors };
}

/** Resolves after a few turns of the event loop: long enough for a direct store's batch. */
const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

t.test("takeOps: only those tests' ops, in order; the others are written as usual", async (t) => {
  const { store, run, a, b, recorder, errors } = await setUp(t);
  recorder.setTest(a, { state: 'LAUNCHED', launchId: 'L1' });
  recorder.setTest(b, { state: 'RUNNING' });
  recorder.setTest(a, { comment: 'second' });
  const taken = await recorder.takeOps(new Set([a]));
  t.ok(taken, 'there is something to carry');
  t.same(
    taken!.writes.ops.map((op) => (op.kind === 'test' ? op.set : undefined)),
    [{ state: 'LAUNCHED', launchId: 'L1' }, { comment: 'second' }],
    "a's two ops, in the order they were queued",
  );
  t.same(taken!.writes.options, { who: 'tester' }, "the recorder's write options");
  t.equal(taken!.writes.runId, run.id);
  await recorder.flush();
  t.match(await store.getTestById(run.id, b), { state: 'RUNNING' }, "b's op went on its own");
  t.match(await store.getTestById(run.id, a), { state: 'NOT_STARTED' }, "a's did not: they are the carrier's");
  // The carrier sends them (here: the store itself), and says so.
  await store.write(taken!.writes.runId, taken!.writes.ops, taken!.writes.options);
  taken!.settle();
  t.match(await store.getTestById(run.id, a), { state: 'LAUNCHED', comment: 'second' });
  t.equal(await recorder.takeOps(new Set([a])), undefined, 'nothing left of a');
  t.same(errors, []);
});

t.test('settled() waits for carried ops until the carrier is answered', async (t) => {
  const { a, b, recorder } = await setUp(t);
  recorder.setTest(a, { state: 'LAUNCHED' });
  const taken = await recorder.takeOps(new Set([a]));
  recorder.setTest(b, { state: 'RUNNING' });
  let done = false;
  const settled = recorder.settled().then(() => (done = true));
  await recorder.flush();
  await turns();
  t.equal(done, false, "b's batch is in, a's launch is still on its way");
  taken!.settle();
  await settled;
  t.equal(done, true, 'settled once the carrier was answered');
  t.equal(await recorder.settled().then(() => 'yes'), 'yes', 'and stays so');
});

t.test('takeOps waits for a batch in flight that writes those tests', async (t) => {
  // The real store underneath; its writes wait for the test's word, so a batch stays in flight.
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const { store, run, a, b, recorder } = await setUp(t, (real) =>
    Object.assign(Object.create(real) as Store, {
      write: async (...args: Parameters<Store['write']>) => {
        await gate;
        return real.write(...args);
      },
    }),
  );
  recorder.setTest(a, { state: 'LAUNCHED', comment: 'first' });
  const flushed = recorder.flush();
  await turns();
  // a's first op is in flight now; its next ones must not overtake it.
  recorder.setTest(a, { comment: 'second' });
  recorder.setTest(b, { comment: 'b' });
  let taken: Awaited<ReturnType<Recorder['takeOps']>> | 'waiting' = 'waiting';
  const taking = recorder.takeOps(new Set([b])).then(async (forB) => {
    t.ok(forB, "b's op is not in the batch in flight: taken at once");
    forB!.settle();
    taken = await recorder.takeOps(new Set([a]));
  });
  await turns();
  t.equal(taken, 'waiting', "a's ops wait for the batch in flight");
  t.match(await store.getTestById(run.id, a), { state: 'NOT_STARTED' }, 'which is not in yet');
  release();
  await taking;
  await flushed;
  await recorder.flush();
  // The batch's return sends what waited for it at once: the recorder sent a's next op itself.
  t.equal(taken, undefined, 'nothing left to carry');
  // Had `second` landed before `first`, the row would say `first`.
  t.match(await store.getTestById(run.id, a), { state: 'LAUNCHED', comment: 'second' }, 'first, then second');
});

t.test('settled(true) sends a gathering batch at the end of the turn; what the same turn queues joins it', async (t) => {
  const fx = makeStore(t);
  const run = await fx.store.ensureRun(NIGHTLY);
  const rows = await fx.store.registerTests(run.id, regsFor('a', 'b'));
  const [a, b] = [rowOf(rows, 'a').id, rowOf(rows, 'b').id];
  const batches: number[] = [];
  const counting: Store = Object.create(fx.store, {
    write: {
      value: (runId: number, ops: unknown[], opts: unknown) => {
        batches.push(ops.length);
        return fx.store.write(runId, ops as never, opts as never);
      },
    },
  });
  // A gathering delay no test outlives (about 23 days): only hurrying sends the batch.
  const recorder = new Recorder({
    store: counting,
    runId: run.id,
    prefix: 'r1',
    now: () => fx.clock.now,
    delayMs: 2_000_000_000,
    onError: t.error,
  });
  recorder.setTest(a, { state: 'LAUNCHED' });
  const landed = recorder.settled(true);
  recorder.setTest(b, { state: 'LAUNCHED' });
  await landed;
  t.match(await fx.store.getTestById(run.id, a), { state: 'LAUNCHED' }, 'in the store once settled');
  await recorder.settled(true);
  t.same(batches, [2], "one batch, with b's op queued in the same turn");
  t.match(await fx.store.getTestById(run.id, b), { state: 'LAUNCHED' });
});
