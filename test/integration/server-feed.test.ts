/**
 * The change feed's long poll, POST /v1/feed, on the app over a real direct store: answered at
 * once when something changed; a waiting request wakes on a write the app served and on a write
 * by another process's store (the recheck timer); the quiet batch after waitMs; the token and the
 * body schema guard it; a client that hangs up leaves no waiter behind; closing the app and
 * stopping a real server answer waiting requests at once; a waiting dashboard keeps an idle
 * server alive.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { memoryLogger } from '../helpers/memory-log.js';
import type { FastifyInstance } from 'fastify';
import { requestJson } from '../../src/client/http.js';
import { validToken } from '../../src/config/meta-files.js';
import { runAreaPaths } from '../../src/config/paths.js';
import type { ServerConfig } from '../../src/config/types.js';
import { bearer, FEED_MAX_WAIT_MS, type HealthInfo } from '../../src/model/protocol.js';
import type { FeedBatch, FeedCursor, RunRecord, TestRecord } from '../../src/model/records.js';
import { buildServerApp } from '../../src/server/app.js';
import { startServer } from '../../src/server/server.js';
import { openDirectStore, type DirectStore } from '../../src/store/direct-store.js';
import { shortHostname } from '../../src/util/host.js';
import { waitUntil } from '../helpers/run-e2e.js';

const TOKEN = 'beef'.repeat(16);
const AUTH = { authorization: bearer(TOKEN) };
const HOST = 'here';
const SPEC = { target: 'linux/x86_64', keys: { OS: 'linux', ARCH: 'x86_64' }, runname: 'nightly' };

interface Ctx {
  testdir(): string;
  teardown(fn: () => unknown): void;
}

interface Fixture {
  dir: string;
  app: FastifyInstance;
  store: DirectStore;
  /** waiting feed requests, as the app reports them */
  waiting: { n: number };
  errors: string[];
  /** POST /v1/feed through inject */
  feed(
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: { result?: FeedBatch; error?: { code: string; message: string } } }>;
  /** a store method through inject; its result */
  ok<T>(method: string, body: unknown): Promise<T>;
}

/** The app over a fresh run area, with a run of tests `a` and `b` and a cursor past all of it. */
async function setup(t: Ctx, opts: { recheckMs?: number } = {}) {
  const dir = t.testdir();
  const store = openDirectStore(dir, { host: HOST });
  const areaId = await store.areaId();
  const waiting = { n: 0 };
  const log = memoryLogger();
  const errors = log.errors;
  const health = (): HealthInfo => ({ areaId, host: HOST, pid: process.pid, invocation: 'other', started: 1, version: '0.1.0', uptime: 1 });
  const app = buildServerApp({
    store,
    token: TOKEN,
    health,
    onCall: () => undefined,
    onShutdown: () => undefined,
    logger: log.logger,
    onFeedWaiters: (n) => (waiting.n = n),
    feedRecheckMs: opts.recheckMs,
  });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  const f: Fixture = {
    dir,
    app,
    store,
    waiting,
    errors,
    feed: async (body, headers = AUTH) => {
      const r = await app.inject({ method: 'POST', url: '/v1/feed', headers, payload: body as object });
      return { status: r.statusCode, body: r.json() };
    },
    ok: async <T>(method: string, body: unknown) => {
      const r = await app.inject({ method: 'POST', url: `/v1/store/${method}`, headers: AUTH, payload: body as object });
      if (r.statusCode !== 200) throw new Error(`${method} answered ${r.statusCode}: ${r.body}`);
      return (r.json() as { result: T }).result;
    },
  };
  const run = await f.ok<RunRecord>('ensureRun', { spec: SPEC });
  const [a] = await f.ok<TestRecord[]>('registerTests', {
    runId: run.id,
    regs: [{ testname: 'a', itempath: '', priority: 0, rundir: '/w/a' }],
  });
  const cursor = (await store.changes({ runsSeq: 0, runs: { [run.id]: 0 } })).cursor;
  return { f, run, a: a!, cursor };
}

/** A `test` op that sets a's state. */
const setState = (id: number, state: string, opId: string) => ({ kind: 'test', opId, testId: id, set: { state }, time: 1 });

/** POST /v1/feed over a real socket; `abort` hangs up. */
function postFeed(port: number, body: unknown) {
  const payload = JSON.stringify(body);
  let req: http.ClientRequest | undefined;
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/v1/feed', agent: false, headers: { ...AUTH, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
  return { answer, abort: () => req?.destroy() };
}

t.test('answers at once when something changed, and with the changes', async (t) => {
  const { f, run, a, cursor } = await setup(t);
  await f.ok('write', { runId: run.id, ops: [setState(a.id, 'RUNNING', 'w1')] });
  const t0 = Date.now();
  const r = await f.feed({ cursor, waitMs: FEED_MAX_WAIT_MS });
  t.ok(Date.now() - t0 < 5000, 'did not wait');
  t.equal(r.status, 200);
  t.same(r.body.result, await f.store.changes(cursor), 'the changes, as the store has them');
  t.match(r.body.result?.cells, [{ runId: run.id, cells: [{ id: a.id, state: 'RUNNING' }] }]);
  t.equal(f.waiting.n, 0, 'nobody waited');
});

t.test('a cursor asking for endedRows gets the rows that ended with their cells', async (t) => {
  const { f, run, a, cursor } = await setup(t);
  await f.ok('write', { runId: run.id, ops: [setState(a.id, 'COMPLETED', 'w1')] });
  const r = await f.feed({ cursor: { ...cursor, endedRows: true }, waitMs: 0 });
  t.equal(r.status, 200, 'the schema takes it');
  t.match(r.body.result?.cells, [{ runId: run.id, cells: [{ id: a.id, state: 'COMPLETED' }], ended: [{ id: a.id, state: 'COMPLETED' }] }]);
  t.equal(r.body.result?.cursor.endedRows, true);
});

t.test('a waiting request wakes on a write the app served', async (t) => {
  // A recheck timer of a minute: only the write's own notification can wake it in time.
  const { f, run, a, cursor } = await setup(t, { recheckMs: 60_000 });
  const t0 = Date.now();
  const pending = f.feed({ cursor, waitMs: 20_000 });
  await waitUntil(() => f.waiting.n === 1, 'the feed request to wait');
  await f.ok('write', { runId: run.id, ops: [setState(a.id, 'LAUNCHED', 'w1')] });
  const r = await pending;
  t.ok(Date.now() - t0 < 5000, `woken by the write, not the end of its wait (${Date.now() - t0} ms)`);
  t.match(r.body.result?.cells, [{ runId: run.id, full: false, cells: [{ id: a.id, state: 'LAUNCHED' }] }]);
  t.equal(f.waiting.n, 0, 'no longer waiting');

  for (const [what, method, body] of [
    ['ensureRun', 'ensureRun', { spec: { ...SPEC, runname: 'weekly' } }],
    ['setRunState', 'setRunState', { runId: run.id, state: 'locked' }],
  ] as const) {
    const next = await f.store.changes(cursor);
    const waiting = f.feed({ cursor: next.cursor, waitMs: 20_000 });
    await waitUntil(() => f.waiting.n === 1, `the feed request to wait (${what})`);
    await f.ok(method, body);
    t.ok((await waiting).body.result?.runs.length, `${what} wakes it`);
  }
});

t.test('a waiting request wakes on a write by another store on the same files', async (t) => {
  const { f, run, a, cursor } = await setup(t);
  const direct = openDirectStore(f.dir, { host: HOST });
  t.teardown(() => direct.close());
  const t0 = Date.now();
  const pending = f.feed({ cursor, waitMs: 20_000 });
  await waitUntil(() => f.waiting.n === 1, 'the feed request to wait');
  await direct.write(run.id, [{ kind: 'test', opId: 'd1', testId: a.id, set: { state: 'RUNNING' }, time: 1 }]);
  const r = await pending;
  t.ok(Date.now() - t0 < 5000, `seen by the recheck timer (${Date.now() - t0} ms)`);
  t.match(r.body.result?.cells, [{ runId: run.id, cells: [{ id: a.id, state: 'RUNNING' }] }]);
});

t.test('nothing changes: the quiet batch after waitMs', async (t) => {
  const { f, cursor } = await setup(t);
  const t0 = Date.now();
  const r = await f.feed({ cursor, waitMs: 300 });
  t.ok(Date.now() - t0 >= 290, 'waited');
  t.same(r.body.result, { cursor, runs: [], removedRuns: [], cells: [] });
  const now = await f.feed({ cursor, waitMs: 0 });
  t.same(now.body.result, { cursor, runs: [], removedRuns: [], cells: [] }, 'waitMs 0: answered at once');
  t.equal(f.waiting.n, 0);
});

t.test('the token and the body schema guard it', async (t) => {
  const { f, cursor } = await setup(t);
  const denied = await f.feed({ cursor, waitMs: 0 }, {});
  t.equal(denied.status, 401);
  t.equal(denied.body.error?.code, 'UNAUTHORIZED');
  const cases: Array<[string, unknown, RegExp]> = [
    ['waitMs too large', { cursor, waitMs: FEED_MAX_WAIT_MS + 1 }, /waitMs/],
    ['waitMs negative', { cursor, waitMs: -1 }, /waitMs/],
    ['waitMs fractional', { cursor, waitMs: 1.5 }, /waitMs/],
    ['no waitMs', { cursor }, /waitMs/],
    ['no cursor', { waitMs: 0 }, /cursor/],
    ['a run key that is no id', { cursor: { runsSeq: 0, runs: { '0': 0 } }, waitMs: 0 }, /cursor\/runs|property name/],
    ['an unknown field', { cursor, waitMs: 0, extra: 1 }, /additional/],
  ];
  for (const [what, body, pattern] of cases) {
    const r = await f.feed(body);
    t.equal(r.status, 400, `${what}: 400`);
    t.equal(r.body.error?.code, 'BAD_REQUEST', what);
    t.match(r.body.error?.message, pattern, `${what}: names the field`);
    t.match(r.body.error?.message, /^feed: /, `${what}: names the route`);
  }
  t.same(f.errors, []);
});

t.test('a client that hangs up mid-wait leaves no waiter behind', async (t) => {
  const { f, cursor } = await setup(t);
  await f.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = f.app.server.address() as AddressInfo;
  const gone = postFeed(port, { cursor, waitMs: 20_000 });
  gone.answer.catch(() => undefined);
  await waitUntil(() => f.waiting.n === 1, 'the feed request to wait');
  gone.abort();
  await waitUntil(() => f.waiting.n === 0, 'the waiter to leave when its socket closed', 60_000);
  const t0 = Date.now();
  await f.app.close();
  t.ok(Date.now() - t0 < 2000, `the app closes at once (${Date.now() - t0} ms)`);
});

t.test('closing the app answers waiting requests at once', async (t) => {
  const { f, cursor } = await setup(t);
  await f.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = f.app.server.address() as AddressInfo;
  const first = postFeed(port, { cursor, waitMs: 20_000 });
  const second = postFeed(port, { cursor, waitMs: 20_000 });
  await waitUntil(() => f.waiting.n === 2, 'both feed requests to wait');
  const t0 = Date.now();
  await f.app.close();
  t.ok(Date.now() - t0 < 2000, `closed at once (${Date.now() - t0} ms)`);
  for (const r of [await first.answer, await second.answer]) {
    t.equal(r.status, 200, 'answered');
    t.same(JSON.parse(r.body), { result: { cursor, runs: [], removedRuns: [], cells: [] } }, 'with the quiet batch');
  }
});

const serverConfig = (idleTimeout: number): ServerConfig => ({
  idleTimeout,
  portRange: null,
  advertise: undefined,
  bind: '127.0.0.1',
  logLevel: 'info',
  logMaxBytes: 10 * 1024 * 1024,
  logFiles: 5,
});

t.test('a real server: stop answers a waiting feed request at once; a waiting one keeps it from idling out', async (t) => {
  const runArea = t.testdir();
  const server = await startServer({
    runArea,
    invocation: 'dboard',
    config: serverConfig(1),
    host: shortHostname(),
    now: () => Date.now() / 1000,
    leaseWaitMs: 2000,
  });
  t.teardown(() => server.stop('test over'));
  const endpoint = { address: '127.0.0.1', port: server.packet.port, token: validToken(runAreaPaths(runArea))! };
  const first = await requestJson(endpoint, 'POST', '/v1/store/changes', { cursor: { runsSeq: 0, runs: {} } }, 5000);
  const cursor = (first.body as { result: FeedBatch }).result.cursor as FeedCursor;

  // Idle timeout 1 s; a request waiting 2.5 s must hold it open.
  const t0 = Date.now();
  const quiet = await requestJson(endpoint, 'POST', '/v1/feed', { cursor, waitMs: 2500 }, 10_000);
  t.ok(Date.now() - t0 >= 2400, `the feed request waited its time (${Date.now() - t0} ms), the server did not stop under it`);
  t.same(quiet.body, { result: { cursor, runs: [], removedRuns: [], cells: [] } });
  t.equal(
    (await requestJson(endpoint, 'GET', '/v1/health', undefined, 2000)).status,
    200,
    'still serving after more than its idle timeout',
  );

  const waiting = requestJson(endpoint, 'POST', '/v1/feed', { cursor, waitMs: 20_000 }, 30_000);
  // Answered after the feed request reached the server: by then it waits.
  await requestJson(endpoint, 'GET', '/v1/health', undefined, 2000);
  const t1 = Date.now();
  await server.stop('test stops it');
  t.ok(Date.now() - t1 < 3000, `stopped at once (${Date.now() - t1} ms)`);
  const r = await waiting;
  t.equal(r.status, 200, 'the waiting request was answered');
  t.same(r.body, { result: { cursor, runs: [], removedRuns: [], cells: [] } }, 'with the quiet batch');
});
