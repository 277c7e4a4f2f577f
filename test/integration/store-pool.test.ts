/**
 * The agent pool in a real main.db (store/pool.ts): agents registering (a live name refused, a dead
 * one's name taken over), heartbeats and drain requests, jobs taken each once and only by agents
 * that fit, a job no live agent can take failed at once, an agent that dies with a job (the job
 * queued again once, to another agent, then failed), a job taken but never begun handed back, lost
 * claim answers given again, cancel, and the write fence that keeps a late exec off a requeued row.
 * Agents here are on other hosts than the store's, so their heartbeats decide; the clock is the
 * fixture's.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import type { JobRequest, PoolAgentSpec } from '../../src/model/pool.js';
import type { TrellisError } from '../../src/util/errors.js';
import { makeStore, NIGHTLY, nextOpId, regsFor, rowOf, setOp } from '../unit/store-fixture.js';
import { processStartTime } from '../../src/util/process-info.js';

const DEAD = 10;
const agentSpec = (name: string, tags: string[], host = `${name}-host`): PoolAgentSpec => ({
  name,
  host,
  user: 'tester',
  pid: 4242,
  procStart: null,
  slots: 2,
  tags,
  version: '0.1.0',
});

async function setUp(t: Parameters<typeof makeStore>[0]) {
  const fx = makeStore(t);
  const { store, clock } = fx;
  const run = await store.ensureRun(NIGHTLY);
  const rows = await store.registerTests(run.id, regsFor('a', 'b', 'c', 'd'));
  const runner = await store.claimRun(
    run.id,
    { kind: 'runner', host: 'here', pid: process.pid, procStart: processStartTime(process.pid) },
    { now: clock.now, deadtime: DEAD },
  );
  const live = () => ({ now: clock.now, deadtime: DEAD });
  /** Marks the test LAUNCHED (as the runner does) and queues it. */
  const launch = async (name: string, extra: Partial<JobRequest> = {}) => {
    const row = rowOf(rows, name);
    const launchId = `L-${name}-${nextOpId()}`;
    await store.write(run.id, [setOp(row.id, 'LAUNCHED', 'n/a', clock.now, { agentId: runner.id, launcher: 'agents', launchId })]);
    const [job] = await store.enqueueJobs(
      [
        {
          runId: run.id,
          testId: row.id,
          launchId,
          specFile: `/runs/${name}/.trellis-job.json`,
          target: run.target,
          runname: run.runname,
          label: name,
          tags: [],
          hosts: [],
          requeues: 1,
          runnerAgentId: runner.id,
          ...extra,
        },
      ],
      live(),
    );
    return job!;
  };
  return { ...fx, run, rows, runner, live, launch };
}

t.test('registering: a live name is refused, a dead one taken over; heartbeats; drain; leave', async (t) => {
  const { store, clock, live } = await setUp(t);
  const a1 = await store.registerPoolAgent(agentSpec('a1', ['linux']), 0.5, live());
  t.match(a1, { name: 'a1', state: 'running', slots: 2, tags: ['linux'] });
  const err = await store.registerPoolAgent({ ...agentSpec('a1', []), pid: 999 }, null, live()).then(
    () => undefined,
    (e: TrellisError) => e,
  );
  t.equal(err?.code, 'AGENT_BUSY', 'a second live agent of the same name is refused');
  t.match(err?.message, /agent a1 is already running as pid 4242 on host a1-host/);

  clock.now += 5;
  t.same(await store.poolHeartbeat({ name: 'a1', session: a1.session, time: clock.now, load: 1 }), { drain: false });
  let hosts = await store.listHosts(live());
  t.match(hosts, [{ name: 'a1', status: 'idle', load: 1, heartbeat: clock.now }]);

  await store.drainPoolAgent('a1');
  t.same(await store.poolHeartbeat({ name: 'a1', session: a1.session, time: clock.now, load: 1 }), { drain: true }, 'told to drain');
  hosts = await store.listHosts(live());
  t.equal(hosts[0]?.status, 'draining');
  const none = await store.drainPoolAgent('nosuch').then(
    () => undefined,
    (e: TrellisError) => e,
  );
  t.equal(none?.code, 'NO_AGENT');
  t.match(none?.hint, /known: a1/);

  await store.leavePool('a1', a1.session);
  t.equal((await store.listHosts(live()))[0]?.status, 'offline', 'left: offline');

  // Its heartbeat went silent: after the deadtime another process may take the name.
  const b = await store.registerPoolAgent(agentSpec('b', []), null, live());
  clock.now += DEAD + 1;
  t.equal((await store.listHosts(live())).find((h) => h.name === 'b')?.status, 'offline', 'no heartbeat for the deadtime: offline');
  const b2 = await store.registerPoolAgent({ ...agentSpec('b', []), pid: 777 }, null, live());
  t.not(b2.session, b.session, 'a new session');
  const gone = await store.poolHeartbeat({ name: 'b', session: b.session, time: clock.now, load: null }).then(
    () => undefined,
    (e: TrellisError) => e,
  );
  t.equal(gone?.code, 'AGENT_GONE', "the old session's heartbeat is refused");
});

t.test('jobs go to agents that fit, each once; a job no agent can take fails at once', async (t) => {
  const { store, live, launch } = await setUp(t);
  const gpu = await store.registerPoolAgent(agentSpec('gpu1', ['linux', 'gpu']), null, live());
  const arm = await store.registerPoolAgent(agentSpec('arm1', ['linux', 'arm']), null, live());
  const ja = await launch('a', { tags: ['gpu'] });
  const jb = await launch('b', { tags: ['arm'] });
  const jc = await launch('c', { hosts: ['arm1-host'] });
  const jd = await launch('d', { tags: ['sparc'] });
  t.equal(jd.state, 'failed', 'a job no live agent can take fails when queued');
  t.match(jd.note, /no live agent can take it \(it needs tags sparc; live agents: arm1 \(linux,arm\), gpu1 \(linux,gpu\)\)/);

  const byArm = await store.claimQueuedJobs('arm1', arm.session, 2, [], live());
  t.same(
    byArm.map((j) => j.label),
    ['b', 'c'],
    'arm1 takes the arm job and the one placed on its host',
  );
  const byGpu = await store.claimQueuedJobs('gpu1', gpu.session, 2, [], live());
  t.same(
    byGpu.map((j) => j.label),
    ['a'],
    'gpu1 takes the gpu job',
  );
  t.same(await store.claimQueuedJobs('gpu1', gpu.session, 2, [ja.id], live()), [], 'nothing left');
  // An answer lost on the way: the next call gives the jobs again.
  t.same(
    (await store.claimQueuedJobs('arm1', arm.session, 2, [], live())).map((j) => j.label),
    ['b', 'c'],
    'the jobs a session holds and did not list come again',
  );
  t.same(await store.claimQueuedJobs('arm1', arm.session, 2, [jb.id, jc.id], live()), [], 'listed: nothing new');
  const hosts = await store.listHosts(live());
  t.match(
    hosts.map((h) => [h.name, h.status, h.jobs.map((j) => j.label)]),
    [
      ['arm1', 'busy', ['b', 'c']],
      ['gpu1', 'busy', ['a']],
    ],
  );
  await store.endQueuedJob(ja.id, 'gpu1', gpu.session, 'COMPLETED/PASS');
  t.equal((await store.listHosts(live())).find((h) => h.name === 'gpu1')?.status, 'idle');
});

t.test('an agent that dies with a running job: queued again once, to another agent; then failed', async (t) => {
  const { store, clock, run, rows, live, launch } = await setUp(t);
  const a1 = await store.registerPoolAgent(agentSpec('a1', ['linux']), null, live());
  const a2 = await store.registerPoolAgent(agentSpec('a2', ['linux']), null, live());
  const job = await launch('a', { tags: ['linux'] });
  const row = rowOf(rows, 'a');
  t.same(
    (await store.claimQueuedJobs('a1', a1.session, 1, [], live())).map((j) => j.id),
    [job.id],
  );
  const exec1 = await store.claimJob(
    run.id,
    row.id,
    job.launchId,
    { kind: 'exec', host: 'a1-host', pid: 4242, procStart: null, poolAgent: 'a1' },
    live(),
  );
  t.equal(exec1.test.jobId, 'a1', 'the test names the agent');
  await store.write(run.id, [setOp(row.id, 'RUNNING', 'n/a', clock.now)], { asAgent: exec1.agent.id });

  // a1 goes silent; a2 keeps beating. Within the deadtime nothing moves.
  clock.now += DEAD - 1;
  await store.poolHeartbeat({ name: 'a2', session: a2.session, time: clock.now, load: null });
  t.equal((await store.reapDead(run.id, live())).length, 0, 'within the deadtime: alive');
  clock.now += 2;
  await store.poolHeartbeat({ name: 'a2', session: a2.session, time: clock.now, load: null });
  t.same(await store.reapDead(run.id, live()), [], 'past it: not reaped but queued again');
  let back = (await store.getTestById(run.id, row.id))!;
  t.match(back, { state: 'LAUNCHED', launchId: job.launchId, host: '' });
  t.match(back.comment, /agent a1 on host a1-host sent no heartbeat since .*; queued again for another agent/);
  const [again] = await store.listQueue(run.id, live());
  t.match(again, { state: 'queued', tried: ['a1'], requeuesLeft: 0 });

  // The first exec comes back late: its writes no longer reach the row.
  await store.write(run.id, [setOp(row.id, 'COMPLETED', 'FAIL', clock.now)], { asAgent: exec1.agent.id });
  t.equal((await store.getTestById(run.id, row.id))?.state, 'LAUNCHED', "a late exec's write is dropped");

  // a1 (back under a new session) may not take it again; a2 may.
  const a1b = await store.registerPoolAgent({ ...agentSpec('a1', ['linux']), pid: 5000 }, null, live());
  t.same(await store.claimQueuedJobs('a1', a1b.session, 1, [], live()), [], 'not to the agent it died with');
  t.same(
    (await store.claimQueuedJobs('a2', a2.session, 1, [], live())).map((j) => j.id),
    [job.id],
    'a2 takes it',
  );
  const exec2 = await store.claimJob(
    run.id,
    row.id,
    job.launchId,
    { kind: 'exec', host: 'a2-host', pid: 4242, procStart: null, poolAgent: 'a2' },
    live(),
  );
  await store.write(run.id, [setOp(row.id, 'RUNNING', 'n/a', clock.now)], { asAgent: exec2.agent.id });

  // a2 dies too: no requeue left, the test is reaped, the job failed.
  clock.now += DEAD + 1;
  await store.poolHeartbeat({ name: 'a1', session: a1b.session, time: clock.now, load: null });
  const reaped = await store.reapDead(run.id, live());
  t.same(
    reaped.map((r) => [r.testname, r.state, r.status]),
    [['a', 'INCOMPLETE', 'DEAD']],
  );
  t.match(reaped[0]?.comment, /agent a2 on host a2-host sent no heartbeat/);
  back = (await store.getTestById(run.id, row.id))!;
  t.equal(back.jobId, 'a2');
  const [failed] = await store.listQueue(run.id, live());
  t.match(failed, { state: 'failed', note: /agent a2/ });
});

t.test('a job taken but not begun goes back as it was; a queued one can be cancelled', async (t) => {
  const { store, clock, live, launch } = await setUp(t);
  const a1 = await store.registerPoolAgent(agentSpec('a1', []), null, live());
  const a2 = await store.registerPoolAgent(agentSpec('a2', []), null, live());
  const ja = await launch('a');
  t.equal((await store.claimQueuedJobs('a1', a1.session, 1, [], live())).length, 1);
  clock.now += DEAD + 1;
  await store.poolHeartbeat({ name: 'a2', session: a2.session, time: clock.now, load: null });
  const q = await store.listQueue(ja.runId, live());
  t.match(q, [{ id: ja.id, state: 'queued', tried: [], requeuesLeft: 1 }], 'handed back without using its requeue');
  t.equal((await store.claimQueuedJobs('a2', a2.session, 1, [], live()))[0]?.id, ja.id);

  const jb = await launch('b');
  t.match(await store.cancelQueuedJob(jb.launchId), { state: 'cancelled' });
  t.same(await store.claimQueuedJobs('a2', a2.session, 1, [ja.id], live()), [], 'a cancelled job is not taken');
  t.match(await store.cancelQueuedJob(ja.launchId), { state: 'claimed' }, 'a taken one is not cancelled here');
});

t.test('a drained agent takes nothing new; the change feed follows the pool', async (t) => {
  const { store, live, launch } = await setUp(t);
  const a1 = await store.registerPoolAgent(agentSpec('a1', []), null, live());
  const before = await store.changes({ runsSeq: 0, runs: {}, poolSeq: 0 });
  const cursor = before.cursor;
  t.ok(before.poolChanged, 'a first look reports the pool');
  const quiet = await store.changes(cursor);
  t.notOk(quiet.poolChanged, 'nothing since');
  await store.poolHeartbeat({ name: 'a1', session: a1.session, time: 1001, load: null });
  t.notOk((await store.changes(cursor)).poolChanged, 'a heartbeat is no change');
  const ja = await launch('a');
  const after = await store.changes(cursor);
  t.ok(after.poolChanged, 'a queued job is');
  await store.drainPoolAgent('a1');
  t.same(await store.claimQueuedJobs('a1', a1.session, 2, [], live()), [], 'draining: nothing new');
  t.equal((await store.listQueue(ja.runId, live()))[0]?.state, 'failed', 'and with no other agent the job fails');
});

t.test("an agent's next claim carries the ends of its jobs: one request, not two", async (t) => {
  const { store, run, rows, live, launch } = await setUp(t);
  const a1 = await store.registerPoolAgent(agentSpec('a1', []), null, live());
  const exec = { kind: 'exec' as const, host: 'a1-host', pid: 4242, procStart: null, poolAgent: 'a1' };
  const ja = await launch('a');
  const [taken] = await store.claimQueuedJobs('a1', a1.session, 1, [], live(), exec);
  t.equal(taken?.id, ja.id);
  t.match(
    taken?.claim,
    { agent: { kind: 'exec', host: 'a1-host' }, test: { jobId: 'a1' } },
    "the test claimed for the agent's exec with it",
  );
  t.equal((await store.getTestById(run.id, rowOf(rows, 'a').id))?.jobId, 'a1');
  const jb = await launch('b');
  const next = await store.claimQueuedJobs('a1', a1.session, 1, [], live(), exec, [
    { id: ja.id, note: 'COMPLETED/PASS', execAgentId: taken!.claim!.agent.id },
  ]);
  t.same(
    next.map((j) => j.id),
    [jb.id],
    'the next job, not the ended one again',
  );
  t.match(await store.listQueue(run.id, live()), [
    { id: ja.id, state: 'ended', note: 'COMPLETED/PASS' },
    { id: jb.id, state: 'claimed' },
  ]);
  const execAgent = (await store.listAgents(run.id)).find((a) => a.id === taken!.claim!.agent.id);
  t.not(execAgent?.ended, null, 'its exec agent ended with it');
});

/** Agent a1 has taken the jobs of tests a and b, each claimed for its exec. */
async function twoTaken(t: Parameters<typeof makeStore>[0]) {
  const fx = await setUp(t);
  const { store, live, launch } = fx;
  const a1 = await store.registerPoolAgent(agentSpec('a1', []), null, live());
  const exec = { kind: 'exec' as const, host: 'a1-host', pid: 4242, procStart: null, poolAgent: 'a1' };
  const ja = await launch('a');
  const jb = await launch('b');
  const [takenA, takenB] = await store.claimQueuedJobs('a1', a1.session, 2, [], live(), exec);
  return { ...fx, a1, exec, ja, jb, takenA, takenB };
}

t.test("an end carries the job's last writes: in before the job ends; writes that cannot go in end it with why", async (t) => {
  const { store, clock, run, rows, live, a1, exec, ja, jb, takenA, takenB } = await twoTaken(t);
  const a = rowOf(rows, 'a').id;
  const b = rowOf(rows, 'b').id;
  const end = (id: number, execAgentId: number, ops: ReturnType<typeof setOp>[], force = false) => ({
    id,
    note: 'COMPLETED/PASS',
    execAgentId,
    writes: { runId: run.id, ops, options: { who: 'tester', asAgent: execAgentId, ...(force ? { force } : {}) } },
  });
  const passA = setOp(a, 'COMPLETED', 'PASS', clock.now);
  await store.claimQueuedJobs('a1', a1.session, 1, [], live(), exec, [end(ja.id, takenA!.claim!.agent.id, [passA])]);
  t.match(await store.getTestById(run.id, a), { state: 'COMPLETED', status: 'PASS' }, "the job's end is in the run");
  t.match(await store.listQueue(run.id, live()), [{ id: ja.id, state: 'ended', note: 'COMPLETED/PASS' }, { id: jb.id }]);
  // the same end again (an answer lost with a server): nothing changes twice
  await store.claimQueuedJobs('a1', a1.session, 1, [], live(), exec, [end(ja.id, takenA!.claim!.agent.id, [passA])]);
  t.equal((await store.events(run.id, 0)).filter((e) => e.testId === a && e.detail.includes('COMPLETED')).length, 1);

  // the run is locked meanwhile: b's end cannot go in; the job ends with why, the test is left to the reaper
  await store.setRunState(run.id, 'locked');
  await store.claimQueuedJobs('a1', a1.session, 1, [], live(), exec, [
    end(jb.id, takenB!.claim!.agent.id, [setOp(b, 'COMPLETED', 'PASS', clock.now)]),
  ]);
  t.match(await store.listQueue(run.id, live()), [
    { id: ja.id },
    { id: jb.id, state: 'ended', note: /COMPLETED\/PASS; its results could not be recorded: .*locked/ },
  ]);
  t.not((await store.getTestById(run.id, b))?.state, 'COMPLETED', 'nothing of it written');
});

t.test('one claim, two ends: the write that is refused is undone alone; the other stands and the next job is claimed', async (t) => {
  const { store, clock, run, rows, live, launch, a1, exec, ja, jb, takenA, takenB } = await twoTaken(t);
  const jc = await launch('c');
  const a = rowOf(rows, 'a').id;
  const b = rowOf(rows, 'b').id;
  const execA = takenA!.claim!.agent.id;
  const execB = takenB!.claim!.agent.id;
  // b's write starts it, then fails on its second op (a step state no version writes): the
  // first op must not stay behind
  const bogusStep = {
    kind: 'step' as const,
    opId: nextOpId(),
    testId: b,
    name: 'x',
    state: 'BOGUS' as 'RUNNING',
    status: 'n/a',
    time: clock.now,
  };
  const next = await store.claimQueuedJobs('a1', a1.session, 2, [], live(), exec, [
    {
      id: ja.id,
      note: 'COMPLETED/PASS',
      execAgentId: execA,
      writes: { runId: run.id, ops: [setOp(a, 'COMPLETED', 'PASS', clock.now)], options: { asAgent: execA } },
    },
    {
      id: jb.id,
      note: 'COMPLETED/FAIL',
      execAgentId: execB,
      writes: { runId: run.id, ops: [setOp(b, 'RUNNING', 'n/a', clock.now), bogusStep], options: { asAgent: execB } },
    },
  ]);
  t.same(
    next.map((j) => j.id),
    [jc.id],
    'the next job is claimed in the same call',
  );
  t.match(await store.getTestById(run.id, a), { state: 'COMPLETED', status: 'PASS' }, "a's end is in");
  t.match(await store.getTestById(run.id, b), { state: 'LAUNCHED' }, 'nothing of b written, not even its first op');
  t.match(await store.listQueue(run.id, live()), [
    { id: ja.id, state: 'ended', note: 'COMPLETED/PASS' },
    { id: jb.id, state: 'ended', note: /^COMPLETED\/FAIL; its results could not be recorded: / },
    { id: jc.id, state: 'claimed' },
  ]);
  const agents = await store.listAgents(run.id);
  t.ok(
    [execA, execB].every((id) => agents.find((x) => x.id === id)?.ended !== null),
    'both exec agents ended with their jobs',
  );
});

t.test("a run's limit is kept by the queue: no more of its jobs claimed at once, whichever agent asks", async (t) => {
  const { store, run, live, launch } = await setUp(t);
  const a1 = await store.registerPoolAgent(agentSpec('a1', []), null, live());
  const a2 = await store.registerPoolAgent(agentSpec('a2', []), null, live());
  const ja = await launch('a', { runLimit: 2 });
  const jb = await launch('b', { runLimit: 2 });
  const jc = await launch('c', { runLimit: 2 });
  t.match(ja, { runLimit: 2 }, 'the queue row keeps the limit');
  const first = await store.claimQueuedJobs('a1', a1.session, 3, [], live());
  t.same(
    first.map((j) => j.id),
    [ja.id, jb.id],
    'a1 has room for 3 and gets 2: the run allows 2 at once',
  );
  t.same(await store.claimQueuedJobs('a2', a2.session, 2, [], live()), [], 'a2, idle, gets none of them');
  // a's end comes with a1's next claim: in the same call there is room for c
  const next = await store.claimQueuedJobs('a1', a1.session, 2, [jb.id], live(), undefined, [{ id: ja.id, note: 'COMPLETED/PASS' }]);
  t.same(
    next.map((j) => j.id),
    [jc.id],
    'the end makes room for the next, in the same claim',
  );
  t.match(await store.listQueue(run.id, live()), [
    { id: ja.id, state: 'ended' },
    { id: jb.id, state: 'claimed' },
    { id: jc.id, state: 'claimed' },
  ]);
});

t.test("enqueueJobs carries the jobs' launch writes: in before they are queued; refused, nothing is queued", async (t) => {
  const { store, clock, run, rows, runner, live } = await setUp(t);
  const a1 = await store.registerPoolAgent(agentSpec('a1', []), null, live());
  const exec = { kind: 'exec' as const, host: 'a1-host', pid: 4242, procStart: null, poolAgent: 'a1' };
  const request = (name: string, launchId: string): JobRequest => ({
    runId: run.id,
    testId: rowOf(rows, name).id,
    launchId,
    specFile: `/runs/${name}/.trellis-job.json`,
    target: run.target,
    runname: run.runname,
    label: name,
    tags: [],
    hosts: [],
    requeues: 1,
    runnerAgentId: runner.id,
  });
  const launchOp = (name: string, launchId: string) =>
    setOp(rowOf(rows, name).id, 'LAUNCHED', 'n/a', clock.now, { agentId: runner.id, launcher: 'agents', launchId });
  const ops = [launchOp('a', 'L-a'), launchOp('b', 'L-b')];
  const launch = { runId: run.id, ops, options: { who: 'tester' } };
  const queued = await store.enqueueJobs([request('a', 'L-a'), request('b', 'L-b')], live(), launch);
  t.match(queued, [
    { state: 'queued', label: 'a' },
    { state: 'queued', label: 'b' },
  ]);
  t.match(await store.getTestById(run.id, rowOf(rows, 'a').id), { state: 'LAUNCHED', launchId: 'L-a' }, 'the launch is in the run');
  // An agent can take them at once: each test carries its launch id.
  const taken = await store.claimQueuedJobs('a1', a1.session, 2, [], live(), exec);
  t.same(
    taken.map((j) => j.claim?.test.launchId),
    ['L-a', 'L-b'],
    'both claimed for the exec',
  );
  // Sent again (an answer lost with a server): each write and each job once.
  await store.enqueueJobs([request('a', 'L-a'), request('b', 'L-b')], live(), launch);
  t.equal((await store.listQueue(run.id, live())).length, 2, 'queued once');
  t.equal((await store.events(run.id, 0)).filter((e) => e.testId === rowOf(rows, 'a').id && e.detail.includes('LAUNCHED')).length, 1);

  // A launch the run refuses (locked): the call fails and nothing is queued.
  await store.setRunState(run.id, 'locked');
  await t.rejects(
    store.enqueueJobs([request('c', 'L-c')], live(), { runId: run.id, ops: [launchOp('c', 'L-c')], options: { who: 'tester' } }),
    { code: 'RUN_LOCKED' },
  );
  t.equal((await store.listQueue(run.id, live())).length, 2, 'c was not queued');
  t.match(await store.getTestById(run.id, rowOf(rows, 'c').id), { state: 'NOT_STARTED' });
});

t.test('a spec queued with its job goes to the agent that takes it, and is kept only while the job may run', async (t) => {
  const { store, clock, dir, run, live, launch } = await setUp(t);
  const a1 = await store.registerPoolAgent(agentSpec('a1', []), null, live());
  const a2 = await store.registerPoolAgent(agentSpec('a2', []), null, live());
  const exec = (name: string) => ({ kind: 'exec' as const, host: `${name}-host`, pid: 4242, procStart: null, poolAgent: name });
  const spec = { version: 1, kind: 'remote', testname: 'a', env: { X: '1' } };
  const ja = await launch('a', { spec });
  t.notOk('spec' in ja, 'the queue answers without it');
  t.notOk(
    (await store.listQueue(run.id, live())).some((j) => 'spec' in j),
    'listings carry no specs',
  );
  const [taken] = await store.claimQueuedJobs('a1', a1.session, 1, [], live(), exec('a1'));
  t.same(taken?.spec, spec, 'the agent gets it with the job');
  t.notOk(
    (await store.listHosts(live())).some((h) => h.jobs.some((j) => 'spec' in j)),
    'the hosts view carries none',
  );
  const specCell = () => {
    const db = new Database(path.join(dir, '.db', 'main.db'), { readonly: true });
    try {
      return (db.prepare('SELECT spec FROM job_queue WHERE id = ?').get(ja.id) as { spec: string | null }).spec;
    } finally {
      db.close();
    }
  };
  // a1 goes silent with the job running: queued again, and the next agent gets the spec too.
  await store.write(run.id, [setOp(ja.testId, 'RUNNING', 'n/a', clock.now)], { asAgent: taken!.claim!.agent.id });
  clock.now += DEAD + 1;
  await store.poolHeartbeat({ name: 'a2', session: a2.session, time: clock.now, load: null });
  const [again] = await store.claimQueuedJobs('a2', a2.session, 1, [], live(), exec('a2'));
  t.equal(again?.id, ja.id, 'a2 takes it once a1 is gone');
  t.same(again?.spec, spec, 'with its spec');
  t.ok(specCell(), 'kept while it may run');
  await store.claimQueuedJobs('a2', a2.session, 0, [], live(), exec('a2'), [
    { id: ja.id, note: 'COMPLETED/PASS', execAgentId: again!.claim!.agent.id },
  ]);
  t.match(await store.listQueue(run.id, live()), [{ id: ja.id, state: 'ended' }]);
  t.equal(specCell(), null, 'dropped once the job ended');
});

t.test('one claim of several jobs: a test that cannot be claimed ends its job, the others are claimed', async (t) => {
  const { store, run, rows, live, launch } = await setUp(t);
  const a1 = await store.registerPoolAgent(agentSpec('a1', []), null, live());
  const exec = { kind: 'exec' as const, host: 'a1-host', pid: 4242, procStart: null, poolAgent: 'a1' };
  const ja = await launch('a');
  const jb = await launch('b');
  const jc = await launch('c');
  // b is killed before an agent takes it; c's row is removed.
  await store.write(run.id, [setOp(rowOf(rows, 'b').id, 'KILLED', 'ABORT', 1000)]);
  await store.removeTests(run.id, [rowOf(rows, 'c').id]);
  const taken = await store.claimQueuedJobs('a1', a1.session, 3, [], live(), exec);
  t.same(
    taken.map((j) => j.id),
    [ja.id],
    'only a is given',
  );
  t.match(taken[0]?.claim, { test: { id: rowOf(rows, 'a').id, jobId: 'a1' } });
  t.match(await store.listQueue(run.id, live()), [
    { id: ja.id, state: 'claimed' },
    { id: jb.id, state: 'ended', note: /^not run: .*KILLED/ },
    { id: jc.id, state: 'ended', note: /^not run: .*no test with id/ },
  ]);
});

t.test("an agent that dies before its job's first writes landed: the job may have begun, so it counts as running", async (t) => {
  const { store, clock, run, rows, live, launch } = await setUp(t);
  const a1 = await store.registerPoolAgent(agentSpec('a1', []), null, live());
  const a2 = await store.registerPoolAgent(agentSpec('a2', []), null, live());
  const exec = { kind: 'exec' as const, host: 'a1-host', pid: 4242, procStart: null, poolAgent: 'a1' };
  const ja = await launch('a');
  const jb = await launch('b', { requeues: 0 });
  const taken = await store.claimQueuedJobs('a1', a1.session, 2, [], live(), exec);
  t.same(
    taken.map((j) => j.id),
    [ja.id, jb.id],
  );
  t.match(
    await store.getTestById(run.id, rowOf(rows, 'a').id),
    { state: 'LAUNCHED', host: 'a1-host' },
    "claimed for a1's exec, nothing else written",
  );
  clock.now += DEAD + 1;
  await store.poolHeartbeat({ name: 'a2', session: a2.session, time: clock.now, load: null });
  t.match(
    await store.listQueue(run.id, live()),
    [
      { id: ja.id, state: 'queued', tried: ['a1'], requeuesLeft: 0 },
      { id: jb.id, state: 'failed', note: /agent a1 on host a1-host sent no heartbeat/ },
    ],
    'a goes back using its requeue, not to a1; b, with none left, fails',
  );
  t.match(await store.getTestById(run.id, rowOf(rows, 'a').id), {
    state: 'LAUNCHED',
    host: '',
    comment: /sent no heartbeat since .*; queued again for another agent/,
  });
  t.match(await store.getTestById(run.id, rowOf(rows, 'b').id), { state: 'INCOMPLETE', status: 'DEAD' });
});
