/**
 * Runners and dead tests with real processes: a live runner holds its run, a killed one is taken
 * over, a remote one lives by its heartbeat, and the tests of a dead agent are reaped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import t from 'tap';
import type { TrellisError } from '../../src/util/errors.js';
import { isPidAlive, processStartTime } from '../../src/util/process-info.js';
import { HOST, makeStore, NIGHTLY, nextOpId, regsFor, rowOf, setOp } from '../unit/store-fixture.js';

const SELF = { kind: 'runner' as const, host: HOST, pid: process.pid, procStart: processStartTime(process.pid) };

interface TeardownContext {
  teardown(fn: () => unknown): void;
}

/** Starts a node process that idles until killed (killed at teardown at the latest). */
async function startChild(t: TeardownContext): Promise<ChildProcess & { pid: number }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await once(child, 'spawn');
  return child as ChildProcess & { pid: number };
}

/** Kills a child and waits until it has been reaped. */
async function killChild(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

t.test('process info: start time and liveness of real processes', async (t) => {
  const start = processStartTime(process.pid);
  t.type(start, 'number');
  t.equal(isPidAlive(process.pid, start), true);
  t.equal(isPidAlive(process.pid, null), true);
  t.equal(isPidAlive(process.pid, (start ?? 0) + 1), false, 'same pid, other start time: a reused pid');
  t.equal(isPidAlive(0, null), false);
  t.equal(isPidAlive(-1, null), false);

  const child = await startChild(t);
  const childStart = processStartTime(child.pid);
  t.equal(isPidAlive(child.pid, childStart), true);
  await killChild(child);
  t.equal(isPidAlive(child.pid, childStart), false);
  t.equal(processStartTime(child.pid), null);
});

t.test('claimRun: a live runner on this host holds the run', async (t) => {
  const { store, clock } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const liveness = { now: clock.now, deadtime: 300 };
  const mine = await store.claimRun(run.id, SELF, liveness);
  t.match(mine, { kind: 'runner', host: HOST, pid: process.pid, started: 1000, heartbeat: 1000, ended: null });
  t.same(await store.claimRun(run.id, SELF, liveness), mine, 'claiming again returns the same agent');

  const child = await startChild(t);
  const other = { kind: 'runner' as const, host: HOST, pid: child.pid, procStart: processStartTime(child.pid) };
  const err = (await t.rejects(store.claimRun(run.id, other, liveness), { code: 'RUN_BUSY' })) as unknown as TrellisError;
  t.equal(
    err.toLine(),
    `run linux/x86_64/nightly is being run by pid ${process.pid} on host ${HOST} since 1970-01-01T00:16:40Z; ` +
      'wait for it, or use another run name',
  );
  t.same(
    (await store.listAgents(run.id)).map((a) => a.id),
    [mine.id],
  );

  const exec = await store.registerAgent(run.id, { ...other, kind: 'exec' });
  t.equal(exec.kind, 'exec', 'exec agents need no claim');
});

t.test('claimRun: the run of a killed runner is taken over', async (t) => {
  const { store, clock } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const child = await startChild(t);
  const dead = await store.claimRun(
    run.id,
    { kind: 'runner', host: HOST, pid: child.pid, procStart: processStartTime(child.pid) },
    { now: clock.now, deadtime: 300 },
  );
  await killChild(child);
  clock.now = 1010;
  const mine = await store.claimRun(run.id, SELF, { now: clock.now, deadtime: 300 });
  const agents = await store.listAgents(run.id);
  t.match(agents, [
    { id: dead.id, ended: 1010 },
    { id: mine.id, ended: null },
  ]);
  t.match(
    (await store.events(run.id, 0)).filter((e) => e.kind === 'agent').map((e) => e.detail),
    [/claimed/, `runner pid ${child.pid} on host ${HOST} found dead`, /claimed/],
  );
});

t.test('claimRun: a runner on another host lives by its heartbeat', async (t) => {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  // A pid that is alive here must not matter for another host.
  const far = await store.claimRun(
    run.id,
    { kind: 'runner', host: 'far', pid: process.pid, procStart: null },
    { now: 1000, deadtime: 300 },
  );
  await store.heartbeat(run.id, far.id, 1200);
  await t.rejects(store.claimRun(run.id, SELF, { now: 1400, deadtime: 300 }), { code: 'RUN_BUSY', message: /on host far/ });
  const mine = await store.claimRun(run.id, SELF, { now: 1500, deadtime: 300 });
  t.match(await store.listAgents(run.id), [{ id: far.id, heartbeat: 1200, ended: 1500 }, { id: mine.id }]);

  await store.endAgent(run.id, mine.id, 1600);
  const next = await store.claimRun(run.id, { ...SELF, pid: process.pid }, { now: 1601, deadtime: 300 });
  t.not(next.id, mine.id, 'an ended runner holds nothing, even with a live pid');
  await t.rejects(store.heartbeat(run.id, 999, 1), { code: 'BAD_VALUE' });
});

t.test('reapDead marks the tests of dead agents INCOMPLETE/DEAD', async (t) => {
  const { store, clock } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const rows = await store.registerTests(run.id, regsFor('alive', 'killed', 'remote', 'orphan', 'fresh', 'p', 'p/1', 'p/2'));
  const child = await startChild(t);
  const gone = await store.registerAgent(run.id, { kind: 'exec', host: HOST, pid: child.pid, procStart: processStartTime(child.pid) });
  const live = await store.registerAgent(run.id, SELF);
  const far = await store.registerAgent(run.id, { kind: 'exec', host: 'far', pid: 77, procStart: null });
  const id = (n: string) => rowOf(rows, n).id;
  const runOn = (n: string, agentId: number | null, time: number) => setOp(id(n), 'RUNNING', 'n/a', time, { start: time, agentId });
  await store.write(run.id, [
    runOn('alive', live.id, 1000),
    runOn('killed', gone.id, 1000),
    runOn('remote', far.id, 1000),
    runOn('orphan', null, 1000),
    runOn('p/1', gone.id, 1000),
    setOp(id('p/2'), 'COMPLETED', 'PASS', 1000, { start: 990, end: 995 }),
    { kind: 'step', opId: nextOpId(), testId: id('killed'), name: 'build', state: 'RUNNING', status: 'n/a', time: 1001 },
  ]);
  await killChild(child);

  clock.now = 1500;
  await store.write(run.id, [runOn('fresh', 12345, 1450)]);
  const reaped = await store.reapDead(run.id, { now: 1500, deadtime: 300 });
  t.same(reaped.map((r) => r.testname + (r.itempath ? `/${r.itempath}` : '')).sort(), ['killed', 'orphan', 'p/1', 'remote']);
  t.match(rowOf(reaped, 'killed'), {
    state: 'INCOMPLETE',
    status: 'DEAD',
    end: 1500,
    duration: 500,
    comment: `exec pid ${child.pid} on host ${HOST} is no longer running`,
  });
  t.match(rowOf(reaped, 'remote').comment, 'exec pid 77 on host far sent no heartbeat since 1970-01-01T00:16:40Z');
  t.match(rowOf(reaped, 'orphan').comment, /no live agent/);

  const after = await store.listTests(run.id);
  t.match(rowOf(after, 'alive'), { state: 'RUNNING' }, 'a live agent keeps its tests');
  t.match(rowOf(after, 'fresh'), { state: 'RUNNING' }, 'unknown agent, but updated within deadtime');
  t.match(rowOf(after, 'p'), { state: 'INCOMPLETE', status: 'DEAD' }, 'the parent follows its items');
  t.match((await store.getTestById(run.id, id('killed')))?.steps, [{ name: 'build', state: 'KILLED', end: 1500 }]);
  t.match(await store.listAgents(run.id), [
    { id: gone.id, ended: 1500 },
    { id: live.id, ended: null },
    { id: far.id, ended: 1500 },
  ]);
  t.match(await store.getRun(run.id), { state: 'running', status: 'DEAD', counts: { DEAD: 4, 'n/a': 2 } });
  t.same(await store.reapDead(run.id, { now: 1500, deadtime: 300 }), [], 'nothing left to reap');
});

t.test('reapDead: the launches a dead runner journaled, and the store never got, are reaped as its tests', async (t) => {
  const { dir, store, clock } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const names = ['ended', 'running', 'landed', 'later', 'rerun', 'outside', 'torn', 'mine'];
  const rows = await store.registerTests(run.id, regsFor(...names));
  const id = (n: string) => rowOf(rows, n).id;
  const work = (n: string) => path.join(dir, 'linux', 'nightly', n);
  for (const n of names) {
    fs.mkdirSync(work(n), { recursive: true });
    fs.writeFileSync(
      path.join(work(n), '.trellis-job.json'),
      JSON.stringify({ version: 1, kind: 'local', def: { steps: [{ name: 's' }] } }),
    );
  }
  fs.writeFileSync(path.join(work('ended'), 's.exit'), '0\n');
  fs.writeFileSync(path.join(work('rerun'), 's.exit'), '2\n');
  // `running`'s step: a process leading its own group, as the spawner starts steps.
  const step = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', detached: true });
  t.teardown(() => {
    if (step.exitCode === null && step.signalCode === null) step.kill('SIGKILL');
  });
  await once(step, 'spawn');
  const stepExit = once(step, 'exit');
  fs.writeFileSync(path.join(work('running'), 's.group'), fs.readFileSync(`/proc/${step.pid}/stat`, 'utf8'));

  const runner = await startChild(t);
  const dead = await store.claimRun(
    run.id,
    { kind: 'runner', host: HOST, pid: runner.pid, procStart: processStartTime(runner.pid) },
    { now: 1000, deadtime: 300 },
  );
  await store.write(run.id, [
    setOp(id('landed'), 'LAUNCHED', 'n/a', 1050, { agentId: dead.id, start: 1050 }),
    setOp(id('later'), 'COMPLETED', 'PASS', 1200, { start: 1150, end: 1200 }),
    setOp(id('rerun'), 'COMPLETED', 'FAIL', 1000, { start: 990, end: 1000 }),
    { kind: 'step', opId: nextOpId(), testId: id('rerun'), name: 'old', state: 'COMPLETED', status: 'FAIL', time: 1000 },
  ]);
  const launchesDir = path.join(dir, '.meta', 'launches');
  fs.mkdirSync(launchesDir, { recursive: true });
  const line = (n: string, dirOf = work(n)) => `${JSON.stringify({ test: id(n), at: 1100, dir: dirOf })}\n`;
  const deadJournal = path.join(launchesDir, `${run.id}-${dead.id}`);
  fs.writeFileSync(
    deadJournal,
    ['ended', 'running', 'landed', 'later', 'rerun'].map((n) => line(n)).join('') +
      line('outside', '/tmp/not-in-the-run-area') +
      line('torn').slice(0, 20),
  );
  await killChild(runner);

  // This process takes the run over (the dead runner is ended on the way); its journal is its own.
  clock.now = 1300;
  const mine = await store.claimRun(run.id, SELF, { now: 1300, deadtime: 300 });
  const liveJournal = path.join(launchesDir, `${run.id}-${mine.id}`);
  fs.writeFileSync(liveJournal, line('mine'));

  const reaped = await store.reapDead(run.id, { now: 1300, deadtime: 300 });
  t.same(reaped.map((r) => r.testname).sort(), ['ended', 'landed', 'rerun', 'running']);
  const after = await store.listTests(run.id);
  t.match(rowOf(after, 'ended'), { state: 'COMPLETED', status: 'PASS', start: 1100, agentId: dead.id, rundir: work('ended') });
  t.match(rowOf(after, 'ended').comment, /recovered from the exit files/);
  t.match(rowOf(after, 'running'), { state: 'INCOMPLETE', status: 'DEAD', start: 1100 });
  await stepExit;
  t.equal(step.signalCode, 'SIGKILL', "the journaled test's running step was ended through its group file");
  t.match(rowOf(after, 'landed'), { state: 'INCOMPLETE', status: 'DEAD', start: 1050 }, 'a launch that landed is reaped as before');
  t.match(rowOf(after, 'later'), { state: 'COMPLETED', status: 'PASS', end: 1200 }, 'a row that moved on after the launch is left alone');
  t.match(
    rowOf(after, 'rerun'),
    { state: 'COMPLETED', status: 'WARN', start: 1100 },
    "a rerun's reset that never landed: the new attempt counts",
  );
  t.same(
    (await store.getTestById(run.id, id('rerun')))?.steps.map((s) => `${s.name} ${s.status}`),
    ['s WARN'],
    'the steps of the attempt before are gone',
  );
  for (const n of ['outside', 'torn', 'mine']) t.match(rowOf(after, n), { state: 'NOT_STARTED' }, `${n} is left alone`);
  t.notOk(fs.existsSync(deadJournal), "the dead runner's journal is removed once read");
  t.ok(fs.existsSync(liveJournal), "a live runner's journal is its own");
  t.match(
    (await store.events(run.id, 0)).filter((e) => e.testId === id('ended') && e.kind === 'agent').map((e) => e.detail),
    [`launched by runner pid ${runner.pid} on host ${HOST} (from its launch journal)`],
  );
  t.same(await store.reapDead(run.id, { now: 1300, deadtime: 300 }), [], 'nothing left to reap');
  const other = path.join(launchesDir, `${run.id + 1}-1`);
  fs.writeFileSync(other, '');
  await store.removeRun(run.id);
  t.notOk(fs.existsSync(liveJournal), 'removing the run removes its journals');
  t.ok(fs.existsSync(other), "and no other run's");
});
