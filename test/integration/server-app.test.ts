/**
 * The server's HTTP API over a real direct store in a temp run area, driven with fastify's
 * inject (and once over a real socket): the token guards every route and an unauthorized call
 * changes nothing; bodies that do not match a method's schema get 400 naming the field; every
 * Store method round-trips; a write batch sent twice is recorded once; TrellisErrors keep their
 * code and get their HTTP status.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { memoryLogger } from '../helpers/memory-log.js';
import type { FastifyInstance } from 'fastify';
import { bearer, STORE_METHODS, type HealthInfo, type StoreMethod } from '../../src/model/protocol.js';
import type { AgentRecord, EventRecord, FeedBatch, RunRecord, TestDetail, TestRecord, WriteOp } from '../../src/model/records.js';
import type { OutcomeRecord, RunColumns } from '../../src/model/records.js';
import { runColumnsOf } from '../../src/model/run-columns.js';
import { BODY_LIMIT, buildServerApp } from '../../src/server/app.js';
import { openDirectStore, type DirectStore } from '../../src/store/direct-store.js';
import type { Store } from '../../src/store/store.js';
import type { TestShow } from '../../src/model/show-test.js';
import { processStartTime } from '../../src/util/process-info.js';

const TOKEN = 'f00d'.repeat(16);
const AUTH = { authorization: bearer(TOKEN) };
const HOST = 'here';
const SPEC = { target: 'linux/x86_64', keys: { OS: 'linux', ARCH: 'x86_64' }, runname: 'nightly' };

interface Ctx {
  testdir(): string;
  teardown(fn: () => unknown): void;
}

interface Answer<T = unknown> {
  status: number;
  body: { result?: T; error?: { code: string; message: string; hint?: string } } & Record<string, unknown>;
}

interface Fixture {
  app: FastifyInstance;
  store: DirectStore;
  clock: { now: number };
  calls: { n: number };
  shutdowns: { n: number };
  errors: string[];
  /** POST /v1/store/<method> with the token (or the given headers) */
  call<T = unknown>(method: string, body: unknown, headers?: Record<string, string>): Promise<Answer<T>>;
  /** the result of a successful call; fails the test otherwise */
  ok<T>(method: StoreMethod, body: unknown): Promise<T>;
}

/** The app over a fresh run area's direct store, closed at teardown. */
async function setup(t: Ctx & { fail(m: string): void }, wrap: (s: DirectStore) => Store = (s) => s): Promise<Fixture> {
  const clock = { now: 1_700_000_000 };
  const store = openDirectStore(t.testdir(), { host: HOST, now: () => clock.now });
  const areaId = await store.areaId();
  const calls = { n: 0 };
  const shutdowns = { n: 0 };
  const log = memoryLogger();
  const errors = log.errors;
  const health = (): HealthInfo => ({
    areaId,
    host: HOST,
    pid: process.pid,
    invocation: 'other',
    started: 1_699_999_990,
    version: '0.1.0',
    uptime: clock.now - 1_699_999_990,
  });
  const app = buildServerApp({
    store: wrap(store),
    token: TOKEN,
    health,
    onCall: () => calls.n++,
    onShutdown: () => shutdowns.n++,
    logger: log.logger,
  });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  const call = async <T>(method: string, body: unknown, headers: Record<string, string> = AUTH): Promise<Answer<T>> => {
    const r = await app.inject({ method: 'POST', url: `/v1/store/${method}`, headers, payload: body as object });
    return { status: r.statusCode, body: r.json() };
  };
  const ok = async <T>(method: StoreMethod, body: unknown): Promise<T> => {
    const r = await call<T>(method, body);
    if (r.status !== 200) t.fail(`${method} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body.result as T;
  };
  return { app, store, clock, calls, shutdowns, errors, call, ok };
}

/** A run with tests `a` and `b` registered over HTTP. */
async function withTests(f: Fixture) {
  const run = await f.ok<RunRecord>('ensureRun', { spec: SPEC });
  const rows = await f.ok<TestRecord[]>('registerTests', {
    runId: run.id,
    regs: [
      { testname: 'a', itempath: '', priority: 1, rundir: '/w/a' },
      { testname: 'b', itempath: '', priority: 0, rundir: '/w/b', owner: 'ann', tags: 'x' },
    ],
  });
  return { run, a: rows[0]!, b: rows[1]! };
}

t.test('no token or a wrong one: 401 on every route, and nothing changes', async (t) => {
  const f = await setup(t);
  const wrong: Array<[string, Record<string, string>]> = [
    ['no header', {}],
    ['empty header', { authorization: '' }],
    ['token without Bearer', { authorization: TOKEN }],
    ['wrong token', { authorization: bearer('0'.repeat(64)) }],
    ['token prefix', { authorization: bearer(TOKEN.slice(0, 32)) }],
    ['token plus more', { authorization: `${bearer(TOKEN)}x` }],
    ['Basic scheme', { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }],
    ['token in another header', { 'x-token': TOKEN }],
  ];
  for (const [what, headers] of wrong) {
    const r = await f.call('ensureRun', { spec: SPEC }, headers);
    t.equal(r.status, 401, `${what}: 401`);
    t.equal(r.body.error?.code, 'UNAUTHORIZED', `${what}: UNAUTHORIZED`);
    t.match(r.body.error?.hint, /token/, `${what}: the hint says what to send`);
  }
  for (const [method, url] of [
    ['GET', '/v1/health'],
    ['POST', '/v1/shutdown'],
    ['POST', '/v1/store/listRuns'],
    ['GET', '/v1/nothing'],
    ['GET', `/v1/health?token=${TOKEN}`],
  ] as const) {
    const r = await f.app.inject({ method, url });
    t.equal(r.statusCode, 401, `${method} ${url}: 401`);
    t.notMatch(r.body, /areaId/, `${method} ${url}: no data leaks`);
  }
  const bad = await f.app.inject({
    method: 'POST',
    url: '/v1/store/ensureRun',
    headers: { 'content-type': 'application/json' },
    payload: '{not json',
  });
  t.equal(bad.statusCode, 401, 'the token is checked before the body is even parsed');
  const big = await f.app.inject({
    method: 'POST',
    url: '/v1/store/ensureRun',
    headers: { 'content-type': 'application/json' },
    payload: 'x'.repeat(BODY_LIMIT + 10),
  });
  t.equal(big.statusCode, 401, 'an unauthorized oversized body is refused as unauthorized');

  t.equal(f.calls.n, 0, 'unauthorized calls do not keep the server alive');
  t.equal(f.shutdowns.n, 0, 'an unauthorized shutdown does nothing');
  t.same(await f.ok('listRuns', {}), [], 'no run was created');
  t.same(await f.store.listRuns(), [], 'not in the database either');
  t.equal(f.calls.n, 1, 'an authorized call counts');
  t.same(f.errors, []);
});

t.test('unauthorized writes to an existing run change nothing', async (t) => {
  const f = await setup(t);
  const { run, a } = await withTests(f);
  const before = await f.ok<EventRecord[]>('events', { runId: run.id, sinceSeq: 0 });
  const op: WriteOp = { kind: 'test', opId: 'evil-1', testId: a.id, set: { state: 'COMPLETED', status: 'PASS' }, time: f.clock.now };
  for (const headers of [{}, { authorization: bearer('nope') }] as Array<Record<string, string>>) {
    t.equal((await f.call('write', { runId: run.id, ops: [op] }, headers)).status, 401);
    t.equal((await f.call('setRunState', { runId: run.id, state: 'locked' }, headers)).status, 401);
    t.equal((await f.call('removeRun', { runId: run.id }, headers)).status, 401);
    t.equal((await f.call('removeTests', { runId: run.id, testIds: [a.id] }, headers)).status, 401);
  }
  t.same(await f.ok('events', { runId: run.id, sinceSeq: 0 }), before, 'no new events');
  t.match(await f.ok('getTestById', { runId: run.id, testId: a.id }), { state: 'NOT_STARTED', status: 'n/a' });
  t.match(await f.ok('getRun', { runId: run.id }), { state: 'new' });
  // the op id was not consumed either: the real write now applies
  t.equal((await f.call('write', { runId: run.id, ops: [op] })).status, 200);
  t.match(await f.ok('getTestById', { runId: run.id, testId: a.id }), { state: 'COMPLETED', status: 'PASS' });
});

t.test('health answers the area id with the token', async (t) => {
  const f = await setup(t);
  const r = await f.app.inject({ method: 'GET', url: '/v1/health', headers: AUTH });
  t.equal(r.statusCode, 200);
  const h = r.json() as HealthInfo;
  t.equal(h.areaId, await f.store.areaId());
  t.match(h.areaId, /^[0-9a-f]{16,}$/);
  t.match(h, { host: HOST, pid: process.pid, invocation: 'other', version: '0.1.0', uptime: 10 });
  t.equal(f.calls.n, 1, 'a health check is a call');
  t.same(await f.ok('areaId', {}), h.areaId, 'areaId method agrees');
});

t.test('unknown endpoints and methods', async (t) => {
  const f = await setup(t);
  const r = await f.call('close', {});
  t.equal(r.status, 404, 'close is not part of the API');
  t.equal(r.body.error?.code, 'BAD_REQUEST');
  t.match(r.body.error?.message, /no such endpoint: POST \/v1\/store\/close/);
  const g = await f.app.inject({ method: 'GET', url: '/v1/store/listRuns', headers: AUTH });
  t.equal(g.statusCode, 404, 'store methods are POST only');
});

t.test('bad bodies: 400 naming the field', async (t) => {
  const f = await setup(t);
  const { run, a } = await withTests(f);
  const cases: Array<[string, string, unknown, RegExp]> = [
    ['wrong type', 'getRun', { runId: '1' }, /runId.*integer/],
    ['wrong type, nested', 'ensureRun', { spec: { ...SPEC, keys: { OS: 1 } } }, /spec\/keys\/OS.*string/],
    ['unknown field', 'getRun', { runId: run.id, evil: true }, /additional properties|evil/i],
    ['unknown nested field', 'ensureRun', { spec: { ...SPEC, extra: 1 } }, /spec.*additional properties|extra/i],
    ['missing field', 'getTest', { runId: run.id, testname: 'a' }, /itempath/],
    ['missing nested field', 'ensureRun', { spec: { target: 'linux/x86_64', keys: {} } }, /runname/],
    ['empty name', 'findRun', { target: '', runname: 'x' }, /target/],
    ['run id 0', 'getRun', { runId: 0 }, /runId/],
    ['fractional run id', 'getRun', { runId: 1.5 }, /runId.*integer/],
    ['unknown run state', 'setRunState', { runId: run.id, state: 'exploded' }, /state/],
    ['parameter name not a variable name', 'setRunParams', { runId: run.id, params: { '1x': 'a' } }, /params/],
    ['not an object', 'listRuns', [1, 2], /object/],
    ['null body', 'getRun', null, /object|body/],
    ['op of unknown kind', 'write', { runId: run.id, ops: [{ kind: 'drop', opId: 'x', testId: a.id, time: 1 }] }, /kind|ops\/0/],
    ['op without opId', 'write', { runId: run.id, ops: [{ kind: 'reset', testId: a.id, time: 1 }] }, /opId/],
    [
      'op with bad test state',
      'write',
      { runId: run.id, ops: [{ kind: 'test', opId: 'y', testId: a.id, time: 1, set: { state: 'BOGUS' } }] },
      /ops\/0\/set\/state/,
    ],
    [
      'op with unknown field',
      'write',
      { runId: run.id, ops: [{ kind: 'reset', opId: 'z', testId: a.id, time: 1, sql: 'drop' }] },
      /additional properties|sql/i,
    ],
    [
      'too many ops',
      'write',
      { runId: run.id, ops: Array.from({ length: 2001 }, (_, i) => ({ kind: 'reset', opId: `r${i}`, testId: a.id, time: 1 })) },
      /ops.*2000/,
    ],
    ['events limit too big', 'events', { runId: run.id, sinceSeq: 0, limit: 1e6 }, /limit/],
    ['changes without a cursor', 'changes', {}, /cursor/],
    ['changes with a run key that is no id', 'changes', { cursor: { runsSeq: 0, runs: { abc: 1 } } }, /cursor\/runs|property name/],
    ['changes with a negative seq', 'changes', { cursor: { runsSeq: 0, runs: { [run.id]: -1 } } }, /cursor\/runs/],
    ['changes with a fractional runsSeq', 'changes', { cursor: { runsSeq: 0.5, runs: {} } }, /runsSeq.*integer/],
  ];
  for (const [what, method, body, pattern] of cases) {
    const r = await f.call(method, body);
    t.equal(r.status, 400, `${what}: 400 (${JSON.stringify(r.body)})`);
    t.equal(r.body.error?.code, 'BAD_REQUEST', `${what}: BAD_REQUEST`);
    t.match(r.body.error?.message, pattern, `${what}: names the field`);
    t.match(r.body.error?.message, new RegExp(`^${method}: `), `${what}: names the method`);
  }

  const raw = async (payload: string, contentType = 'application/json') => {
    const r = await f.app.inject({ method: 'POST', url: '/v1/store/listRuns', headers: { ...AUTH, 'content-type': contentType }, payload });
    return { status: r.statusCode, body: r.json() as Answer['body'] };
  };
  const malformed = await raw('{"query": {');
  t.equal(malformed.status, 400, 'malformed JSON: 400');
  t.equal(malformed.body.error?.code, 'BAD_REQUEST');
  t.match(malformed.body.error?.message, /JSON/i, 'says the JSON is malformed');
  const proto = await raw('{"__proto__": {"admin": true}}');
  t.equal(proto.status, 400, 'a __proto__ key is refused');
  const text = await raw('hello', 'text/plain');
  t.equal(text.status, 400, 'plain text: 400');
  t.match(text.body.error?.message, /body must be object/, 'plain text: the body must be an object');
  const xml = await raw('<a/>', 'application/xml');
  t.equal(xml.status, 415, 'an unknown content type: 415');
  t.equal(xml.body.error?.code, 'BAD_REQUEST');

  const huge = await f.app.inject({
    method: 'POST',
    url: '/v1/store/listRuns',
    headers: { ...AUTH, 'content-type': 'application/json' },
    payload: `{"query":{"runname":"${'x'.repeat(BODY_LIMIT)}"}}`,
  });
  t.equal(huge.statusCode, 413, 'a body over 16 MiB: 413 (docs/http-api.md)');
  t.equal((huge.json() as Answer['body']).error?.code, 'BAD_REQUEST');
  t.match((huge.json() as Answer['body']).error?.message, /too large/i);

  t.same(f.errors, [], 'client mistakes are not logged as server errors');
  t.same(
    (await f.store.listRuns()).map((r) => r.id),
    [run.id],
    'nothing was created by the bad calls',
  );
  t.match(await f.store.getTestById(run.id, a.id), { state: 'NOT_STARTED' }, 'nothing was written');
});

t.test('every store method round-trips', async (t) => {
  const f = await setup(t);
  const seen = new Set<string>();
  const ok = async <T>(method: StoreMethod, body: unknown): Promise<T> => {
    seen.add(method);
    return f.ok<T>(method, body);
  };
  t.equal(await ok<string>('areaId', {}), await f.store.areaId());

  const run = await ok<RunRecord>('ensureRun', { spec: SPEC });
  t.match(run, { target: 'linux/x86_64', runname: 'nightly', keys: { OS: 'linux', ARCH: 'x86_64' }, state: 'new' });
  t.same(await ok('ensureRun', { spec: SPEC }), run, 'ensureRun again: the same run');
  t.same(await ok('findRun', { target: 'linux/x86_64', runname: 'nightly' }), run);
  t.same(await f.call('findRun', { target: 'linux/x86_64', runname: 'none' }).then((r) => r.body), {}, 'no run: no result');
  t.same(await ok('getRun', { runId: run.id }), await f.store.getRun(run.id));
  t.match(await ok<RunRecord>('setRunParams', { runId: run.id, params: { VERSION: '1.4', NOTE: 'two words' } }), {
    params: { VERSION: '1.4', NOTE: 'two words' },
  });
  t.same((await f.store.getRun(run.id))!.params, { VERSION: '1.4', NOTE: 'two words' }, 'recorded with the run');
  const other = await ok<RunRecord>('ensureRun', { spec: { ...SPEC, runname: 'weekly' } });
  const appended = await ok<{ testname: string; external: boolean; status: string }>('appendResult', {
    runId: other.id,
    result: {
      testname: 'lint',
      itempath: '',
      state: 'COMPLETED',
      status: 'PASS',
      start: 10,
      end: 20,
      host: 'ci1',
      comment: '',
      values: [],
    },
  });
  t.match(appended, { testname: 'lint', external: true, status: 'PASS' }, 'appendResult: the row');
  t.match(await ok<RunRecord>('closeRun', { runId: other.id, options: { who: 'ann@h1' } }), { state: 'locked', lockedBy: 'ann@h1' });
  t.ok((await f.store.getRun(other.id))!.closedAt !== undefined, 'closeRun: closed');
  t.same((await ok<RunRecord[]>('listRuns', {})).map((r) => r.runname).sort(), ['nightly', 'weekly']);
  t.same(
    (await ok<RunRecord[]>('listRuns', { query: { runname: 'week%' } })).map((r) => r.id),
    [other.id],
    'with a pattern',
  );
  // Sent as the text SQLite wrote; the same runs as listRuns, column by column.
  t.same(await ok<RunColumns>('listRunColumns', {}), runColumnsOf(await f.store.listRuns()), 'listRunColumns');
  t.same(
    await ok<RunColumns>('listRunColumns', { query: { runname: 'week%' } }),
    runColumnsOf([(await f.store.getRun(other.id))!]),
    'with a pattern',
  );

  const regs = await ok<TestRecord[]>('registerTests', {
    runId: run.id,
    regs: [
      { testname: 'a', itempath: '', priority: 1, rundir: '/w/a' },
      { testname: 'b', itempath: 'x', priority: 0, rundir: '/w/b/x', itemVars: { V: 'x' }, owner: 'ann', description: 'd', tags: 't' },
    ],
  });
  t.match(regs, [
    { testname: 'a', state: 'NOT_STARTED', status: 'n/a' },
    { testname: 'b', itempath: 'x', itemVars: { V: 'x' }, owner: 'ann' },
  ]);
  const [a, bx] = regs as [TestRecord, TestRecord];

  const t0 = f.clock.now;
  const ops: WriteOp[] = [
    { kind: 'test', opId: 'o1', testId: a.id, set: { state: 'RUNNING', status: 'n/a', host: HOST, pid: 42, start: t0 }, time: t0 },
    { kind: 'step', opId: 'o2', testId: a.id, name: 'build', state: 'RUNNING', status: 'n/a', time: t0 },
    {
      kind: 'step',
      opId: 'o3',
      testId: a.id,
      name: 'build',
      state: 'COMPLETED',
      status: 'PASS',
      exitCode: 0,
      logfile: 'build.log',
      time: t0 + 1,
    },
    {
      kind: 'data',
      opId: 'o4',
      testId: a.id,
      name: 'latency',
      value: '12.5',
      expected: '10',
      tol: '30%',
      units: 'ms',
      status: 'PASS',
      time: t0 + 1,
    },
    { kind: 'test', opId: 'o5', testId: a.id, set: { state: 'COMPLETED', status: 'PASS', end: t0 + 2 }, time: t0 + 2 },
    { kind: 'test', opId: 'o6', testId: bx.id, set: { state: 'COMPLETED', status: 'FAIL', comment: 'boom' }, time: t0 + 2 },
  ];
  t.same(await f.call('write', { runId: run.id, ops }).then((r) => [r.status, r.body]), [200, {}], 'write answers no result');
  const detail = await ok<TestDetail>('getTest', { runId: run.id, testname: 'a', itempath: '' });
  t.match(detail, {
    state: 'COMPLETED',
    status: 'PASS',
    host: HOST,
    pid: 42,
    start: t0,
    end: t0 + 2,
    duration: 2,
    steps: [{ name: 'build', state: 'COMPLETED', status: 'PASS', exitCode: 0, logfile: 'build.log' }],
    data: [{ name: 'latency', value: '12.5', expected: '10', tol: '30%', units: 'ms', status: 'PASS' }],
  });
  t.same(detail, await f.store.getTest(run.id, 'a', ''), 'the same as the direct store says');
  t.same(await ok('getTestById', { runId: run.id, testId: a.id }), detail);
  t.same(await f.call('getTest', { runId: run.id, testname: 'zz', itempath: '' }).then((r) => r.body), {}, 'no test: no result');
  t.match(await ok('getTest', { runId: run.id, testname: 'b', itempath: '' }), { status: 'FAIL' }, 'items roll up');
  const showLiveness = { now: f.clock.now, deadtime: 60 };
  const shown = await ok<TestShow>('showTest', {
    query: { target: run.target, runname: run.runname, testname: 'b', itempath: '', items: true },
    liveness: showLiveness,
  });
  t.match(shown, { run: { id: run.id }, reaped: [], test: { testname: 'b', status: 'FAIL' }, items: [{ testname: 'b', itempath: 'x' }] });
  t.same(
    shown,
    await f.store.showTest({ target: run.target, runname: run.runname, testname: 'b', itempath: '', items: true }, showLiveness),
    'showTest: the same as the direct store says',
  );
  const none = await f.call('showTest', {
    query: { target: run.target, runname: 'none', testname: 'b', itempath: '', items: false },
    liveness: showLiveness,
  });
  t.same(none.body, {}, 'showTest of no run: no result');

  t.same((await ok<TestRecord[]>('listTests', { runId: run.id })).map((r) => `${r.testname}/${r.itempath}`).sort(), ['a/', 'b/', 'b/x']);
  t.same(
    (await ok<TestRecord[]>('listTests', { runId: run.id, query: { status: ['FAIL'], toplevelOnly: true } })).map((r) => r.testname),
    ['b'],
  );
  t.same(
    (await ok<TestRecord[]>('listTests', { runId: run.id, query: { pattern: 'a' } })).map((r) => r.testname),
    ['a'],
  );
  const details = await ok<TestDetail[]>('listDetails', { runId: run.id });
  t.same(details, await f.store.listDetails(run.id), 'listDetails as the direct store has it');
  t.same(
    details.find((d) => d.id === a.id),
    detail,
    'each row as getTest has it',
  );
  t.same(
    (await ok<TestDetail[]>('listDetails', { runId: run.id, query: { status: ['FAIL'] } })).map((r) => `${r.testname}/${r.itempath}`),
    ['b/', 'b/x'],
  );

  await ok('write', { runId: run.id, ops: [{ kind: 'reset', opId: 'o7', testId: a.id, time: t0 + 3 }] });
  t.match(await ok('getTestById', { runId: run.id, testId: a.id }), { state: 'NOT_STARTED', status: 'n/a', steps: [], data: [] }, 'reset');

  const procStart = processStartTime(process.pid);
  const runner = await ok<AgentRecord>('claimRun', {
    runId: run.id,
    agent: { kind: 'runner', host: HOST, pid: process.pid, procStart },
    liveness: { now: t0, deadtime: 60 },
  });
  t.match(runner, { kind: 'runner', host: HOST, pid: process.pid, ended: null });
  const exec = await ok<AgentRecord>('registerAgent', { runId: run.id, agent: { kind: 'exec', host: 'far', pid: 777, procStart: null } });
  await ok('heartbeat', { runId: run.id, agentId: exec.id, time: t0 + 5 });
  t.match(
    (await ok<AgentRecord[]>('listAgents', { runId: run.id })).find((x) => x.id === exec.id),
    { heartbeat: t0 + 5, ended: null },
  );
  await ok('write', {
    runId: run.id,
    ops: [{ kind: 'test', opId: 'o8', testId: a.id, set: { state: 'RUNNING', status: 'n/a', agentId: exec.id }, time: t0 + 5 }],
  });
  t.same(await ok('reapDead', { runId: run.id, liveness: { now: t0 + 10, deadtime: 60 } }), [], 'a fresh heartbeat: nothing reaped');
  const reaped = await ok<TestRecord[]>('reapDead', { runId: run.id, liveness: { now: t0 + 100, deadtime: 60 } });
  t.match(reaped, [{ testname: 'a', state: 'INCOMPLETE', status: 'DEAD' }], 'a stale heartbeat: reaped');
  // A launched row, taken by an exec: once, with the launch id.
  await ok('write', {
    runId: run.id,
    ops: [
      {
        kind: 'test',
        opId: 'o9',
        testId: bx.id,
        set: { state: 'LAUNCHED', agentId: runner.id, launchId: 'L1', launcher: 'ssh' },
        time: t0 + 100,
      },
    ],
  });
  const claim = await ok<{ agent: AgentRecord; test: TestRecord }>('claimJob', {
    runId: run.id,
    testId: bx.id,
    launchId: 'L1',
    agent: { kind: 'exec', host: 'far', pid: 888, procStart: 5 },
    liveness: { now: t0 + 100, deadtime: 60 },
  });
  t.match(claim, { agent: { kind: 'exec', host: 'far', pid: 888 }, test: { id: bx.id, host: 'far', launchId: 'L1' } }, 'claimJob');
  t.same(await ok('takeOrphans', { runId: run.id, host: 'far' }), [], 'takeOrphans: none left on far');
  await ok('endAgent', { runId: run.id, agentId: runner.id, time: t0 + 101 });
  t.match(
    (await ok<AgentRecord[]>('listAgents', { runId: run.id })).find((x) => x.id === runner.id),
    { ended: t0 + 101 },
  );

  const feed = await ok<EventRecord[]>('events', { runId: run.id, sinceSeq: 0 });
  t.same(feed, await f.store.events(run.id, 0), 'events as the direct store has them');
  t.ok(feed.length > 5, 'the feed has the changes');
  const last = feed[feed.length - 1]!;
  t.same(await ok('events', { runId: run.id, sinceSeq: last.seq }), [], 'nothing after the last');
  t.same(await ok('events', { runId: run.id, sinceSeq: 0, limit: 2 }), feed.slice(0, 2), 'limit');

  const cursor = { runsSeq: 0, runs: { [run.id]: 0 } };
  const changes = await ok<FeedBatch>('changes', { cursor });
  t.same(changes, await f.store.changes(cursor), 'changes as the direct store has them');
  t.match(changes, {
    runs: [{}, {}],
    cells: [{ runId: run.id, full: true, cells: [{ testname: 'a' }, { testname: 'b' }, { testname: 'b', itempath: 'x' }] }],
  });
  t.same(await ok('changes', { cursor: changes.cursor }), { ...changes, runs: [], cells: [] }, 'nothing after it');

  t.match(
    await ok<OutcomeRecord[]>('history', { query: { testname: 'a' } }),
    [{ runId: run.id, state: 'INCOMPLETE', status: 'DEAD' }],
    'history from the index',
  );
  const job = { key: 'j1', kind: 'wrap', testname: 'backup', host: 'db1', state: 'COMPLETED', status: 'PASS', start: t0, end: t0 + 60 };
  t.match(await ok<OutcomeRecord>('recordOutcome', { job }), { kind: 'wrap', runId: null, duration: 60, success: true });
  t.same(await ok('historySummary', {}), await f.store.historySummary(), 'the summary as the direct store has it');

  // Shared resources: a holder on another host, alive while renewed (deadtime 60).
  const keeper = await f.store.registerAgent(run.id, { kind: 'runner', host: 'h9', pid: 99, procStart: null });
  const holder = {
    runId: run.id,
    target: run.target,
    runname: run.runname,
    itempath: '',
    agentId: keeper.id,
    host: 'h9',
    pid: 99,
    procStart: null,
  };
  const liveness = { now: f.clock.now, deadtime: 60 };
  const wants = [{ name: 'deploy', count: 1 }];
  t.match(await ok('claimResources', { request: { holder: { ...holder, testId: a.id, testname: 'a' }, wants }, liveness }), {
    granted: true,
    blockers: [],
  });
  t.match(
    await ok('claimResources', { request: { holder: { ...holder, testId: bx.id, testname: 'b', itempath: 'x' }, wants }, liveness }),
    {
      granted: false,
      blockers: [{ resource: 'deploy', testname: 'a', state: 'held' }],
    },
  );
  t.same(await ok('listResourceClaims', { liveness }), await f.store.listResourceClaims(liveness), 'claims as the direct store has them');
  t.match(await ok('releaseResources', { release: { runId: run.id, agentId: keeper.id } }), [{ testname: 'a' }, { testname: 'b' }]);

  // The agent pool: an agent on another host takes a queued job of test a and ends it.
  const spec = { name: 'a9', host: 'h9', user: 'ann', pid: 99, procStart: null, slots: 2, tags: ['linux'], version: '0.1.0' };
  const agent9 = await ok<{ session: string }>('registerPoolAgent', { spec, load: 0.5, liveness });
  t.same(await ok('poolHeartbeat', { beat: { name: 'a9', session: agent9.session, time: f.clock.now, load: 0.4 } }), { drain: false });
  const request = {
    runId: run.id,
    testId: a.id,
    launchId: 'L-a9',
    specFile: '/runs/a/.trellis-job.json',
    target: run.target,
    runname: run.runname,
    label: 'a',
    tags: ['linux'],
    hosts: [],
    requeues: 1,
    runnerAgentId: keeper.id,
  };
  t.match(await ok('enqueueJobs', { requests: [request], liveness }), [{ state: 'queued', label: 'a' }]);
  const taken = await ok<Array<{ id: number }>>('claimQueuedJobs', { name: 'a9', session: agent9.session, max: 2, have: [], liveness });
  t.equal(taken.length, 1, 'the agent takes the job');
  t.match(await ok('listHosts', { liveness }), [{ name: 'a9', status: 'busy', jobs: [{ label: 'a' }] }]);
  await ok('endQueuedJob', { id: taken[0]!.id, name: 'a9', session: agent9.session, note: 'COMPLETED/PASS' });
  t.match(await ok('listQueue', { runId: run.id, liveness }), [{ state: 'ended', note: 'COMPLETED/PASS' }]);
  t.match(await ok('cancelQueuedJob', { launchId: 'L-a9' }), { state: 'ended' });
  t.same(await ok('takePoolOrphans', { name: 'a9', host: 'h9' }), []);
  t.match(await ok('drainPoolAgent', { name: 'a9' }), { state: 'draining' });
  await ok('leavePool', { name: 'a9', session: agent9.session });
  t.match(await f.call('drainPoolAgent', { name: 'nosuch' }), { status: 404, body: { error: { code: 'NO_AGENT' } } });
  t.match(await f.call('registerPoolAgent', { spec: { ...spec, name: 'bad name' }, load: null, liveness }), {
    status: 400,
    body: { error: { code: 'BAD_VALUE' } },
  });

  const locked = await ok<RunRecord>('setRunState', { runId: run.id, state: 'locked', options: { who: 'ann@h1' } });
  t.match(locked, { state: 'locked', lockedBy: 'ann@h1' });
  t.match(await f.call('setRunParams', { runId: run.id, params: {} }), { status: 409, body: { error: { code: 'RUN_LOCKED' } } });
  await ok('removeTests', { runId: run.id, testIds: [bx.id], options: { force: true, who: 'ann@h1' } });
  t.same(
    (await ok<TestRecord[]>('listTests', { runId: run.id })).map((r) => `${r.testname}/${r.itempath}`).sort(),
    ['a/', 'b/'],
    'the item removed',
  );
  const b = (await ok<TestDetail>('getTest', { runId: run.id, testname: 'b', itempath: '' })).id;
  await ok('removeTests', { runId: run.id, testIds: [b], options: { force: true, who: 'ann@h1' } });
  t.same(
    (await ok<TestRecord[]>('listTests', { runId: run.id })).map((r) => r.testname),
    ['a'],
    'b removed',
  );
  await ok('setRunState', { runId: run.id, state: 'done' });
  await ok('removeRun', { runId: run.id });
  t.same(
    (await ok<RunRecord[]>('listRuns', {})).map((r) => r.id),
    [other.id],
    'removed',
  );

  t.same(
    [...STORE_METHODS].filter((m) => !seen.has(m)),
    [],
    'every method was called',
  );
  t.same(f.errors, []);
});

t.test('a write batch sent twice is recorded once', async (t) => {
  const f = await setup(t);
  const { run, a } = await withTests(f);
  const before = (await f.ok<EventRecord[]>('events', { runId: run.id, sinceSeq: 0 })).length;
  const batch = {
    runId: run.id,
    ops: [
      { kind: 'test', opId: 'x-1', testId: a.id, set: { state: 'RUNNING', status: 'n/a' }, time: 1 },
      { kind: 'data', opId: 'x-2', testId: a.id, name: 'm', value: '1', status: 'PASS', time: 2 },
      { kind: 'step', opId: 'x-3', testId: a.id, name: 's', state: 'COMPLETED', status: 'PASS', time: 3 },
    ],
  };
  t.equal((await f.call('write', batch)).status, 200);
  const once = await f.ok<EventRecord[]>('events', { runId: run.id, sinceSeq: 0 });
  t.ok(once.length > before, 'the first batch made events');
  t.equal((await f.call('write', batch)).status, 200, 'the second is accepted');
  t.same(await f.ok('events', { runId: run.id, sinceSeq: 0 }), once, 'and records nothing');
  const detail = await f.ok<TestDetail>('getTestById', { runId: run.id, testId: a.id });
  t.equal(detail.data.length, 1, 'one data row');
  t.equal(detail.steps.length, 1, 'one step row');

  // a bigger batch that repeats part of the first: only the new op is applied
  const more = {
    runId: run.id,
    ops: [...batch.ops, { kind: 'data', opId: 'x-4', testId: a.id, name: 'n', value: '2', status: 'PASS', time: 4 }],
  };
  t.equal((await f.call('write', more)).status, 200);
  t.equal((await f.ok<TestDetail>('getTestById', { runId: run.id, testId: a.id })).data.length, 2, 'only the new data row');

  // a failing batch applies nothing, and does not use up its op ids
  const failing = {
    runId: run.id,
    ops: [
      { kind: 'data', opId: 'x-5', testId: a.id, name: 'o', value: '3', status: 'PASS', time: 5 },
      { kind: 'reset', opId: 'x-6', testId: 99999, time: 5 },
    ],
  };
  const r = await f.call('write', failing);
  t.equal(r.status, 404);
  t.equal(r.body.error?.code, 'NO_TEST');
  t.equal((await f.ok<TestDetail>('getTestById', { runId: run.id, testId: a.id })).data.length, 2, 'the failed batch wrote nothing');
  await f.ok('write', { runId: run.id, ops: [failing.ops[0]] });
  t.equal((await f.ok<TestDetail>('getTestById', { runId: run.id, testId: a.id })).data.length, 3, 'its good op applies later');
});

t.test('a long list (over 1,000 rows) goes out in slices and reads back as the store gives it', async (t) => {
  const f = await setup(t);
  const run = await f.ok<RunRecord>('ensureRun', { spec: SPEC });
  const regs = Array.from({ length: 2_500 }, (_, i) => ({ testname: 'big', itempath: String(i), priority: 0, rundir: `/w/big/${i}` }));
  for (let i = 0; i < regs.length; i += 2000) await f.ok('registerTests', { runId: run.id, regs: regs.slice(i, i + 2000) });
  const r = await f.app.inject({ method: 'POST', url: '/v1/store/listTests', headers: AUTH, payload: { runId: run.id } });
  t.equal(r.statusCode, 200);
  t.match(r.headers['content-type'], /^application\/json/);
  t.equal(r.headers['content-length'], undefined, 'streamed, not one buffer');
  const rows = (r.json() as { result: TestRecord[] }).result;
  t.equal(rows.length, 2_501, 'the items and their test');
  t.same(rows, await f.store.listTests(run.id), 'the same rows, in the same order');
  t.equal(r.body, JSON.stringify({ result: await f.store.listTests(run.id) }), 'the same text as one JSON.stringify');
  // A long list deeper down (the change feed's cells of a run) goes out the same way.
  const cursor = { runsSeq: 0, runs: { [run.id]: 0 } };
  const feed = await f.app.inject({ method: 'POST', url: '/v1/store/changes', headers: AUTH, payload: { cursor } });
  t.equal(feed.headers['content-length'], undefined, 'the feed answer is streamed');
  const batch = (feed.json() as { result: FeedBatch }).result;
  t.equal(batch.cells[0]?.cells.length, 2_501);
  t.equal(feed.body, JSON.stringify({ result: await f.store.changes(cursor) }), 'the same text as one JSON.stringify');
  // Short answers are one JSON text as before.
  const few = await f.app.inject({
    method: 'POST',
    url: '/v1/store/listTests',
    headers: AUTH,
    payload: { runId: run.id, query: { pattern: 'big/2%' } },
  });
  t.equal(Number(few.headers['content-length']), few.body.length);
  t.same((few.json() as { result: TestRecord[] }).result, await f.store.listTests(run.id, { pattern: 'big/2%' }));
});

t.test('TrellisErrors keep their code and get their status', async (t) => {
  const f = await setup(t);
  const { run, a } = await withTests(f);
  const expectError = async (what: string, method: string, body: unknown, status: number, code: string, pattern: RegExp) => {
    const r = await f.call(method, body);
    t.equal(r.status, status, `${what}: ${status}`);
    t.equal(r.body.error?.code, code, `${what}: ${code}`);
    t.match(r.body.error?.message, pattern, `${what}: message`);
    t.type(r.body.error?.hint, 'string', `${what}: a hint`);
    t.notMatch(JSON.stringify(r.body), /\n\s+at /, `${what}: no stack`);
  };
  await expectError('no such run', 'listTests', { runId: 999 }, 404, 'NO_RUN', /no run with id 999/);
  await expectError(
    'no such run (write)',
    'write',
    { runId: 999, ops: [{ kind: 'reset', opId: 'q', testId: 1, time: 1 }] },
    404,
    'NO_RUN',
    /999/,
  );
  await expectError('no such run (events)', 'events', { runId: 999, sinceSeq: 0 }, 404, 'NO_RUN', /999/);
  await expectError(
    'no such test',
    'write',
    { runId: run.id, ops: [{ kind: 'reset', opId: 'q', testId: 12345, time: 1 }] },
    404,
    'NO_TEST',
    /12345/,
  );
  await expectError('no such agent', 'heartbeat', { runId: run.id, agentId: 4242, time: 1 }, 400, 'BAD_VALUE', /agent/);

  await f.ok('setRunState', { runId: run.id, state: 'locked', options: { who: 'lead@h1' } });
  await expectError(
    'locked run',
    'write',
    { runId: run.id, ops: [{ kind: 'reset', opId: 'l1', testId: a.id, time: 1 }] },
    409,
    'RUN_LOCKED',
    /locked/,
  );
  await expectError('locked run removal', 'removeRun', { runId: run.id }, 409, 'RUN_LOCKED', /locked/);
  t.equal(
    (
      await f.call('write', {
        runId: run.id,
        ops: [{ kind: 'reset', opId: 'l1', testId: a.id, time: 1 }],
        options: { force: true, who: 'me@h' },
      })
    ).status,
    200,
    'forced: accepted',
  );
  await f.ok('setRunState', { runId: run.id, state: 'done' });

  const mine = { kind: 'runner', host: HOST, pid: process.pid, procStart: processStartTime(process.pid) };
  await f.ok('claimRun', { runId: run.id, agent: mine, liveness: { now: f.clock.now, deadtime: 60 } });
  const parent = { kind: 'runner', host: HOST, pid: process.ppid, procStart: processStartTime(process.ppid) };
  await expectError(
    'busy run',
    'claimRun',
    { runId: run.id, agent: parent, liveness: { now: f.clock.now, deadtime: 60 } },
    409,
    'RUN_BUSY',
    new RegExp(`pid ${process.pid}`),
  );
  t.same(f.errors, [], 'user errors are not logged');
});

t.test('a failure that is not a TrellisError: 500, logged, no stack to the client', async (t) => {
  const f = await setup(
    t,
    (store) =>
      new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === 'listRuns')
            return async () => {
              throw new Error('disk on fire');
            };
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === 'function' ? v.bind(target) : v;
        },
      }),
  );
  const r = await f.call('listRuns', {});
  t.equal(r.status, 500);
  t.equal(r.body.error?.code, 'INTERNAL');
  t.match(r.body.error?.message, /disk on fire/);
  t.notMatch(JSON.stringify(r.body), /\n\s+at /, 'no stack in the answer');
  t.equal(f.errors.length, 1, 'logged for the server log');
  t.match(f.errors[0], /listRuns.*disk on fire/s);
  t.equal((await f.call('areaId', {})).status, 200, 'the server goes on answering');
});

t.test('shutdown over a real socket: answered first, then onShutdown', async (t) => {
  const f = await setup(t);
  await f.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = f.app.server.address() as AddressInfo;
  const post = (headers: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: '/v1/shutdown', headers: { ...headers, 'content-type': 'application/json' } },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
  const denied = await post({ authorization: bearer('wrong') });
  t.equal(denied.status, 401);
  t.equal(f.shutdowns.n, 0, 'a wrong token does not stop it');
  const r = await post(AUTH);
  t.equal(r.status, 200);
  t.same(JSON.parse(r.body), { ok: true });
  const deadline = Date.now() + 5000;
  while (f.shutdowns.n === 0 && Date.now() < deadline) await new Promise((res) => setImmediate(res));
  t.equal(f.shutdowns.n, 1, 'onShutdown called once the answer went out');
});
