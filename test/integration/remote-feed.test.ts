/**
 * The change feed through the remote store, against real servers on port 0 in this process:
 * changes and waitForChanges (at once, woken by a write, quiet after waitMs, ended by close()),
 * and onConnection telling 'lost' when the server went away and 'restored' when another answers.
 */
import t from 'tap';
import { RemoteStore, type ConnectionEvent, type RemoteStoreOptions } from '../../src/client/remote-store.js';
import type { ServerConfig } from '../../src/config/types.js';
import type { FeedCursor } from '../../src/model/records.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { shortHostname } from '../../src/util/host.js';

const HOST = shortHostname();
const now = () => Date.now() / 1000;
const SPEC = { target: 'linux/x86_64', keys: { OS: 'linux', ARCH: 'x86_64' }, runname: 'nightly' };
const CONFIG: ServerConfig = {
  idleTimeout: 600,
  portRange: null,
  advertise: undefined,
  bind: '127.0.0.1',
  logLevel: 'info',
  logMaxBytes: 10 * 1024 * 1024,
  logFiles: 5,
};

interface Ctx {
  testdir(): string;
  teardown(fn: () => unknown): void;
}

/** A server in this process on `runArea`, stopped at teardown if still running. */
async function serve(t: Ctx, runArea: string): Promise<RunningServer> {
  const server = await startServer({ runArea, invocation: 'dboard', config: CONFIG, host: HOST, now, leaseWaitMs: 5000 });
  t.teardown(() => server.stop('test over'));
  return server;
}

/** A remote store that finds servers but starts none. */
function remoteStore(runArea: string, over: Partial<RemoteStoreOptions> = {}): RemoteStore {
  return new RemoteStore({
    runArea,
    areaDir: undefined,
    invocation: 'dboard',
    host: HOST,
    now,
    debug: () => undefined,
    autoStart: false,
    env: {},
    trellisJs: '',
    ...over,
  });
}

const quiet = (cursor: FeedCursor) => ({ cursor, runs: [], removedRuns: [], cells: [] });

t.test('waitForChanges: at once with changes, woken by a write, the quiet batch after waitMs', async (t) => {
  const runArea = t.testdir();
  await serve(t, runArea);
  const remote = remoteStore(runArea);
  const run = await remote.ensureRun(SPEC);
  const [a] = await remote.registerTests(run.id, [{ testname: 'a', itempath: '', priority: 0, rundir: '/w/a' }]);

  const first = await remote.waitForChanges({ runsSeq: 0, runs: { [run.id]: 0 } }, 20_000);
  t.match(
    first,
    { runs: [{ id: run.id }], cells: [{ runId: run.id, full: true, cells: [{ id: a!.id, state: 'NOT_STARTED' }] }] },
    'at once: everything',
  );
  t.same(await remote.changes({ runsSeq: 0, runs: { [run.id]: 0 } }), first, 'the plain method agrees');

  const t0 = Date.now();
  const pending = remote.waitForChanges(first.cursor, 20_000);
  await remote.areaId();
  await remote.write(run.id, [{ kind: 'test', opId: 'r1', testId: a!.id, set: { state: 'RUNNING' }, time: now() }]);
  const woken = await pending;
  t.ok(Date.now() - t0 < 5000, `woken by the write (${Date.now() - t0} ms)`);
  t.match(woken.cells, [{ runId: run.id, full: false, cells: [{ id: a!.id, state: 'RUNNING' }] }]);

  const t1 = Date.now();
  t.same(await remote.waitForChanges(woken.cursor, 300), quiet(woken.cursor), 'nothing changed: the quiet batch');
  t.ok(Date.now() - t1 >= 290, 'after waitMs');
});

t.test("onConnection: 'lost' when the server goes, 'restored' when another answers", async (t) => {
  const runArea = t.testdir();
  const first = await serve(t, runArea);
  const events: ConnectionEvent[] = [];
  const remote = remoteStore(runArea, { onConnection: (e) => events.push(e) });
  const run = await remote.ensureRun(SPEC);
  const { cursor } = await remote.changes({ runsSeq: 0, runs: { [run.id]: 0 } });
  t.same(events, [], 'nothing to tell while all is well');

  const waiting = remote.waitForChanges(cursor, 20_000);
  await remote.areaId();
  const t0 = Date.now();
  await first.stop('test stops it');
  t.same(await waiting, quiet(cursor), 'a waiting request is answered when its server stops');
  t.ok(Date.now() - t0 < 3000, `at once (${Date.now() - t0} ms)`);
  t.same(events, [], 'that is not a lost connection');

  await t.rejects(remote.waitForChanges(cursor, 1000), { code: 'NO_SERVER' }, 'no server to fail over to (this client starts none)');
  t.same(
    events.map((e) => e.state),
    ['lost'],
    "told 'lost' once",
  );
  t.match(events[0]?.message, new RegExp(`lost the server for .*127\\.0\\.0\\.1:${first.packet.port}`), 'naming the server that went');
  await t.rejects(remote.changes(cursor), { code: 'NO_SERVER' });
  t.equal(events.length, 1, 'and not again while it stays lost');

  const second = await serve(t, runArea);
  t.same(await remote.waitForChanges(cursor, 0), quiet(cursor), 'the new server answers');
  t.same(
    events.map((e) => e.state),
    ['lost', 'restored'],
    "then 'restored'",
  );
  t.match(events[1]?.message, new RegExp(`pid ${process.pid} .*:${second.packet.port}`), 'naming the server that answers');
  await remote.getRun(run.id);
  t.equal(events.length, 2, 'nothing more while it answers');
});

t.test('close() ends a waiting waitForChanges at once, with the quiet batch', async (t) => {
  const runArea = t.testdir();
  await serve(t, runArea);
  const events: ConnectionEvent[] = [];
  const remote = remoteStore(runArea, { onConnection: (e) => events.push(e) });
  const { cursor } = await remote.changes({ runsSeq: 0, runs: {} });
  const waiting = remote.waitForChanges(cursor, 20_000);
  await remote.areaId();
  const t0 = Date.now();
  await remote.close();
  t.same(await waiting, quiet(cursor), 'the quiet batch');
  t.ok(Date.now() - t0 < 2000, `at once (${Date.now() - t0} ms)`);
  t.same(events, [], 'closing is not losing the server');
});
