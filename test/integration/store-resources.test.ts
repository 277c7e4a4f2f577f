/**
 * Shared resources' claims in a real main.db: shares up to the count and no further, all of a
 * test's resources or none, a claim asked again, release, dead holders freed (a dead pid on the
 * store's host, a stale renewal elsewhere, a renewal by the heartbeat keeping one), the run log's
 * events, and the change feed's `resourcesSeq` — through the direct store and, against a real
 * server on port 0, through the remote store, where a release wakes a waiting long poll.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';
import { RemoteStore } from '../../src/client/remote-store.js';
import type { ServerConfig } from '../../src/config/types.js';
import type { ResourceHolder, ResourceRequest } from '../../src/model/resources.js';
import { startServer } from '../../src/server/server.js';
import type { Store } from '../../src/store/store.js';
import { shortHostname } from '../../src/util/host.js';
import { processStartTime } from '../../src/util/process-info.js';
import { HOST, makeStore, NIGHTLY, regsFor, rowOf } from '../unit/store-fixture.js';

const LIVE = { deadtime: 60 };

/** A run with tests a..d and a runner agent that is this process. */
async function setUp(store: Store, runname = 'nightly', host = HOST, pid = process.pid) {
  const run = await store.ensureRun({ ...NIGHTLY, runname });
  const rows = await store.registerTests(run.id, regsFor('a', 'b', 'c', 'd'));
  const agent = await store.registerAgent(run.id, { kind: 'runner', host, pid, procStart: processStartTime(pid) });
  const holder = (name: string): ResourceHolder => {
    const row = rowOf(rows, name);
    return {
      runId: run.id,
      testId: row.id,
      target: run.target,
      runname: run.runname,
      testname: row.testname,
      itempath: '',
      agentId: agent.id,
      host,
      pid,
      procStart: processStartTime(pid),
    };
  };
  return { run, rows, agent, holder };
}

const ask = (holder: ResourceHolder, ...wants: Array<[string, number]>): ResourceRequest => ({
  holder,
  wants: wants.map(([name, count]) => ({ name, count })),
});

t.test('shares up to the count; all of a test resources or none; asked again; given back', async (t) => {
  const { store, clock } = makeStore(t);
  const { run, agent, holder } = await setUp(store);
  const live = () => ({ now: clock.now, ...LIVE });

  t.ok((await store.claimResources(ask(holder('a'), ['db', 2]), live())).granted, 'a: first share of db');
  t.ok((await store.claimResources(ask(holder('b'), ['db', 2]), live())).granted, 'b: second share of db');
  const c = await store.claimResources(ask(holder('c'), ['db', 2], ['deploy', 1]), live());
  t.notOk(c.granted, 'c: no share of db left');
  t.same(
    c.blockers.map((b) => b.testname),
    ['a', 'b'],
    'the answer names who holds db',
  );
  t.ok((await store.claimResources(ask(holder('a'), ['db', 2]), live())).granted, 'a asking again is granted again');
  // c waits for db and deploy: it holds neither, so d gets deploy.
  t.ok((await store.claimResources(ask(holder('d'), ['deploy', 1]), live())).granted, 'd: deploy was not taken by the waiting c');

  let claims = await store.listResourceClaims(live());
  t.same(
    claims.map((x) => `${x.resource}:${x.testname}:${x.state}`),
    ['db:a:held', 'db:b:held', 'db:c:waiting', 'deploy:d:held', 'deploy:c:waiting'],
    'holders first, then waiters, per resource',
  );

  const given = await store.releaseResources({ runId: run.id, agentId: agent.id, testId: holder('a').testId });
  t.same(
    given.map((x) => x.resource),
    ['db'],
  );
  t.notOk((await store.claimResources(ask(holder('c'), ['db', 2], ['deploy', 1]), live())).granted, 'c still waits: deploy is held');
  await store.releaseResources({ runId: run.id, agentId: agent.id, testId: holder('d').testId });
  t.ok((await store.claimResources(ask(holder('c'), ['db', 2], ['deploy', 1]), live())).granted, 'c takes both at once');
  claims = await store.listResourceClaims(live());
  t.same(
    claims.map((x) => `${x.resource}:${x.testname}:${x.state}`),
    ['db:b:held', 'db:c:held', 'deploy:c:held'],
  );

  const events = (await store.events(run.id, 0)).filter((e) => e.kind === 'resource').map((e) => e.detail);
  t.ok(
    events.some((e) =>
      /^waits for resource db, deploy: db held by a of run linux\/x86_64\/nightly \(runner pid \d+ on host here\)/.test(e),
    ),
    `the run log says what c waited for: ${events.join(' | ')}`,
  );
  t.ok(events.includes('gave back resource db'), 'and what was given back');
  t.ok(events.includes('took resource db, deploy'), 'and when c took its shares');

  await store.releaseResources({ runId: run.id, agentId: agent.id });
  t.same(await store.listResourceClaims(live()), [], 'the runner gives back everything at its end');
});

t.test('a dead holder loses its share: dead pid on this host, stale renewal on another; the heartbeat renews', async (t) => {
  const { store, clock } = makeStore(t);
  const live = () => ({ now: clock.now, ...LIVE });
  // A holder on this host whose process is killed with -9.
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.teardown(() => void child.kill('SIGKILL'));
  await once(child, 'spawn');
  const dying = await setUp(store, 'r1', HOST, child.pid!);
  const waiter = await setUp(store, 'r2');
  t.ok((await store.claimResources(ask(dying.holder('a'), ['deploy', 1]), live())).granted);
  t.notOk((await store.claimResources(ask(waiter.holder('a'), ['deploy', 1]), live())).granted, 'held while its runner lives');
  child.kill('SIGKILL');
  await once(child, 'exit');
  t.ok((await store.claimResources(ask(waiter.holder('a'), ['deploy', 1]), live())).granted, 'its share is freed once its pid is gone');
  const freed = (await store.events(waiter.run.id, 0)).filter((e) => /^freed resource deploy of a of run linux\/x86_64\/r1/.test(e.detail));
  t.equal(freed.length, 1, "the waiter's run log says whose share it freed");

  // A holder on another host: alive while its renewal is fresher than the deadtime.
  const far = await setUp(store, 'r3', 'elsewhere', 4242);
  await store.releaseResources({ runId: waiter.run.id, agentId: waiter.agent.id });
  t.ok((await store.claimResources(ask(far.holder('a'), ['db', 1]), live())).granted);
  clock.now += 50;
  await store.heartbeat(far.run.id, far.agent.id, clock.now);
  clock.now += 50;
  t.notOk((await store.claimResources(ask(waiter.holder('b'), ['db', 1]), live())).granted, 'renewed 50 s ago: still held');
  clock.now += 11;
  t.ok((await store.claimResources(ask(waiter.holder('b'), ['db', 1]), live())).granted, 'no renewal for 61 s: freed');
});

t.test('the change feed follows the claims only when asked to', async (t) => {
  const { store, clock } = makeStore(t);
  const { run, agent, holder } = await setUp(store);
  const live = () => ({ now: clock.now, ...LIVE });
  const answer = await store.claimResources(ask(holder('a'), ['deploy', 1]), live());
  const cursor = { runsSeq: answer.runsSeq, runs: {}, resourcesSeq: answer.resourcesSeq };
  let batch = await store.changes(cursor);
  t.equal(batch.resourcesChanged, false, 'nothing since the answer');
  t.notOk((await store.claimResources(ask(holder('b'), ['deploy', 1]), live())).granted);
  batch = await store.changes(cursor);
  t.equal(batch.resourcesChanged, true, 'a wait that begins is a change');
  const after = batch.cursor;
  t.notOk((await store.claimResources(ask(holder('b'), ['deploy', 1]), live())).granted);
  await store.heartbeat(run.id, agent.id, clock.now + 1);
  t.equal((await store.changes(after)).resourcesChanged, false, 'a wait asked again, or a renewal, is not');
  await store.releaseResources({ runId: run.id, agentId: agent.id, testId: holder('a').testId });
  t.equal((await store.changes(after)).resourcesChanged, true, 'a share given back is');
  t.equal(
    (await store.changes({ runsSeq: after.runsSeq, runs: {} })).resourcesChanged,
    undefined,
    'a cursor without resourcesSeq never hears of them',
  );
});

t.test('through the server: the same answers, and a release wakes a waiting long poll', async (t) => {
  const runArea = t.testdir();
  const server = await startServer({
    runArea,
    invocation: 'runner',
    config: {
      idleTimeout: 600,
      portRange: null,
      advertise: undefined,
      bind: '127.0.0.1',
      logLevel: 'info',
      logMaxBytes: 1 << 20,
      logFiles: 1,
    } as ServerConfig,
    host: shortHostname(),
    now: () => Date.now() / 1000,
    leaseWaitMs: 5000,
  });
  t.teardown(() => server.stop('test over'));
  const remote = new RemoteStore({
    runArea,
    areaDir: undefined,
    invocation: 'runner',
    host: shortHostname(),
    now: () => Date.now() / 1000,
    debug: () => undefined,
    autoStart: false,
    env: {},
    trellisJs: '',
  });
  t.teardown(() => remote.close());
  const { run, agent, holder } = await setUp(remote, 'nightly', shortHostname());
  const live = () => ({ now: Date.now() / 1000, ...LIVE });
  t.ok((await remote.claimResources(ask(holder('a'), ['deploy', 1]), live())).granted);
  const refused = await remote.claimResources(ask(holder('b'), ['deploy', 1]), live());
  t.notOk(refused.granted);
  t.equal(refused.blockers[0]?.testname, 'a');
  const waiting = remote.waitForChanges({ runsSeq: refused.runsSeq, runs: {}, resourcesSeq: refused.resourcesSeq }, 20_000);
  await remote.releaseResources({ runId: run.id, agentId: agent.id, testId: holder('a').testId });
  const woken = await waiting;
  t.equal(woken.resourcesChanged, true, 'the long poll answers with the release');
  t.ok((await remote.claimResources(ask(holder('b'), ['deploy', 1]), live())).granted, 'and the waiter gets the share');
  await t.rejects(
    remote.claimResources(ask(holder('c'), ['bad name!', 1]), live()),
    { code: 'BAD_VALUE', message: /request\.wants\[0\]\.name 'bad name!' is not letters/ },
    'a resource name the rules refuse, before the store sees it',
  );
});
