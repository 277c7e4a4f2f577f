/**
 * Names at the API's edge: the server refuses, with 400 BAD_VALUE naming the field, the names the
 * CLI refuses (model/names.ts) — a run name or key value of `..`, control characters, a target that
 * is not its keys — and stores nothing. Driven with fastify's inject over a real direct store.
 */
import t, { type Test } from 'tap';
import { bearer } from '../../src/model/protocol.js';
import type { RunRecord, TestRecord } from '../../src/model/records.js';
import { buildServerApp } from '../../src/server/app.js';
import { openDirectStore } from '../../src/store/direct-store.js';

const TOKEN = 'c0de'.repeat(16);
const SPEC = { target: 'linux/x86_64', keys: { OS: 'linux', ARCH: 'x86_64' }, runname: 'nightly' };

async function setup(t: Test) {
  const store = openDirectStore(t.testdir(), { host: 'here', now: () => 1_700_000_000 });
  const areaId = await store.areaId();
  const app = buildServerApp({
    store,
    token: TOKEN,
    health: () => ({ areaId, host: 'here', pid: process.pid, invocation: 'other', started: 1, version: '0', uptime: 1 }),
    onCall: () => undefined,
    onShutdown: () => undefined,
  });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  const call = async (method: string, body: unknown) => {
    const r = await app.inject({
      method: 'POST',
      url: `/v1/store/${method}`,
      headers: { authorization: bearer(TOKEN) },
      payload: body as object,
    });
    return { status: r.statusCode, body: r.json() as { result?: unknown; error?: { code: string; message: string; hint?: string } } };
  };
  return { store, call };
}

t.test('ensureRun refuses bad run names and key values, and creates nothing', async (t) => {
  const { store, call } = await setup(t);
  const bad: Array<[string, object, RegExp]> = [
    ['run name ..', { ...SPEC, runname: '..' }, /run name '\.\.' \(ensureRun spec\.runname\) is '\.\.'/],
    ['run name .', { ...SPEC, runname: '.' }, /spec\.runname/],
    ['run name with a newline', { ...SPEC, runname: 'a\nb' }, /run name 'a\\nb'.*control character/],
    ['run name with an OSC title', { ...SPEC, runname: '\x1b]0;x\x07' }, /control character \(\\x1b\)/],
    ['run name with a slash', { ...SPEC, runname: '../../etc' }, /'\/'/],
    [
      'key value ..',
      { target: '../x86_64', keys: { OS: '..', ARCH: 'x86_64' }, runname: 'n' },
      /target value for OS '\.\.' \(ensureRun spec\.keys\.OS\)/,
    ],
    ['key value with a slash', { target: 'a/b/x86_64', keys: { OS: 'a/b', ARCH: 'x86_64' }, runname: 'n' }, /spec\.keys\.OS/],
    [
      'target not its keys',
      { target: 'other/x86_64', keys: { OS: 'linux', ARCH: 'x86_64' }, runname: 'n' },
      /spec\.target 'other\/x86_64' is not the values of spec\.keys/,
    ],
    ['target .. without keys', { target: '..', keys: {}, runname: 'n' }, /ensureRun spec\.target/],
  ];
  for (const [what, spec, message] of bad) {
    const r = await call('ensureRun', { spec });
    t.equal(r.status, 400, `${what}: 400`);
    t.equal(r.body.error?.code, 'BAD_VALUE', `${what}: BAD_VALUE`);
    t.match(r.body.error?.message, message, `${what}: names the field and why`);
    t.ok(r.body.error?.hint, `${what}: says what to do`);
  }
  t.same(await store.listRuns(), [], 'no run was created');
  t.equal((await call('ensureRun', { spec: SPEC })).status, 200, 'a good one still works');
});

t.test('registerTests, write and recordOutcome refuse bad names and statuses', async (t) => {
  const { store, call } = await setup(t);
  const run = (await call('ensureRun', { spec: SPEC })).body.result as RunRecord;
  const reg = { testname: 'a', itempath: '', priority: 0, rundir: '/w/a' };
  for (const [what, r, field] of [
    ['test name with a blank', { ...reg, testname: 'a b' }, /regs\[1\]\.testname/],
    ['test name ..', { ...reg, testname: '..' }, /regs\[1\]\.testname/],
    ['item path with ESC', { ...reg, itempath: 'x\x1b[2J' }, /regs\[1\]\.itempath/],
  ] as const) {
    const res = await call('registerTests', { runId: run.id, regs: [reg, r] });
    t.equal(res.status, 400, `${what}: 400`);
    t.match(res.body.error, { code: 'BAD_VALUE', message: field }, `${what}: names the field`);
  }
  t.same(await store.listTests(run.id), [], 'nothing registered, not even the good row of the batch');
  const [a] = (await call('registerTests', { runId: run.id, regs: [reg] })).body.result as TestRecord[];
  const base = { opId: 'o1', testId: a!.id, time: 1 };
  for (const [what, op, field] of [
    ['empty value name', { kind: 'data', ...base, name: '', value: '1', status: 'n/a' }, /schema|name/],
    [
      'value name with a newline',
      { kind: 'data', ...base, name: 'a\nb', value: '1', status: 'n/a' },
      /value name 'a\\nb' \(write ops\[0\]\.name\)/,
    ],
    ['step name with ESC', { kind: 'step', ...base, name: '\x1bc', state: 'RUNNING', status: 'n/a' }, /step name '\\x1bc'/],
    ['status with ESC', { kind: 'test', ...base, set: { status: 'P\x1b[8m' } }, /status 'P\\x1b\[8m' \(write ops\[0\]\.status\)/],
  ] as const) {
    const res = await call('write', { runId: run.id, ops: [op] });
    t.equal(res.status, 400, `${what}: 400`);
    t.match(res.body.error?.message, field, `${what}: says which field`);
  }
  const detail = await store.getTest(run.id, 'a', '');
  t.same([detail?.steps, detail?.data, detail?.status], [[], [], 'n/a'], 'nothing written');
  const job = { key: 'k', kind: 'wrap', testname: 'back\nup', host: 'h', state: 'RUNNING', status: 'n/a', start: 1, end: null };
  const res = await call('recordOutcome', { job });
  t.match(res, { status: 400, body: { error: { code: 'BAD_VALUE', message: /job name 'back\\nup'/ } } });
});

t.test('setRunParams refuses a value with a control character, and records nothing', async (t) => {
  const { store, call } = await setup(t);
  const run = await store.ensureRun(SPEC);
  const r = await call('setRunParams', { runId: run.id, params: { VERSION: '1.4', NOTE: 'a\u001b[2Jb' } });
  t.equal(r.status, 400);
  t.equal(r.body.error?.code, 'BAD_VALUE');
  t.match(r.body.error?.message, /setRunParams params\.NOTE: the value contains a control character/);
  t.same((await store.getRun(run.id))!.params, {}, 'nothing recorded');
});

t.test('writes carried by enqueueJobs and claimQueuedJobs are checked as a write of their own', async (t) => {
  const { store, call } = await setup(t);
  const run = (await call('ensureRun', { spec: SPEC })).body.result as RunRecord;
  const reg = { testname: 'a', itempath: '', priority: 0, rundir: '/w/a' };
  const [a] = (await call('registerTests', { runId: run.id, regs: [reg] })).body.result as TestRecord[];
  const badStep = { kind: 'step', opId: 'o1', testId: a!.id, time: 1, name: '\x1bc', state: 'RUNNING', status: 'n/a' };
  const carried = { runId: run.id, ops: [badStep], options: { who: 'tester' } };
  const liveness = { now: 1_700_000_000, deadtime: 10 };
  const request = {
    runId: run.id,
    testId: a!.id,
    launchId: 'L1',
    specFile: '/w/a/.trellis-job.json',
    target: run.target,
    runname: run.runname,
    label: 'a',
    tags: [],
    hosts: [],
    requeues: 1,
    runnerAgentId: 1,
  };
  const queued = await call('enqueueJobs', { requests: [request], liveness, launch: carried });
  t.match(queued, {
    status: 400,
    body: { error: { code: 'BAD_VALUE', message: /step name '\\x1bc' \(enqueueJobs launch\.ops\[0\]\.name\)/ } },
  });
  t.same(await store.listQueue(run.id, liveness), [], 'nothing queued');
  const agent = { name: 'a1', host: 'h1', user: 'u', pid: 1, procStart: null, slots: 1, tags: [], version: '0' };
  const { session } = (await call('registerPoolAgent', { spec: agent, load: null, liveness })).body.result as { session: string };
  const claimed = await call('claimQueuedJobs', {
    name: 'a1',
    session,
    max: 1,
    have: [],
    liveness,
    ended: [{ id: 1, note: 'x', writes: carried }],
  });
  t.match(claimed, {
    status: 400,
    body: { error: { code: 'BAD_VALUE', message: /step name '\\x1bc' \(claimQueuedJobs ended\[0\]\.writes\.ops\[0\]\.name\)/ } },
  });
  t.same((await store.getTest(run.id, 'a', ''))?.steps, [], 'nothing written');
});
