/**
 * Jobs run by `trellis exec`, in a real direct store: claiming a launched job once, and the reaper
 * recovering what a dead runner or exec left in the work folder (exit files) and ending the steps
 * it left running (real processes in their own groups), those whose pid never reached the
 * database too (their group files).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import t from 'tap';
import type { TrellisError } from '../../src/util/errors.js';
import { StepProcess } from '../../src/runner/step-process.js';
import { jobSpecFile, readStepGroup, stepExitFile, stepGroupFile, stepLogFile, stepVerdictFile } from '../../src/store/job-files.js';
import { processStartTime } from '../../src/util/process-info.js';
import { waitUntil } from '../helpers/run-e2e.js';
import { HOST, makeStore, NIGHTLY, nextOpId, setOp } from '../unit/store-fixture.js';

const LIVENESS = { deadtime: 60 };
const execAgent = (pid: number) => ({ kind: 'exec' as const, host: HOST, pid, procStart: processStartTime(pid) });

/** A run with one test launched as `launchId` by runner agent (this process). */
async function launched(t: { testdir(): string; teardown(fn: () => unknown): void }, launchId: string) {
  const fx = makeStore(t);
  const run = await fx.store.ensureRun(NIGHTLY);
  const workDir = path.join(fx.dir, 'work', 'a');
  fs.mkdirSync(workDir, { recursive: true });
  const [row] = await fx.store.registerTests(run.id, [{ testname: 'a', itempath: '', priority: 0, rundir: workDir }]);
  const runner = await fx.store.claimRun(
    run.id,
    { kind: 'runner', host: HOST, pid: process.pid, procStart: processStartTime(process.pid) },
    { now: 1000, ...LIVENESS },
  );
  await fx.store.write(run.id, [
    setOp(row!.id, 'LAUNCHED', 'n/a', 1000, { agentId: runner.id, launcher: 'slurm', launchId, rundir: workDir }),
  ]);
  return { ...fx, run, row: row!, workDir, runner };
}

/** The launch claimed by an exec on another host than the store's ('far'). */
function claimedFar(fx: Awaited<ReturnType<typeof launched>>) {
  return fx.store.claimJob(fx.run.id, fx.row.id, 'L2', { kind: 'exec', host: 'far', pid: 4242, procStart: 7 }, { now: 1000, ...LIVENESS });
}

t.test('claimJob: the first exec of a launch takes it; a second is refused while the first lives', async (t) => {
  const { store, run, row, clock } = await launched(t, 'L1');
  const first = await store.claimJob(run.id, row.id, 'L1', execAgent(process.pid), { now: clock.now, ...LIVENESS });
  t.equal(first.agent.kind, 'exec');
  t.equal(first.test.agentId, first.agent.id, "the row is the exec's now");
  t.same(
    await store.claimJob(run.id, row.id, 'L1', execAgent(process.pid), { now: clock.now, ...LIVENESS }),
    first,
    'the same process asking again gets the same answer',
  );
  await store.write(run.id, [setOp(row.id, 'RUNNING', 'n/a', 1001)]);
  const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.teardown(() => void other.kill('SIGKILL'));
  await once(other, 'spawn');
  const busy = await store
    .claimJob(run.id, row.id, 'L1', execAgent(other.pid!), { now: clock.now, ...LIVENESS })
    .catch((e: TrellisError) => e);
  t.equal((busy as TrellisError).code, 'JOB_BUSY');
  t.match((busy as TrellisError).message, new RegExp(`exec pid ${process.pid} on host ${HOST}`));
  const stale = await store
    .claimJob(run.id, row.id, 'L0', execAgent(other.pid!), { now: clock.now, ...LIVENESS })
    .catch((e: TrellisError) => e);
  t.equal((stale as TrellisError).code, 'JOB_GONE', 'an older launch is refused');
});

t.test('claimJob: a job killed before exec began, or already ended, is not run', async (t) => {
  const { store, run, row, clock } = await launched(t, 'L1');
  await store.write(run.id, [setOp(row.id, 'KILLREQ', 'n/a', 1001)]);
  const killed = await store
    .claimJob(run.id, row.id, 'L1', execAgent(process.pid), { now: clock.now, ...LIVENESS })
    .catch((e: TrellisError) => e);
  t.equal((killed as TrellisError).code, 'JOB_GONE');
  await store.write(run.id, [setOp(row.id, 'KILLED', 'ABORT', 1002)]);
  const ended = await store
    .claimJob(run.id, row.id, 'L1', execAgent(process.pid), { now: clock.now, ...LIVENESS })
    .catch((e: TrellisError) => e);
  t.equal((ended as TrellisError).code, 'JOB_GONE');
  t.match((ended as TrellisError).message, /KILLED\/ABORT/);
});

t.test('claimJob: a running job whose exec died is reaped, and the late exec is told so', async (t) => {
  const { store, run, row, clock } = await launched(t, 'L1');
  const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await once(dead, 'spawn');
  const deadAgent = execAgent(dead.pid!);
  await once(dead, 'exit');
  // claimed while it lived (start time known), then gone
  const claim = await store.claimJob(
    run.id,
    row.id,
    'L1',
    { ...deadAgent, procStart: deadAgent.procStart ?? 1 },
    { now: clock.now, ...LIVENESS },
  );
  await store.write(run.id, [setOp(row.id, 'RUNNING', 'n/a', 1001, { agentId: claim.agent.id })]);
  const late = await store
    .claimJob(run.id, row.id, 'L1', execAgent(process.pid), { now: clock.now, ...LIVENESS })
    .catch((e: TrellisError) => e);
  t.equal((late as TrellisError).code, 'JOB_GONE');
  const after = await store.getTestById(run.id, row.id);
  t.equal(`${after!.state}/${after!.status}`, 'INCOMPLETE/DEAD');
});

/** A dead exec agent owning the row, its steps as given. */
async function deadExecWith(t: { testdir(): string; teardown(fn: () => unknown): void }, spec: string[] | undefined) {
  const fx = await launched(t, 'L1');
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await once(child, 'spawn');
  const procStart = processStartTime(child.pid!) ?? 1;
  const claim = await fx.store.claimJob(
    fx.run.id,
    fx.row.id,
    'L1',
    { kind: 'exec', host: HOST, pid: child.pid!, procStart },
    { now: 1000, ...LIVENESS },
  );
  await once(child, 'exit');
  if (spec)
    fs.writeFileSync(
      jobSpecFile(fx.workDir),
      JSON.stringify({ version: 1, kind: 'remote', def: { steps: spec.map((name) => ({ name })) } }),
    );
  await fx.store.write(fx.run.id, [setOp(fx.row.id, 'RUNNING', 'n/a', 1001)]);
  return { ...fx, agentId: claim.agent.id };
}

const stepOp = (testId: number, name: string, state: 'RUNNING' | 'COMPLETED', status: string, extra: object = {}) => ({
  kind: 'step' as const,
  opId: nextOpId(),
  testId,
  name,
  state,
  status,
  time: 1001,
  ...extra,
});

t.test('reaper: every step left its exit code, so the job is recovered COMPLETED with their status', async (t) => {
  const { store, run, row, workDir } = await deadExecWith(t, ['build', 'check']);
  await store.write(run.id, [stepOp(row.id, 'build', 'COMPLETED', 'PASS', { exitCode: 0 }), stepOp(row.id, 'check', 'RUNNING', 'n/a')]);
  fs.writeFileSync(stepExitFile(workDir, 'build'), '0\n');
  fs.writeFileSync(stepExitFile(workDir, 'check'), '2\n');
  const reaped = await store.reapDead(run.id, { now: 2000, ...LIVENESS });
  t.equal(reaped.length, 1);
  const after = await store.getTestById(run.id, row.id);
  t.equal(`${after!.state}/${after!.status}`, 'COMPLETED/WARN');
  t.match(after!.comment, /recovered from the exit files: exec pid \d+ on host here is no longer running/);
  t.same(
    after!.steps.map((s) => `${s.name}:${s.state}/${s.status}/${s.exitCode}`),
    ['build:COMPLETED/PASS/0', 'check:COMPLETED/WARN/2'],
  );
});

t.test('reaper: a failing step ends the job, so it is recovered FAIL even without later exit files', async (t) => {
  const { store, run, row, workDir } = await deadExecWith(t, ['build', 'check']);
  await store.write(run.id, [stepOp(row.id, 'build', 'RUNNING', 'n/a')]);
  fs.writeFileSync(stepExitFile(workDir, 'build'), '1\n');
  await store.reapDead(run.id, { now: 2000, ...LIVENESS });
  const after = await store.getTestById(run.id, row.id);
  t.equal(`${after!.state}/${after!.status}`, 'COMPLETED/FAIL');
  t.match(after!.comment, /^step build exited 1/);
});

t.test('reaper: a step that had not ended makes the job DEAD, with the ended steps recorded', async (t) => {
  const { store, run, row, workDir } = await deadExecWith(t, ['build', 'check', 'deploy']);
  await store.write(run.id, [stepOp(row.id, 'build', 'RUNNING', 'n/a'), stepOp(row.id, 'check', 'RUNNING', 'n/a')]);
  fs.writeFileSync(stepExitFile(workDir, 'build'), '0\n');
  fs.writeFileSync(stepExitFile(workDir, 'check'), ''); // being written: the same as none
  await store.reapDead(run.id, { now: 2000, ...LIVENESS });
  const after = await store.getTestById(run.id, row.id);
  t.equal(`${after!.state}/${after!.status}`, 'INCOMPLETE/DEAD');
  t.same(
    after!.steps.map((s) => `${s.name}:${s.state}/${s.status}`),
    ['build:COMPLETED/PASS', 'check:KILLED/n/a'],
  );
});

t.test(
  'reaper: a judged step is recovered by its verdict; in a Megatest area exit 2 fails; a judged step without one is not ended',
  async (t) => {
    const { store, run, row, workDir } = await deadExecWith(t, ['build', 'check']);
    const spec = (judged: boolean) => ({
      version: 1,
      kind: 'local',
      exitCodes: 'megatest',
      def: {
        steps: [
          { name: 'build', rules: judged },
          { name: 'check', rules: false },
        ],
      },
    });
    fs.writeFileSync(jobSpecFile(workDir), JSON.stringify(spec(true)));
    await store.write(run.id, [stepOp(row.id, 'build', 'RUNNING', 'n/a')]);
    fs.writeFileSync(stepExitFile(workDir, 'build'), '1\n');
    fs.writeFileSync(stepVerdictFile(workDir, 'build'), 'WARN\n');
    fs.writeFileSync(stepExitFile(workDir, 'check'), '2\n');
    await store.reapDead(run.id, { now: 2000, ...LIVENESS });
    const after = await store.getTestById(run.id, row.id);
    t.equal(`${after!.state}/${after!.status}`, 'COMPLETED/FAIL', 'WARN from the rules goes on; exit 2 fails in a Megatest area');
    t.same(
      after!.steps.map((s) => `${s.name}:${s.status}/${s.exitCode}`),
      ['build:WARN/1', 'check:FAIL/2'],
      'the verdict, not exit 1; exit 2 is FAIL',
    );

    const second = await deadExecWith(t, ['build']);
    fs.writeFileSync(jobSpecFile(second.workDir), JSON.stringify({ ...spec(true), def: { steps: [{ name: 'build', rules: true }] } }));
    await second.store.write(second.run.id, [stepOp(second.row.id, 'build', 'RUNNING', 'n/a')]);
    fs.writeFileSync(stepExitFile(second.workDir, 'build'), '0\n');
    await second.store.reapDead(second.run.id, { now: 2000, ...LIVENESS });
    const dead = await second.store.getTestById(second.run.id, second.row.id);
    t.equal(`${dead!.state}/${dead!.status}`, 'INCOMPLETE/DEAD', 'its log was never judged: not recovered on its exit code');
  },
);

t.test("reaper: without the job's step list, all exit codes present still leave it DEAD (the list may be longer)", async (t) => {
  const { store, run, row, workDir } = await deadExecWith(t, undefined);
  await store.write(run.id, [stepOp(row.id, 'build', 'RUNNING', 'n/a')]);
  fs.writeFileSync(stepExitFile(workDir, 'build'), '0\n');
  await store.reapDead(run.id, { now: 2000, ...LIVENESS });
  const after = await store.getTestById(run.id, row.id);
  t.equal(`${after!.state}/${after!.status}`, 'INCOMPLETE/DEAD');
  t.equal(after!.steps[0]!.status, 'PASS', 'the step that ended is recorded');
});

t.test("reaper: a dead agent's running steps on this host are ended; on another host, left for takeOrphans there", async (t) => {
  const { store, run, row } = await deadExecWith(t, ['hang']);
  const step = spawn('sh', ['-c', 'sleep 1000 & wait'], { detached: true, stdio: 'ignore' });
  t.teardown(() => {
    try {
      process.kill(-step.pid!, 'SIGKILL');
    } catch {
      // ended by the reaper
    }
  });
  await once(step, 'spawn');
  await store.write(run.id, [stepOp(row.id, 'hang', 'RUNNING', 'n/a', { pid: step.pid, procStart: processStartTime(step.pid!) })]);
  const exited = once(step, 'exit');
  await store.reapDead(run.id, { now: 2000, ...LIVENESS });
  const [, signal] = (await exited) as [number | null, string | null];
  t.equal(signal, 'SIGKILL', "the step's group was ended");
  t.same(await store.takeOrphans(run.id, HOST), [], 'nothing left for anyone on this host');

  // The same, as seen from a store on another host: the steps are only recorded.
  const fx2 = await launched(t, 'L2');
  const remote = await claimedFar(fx2);
  await fx2.store.write(fx2.run.id, [
    setOp(fx2.row.id, 'RUNNING', 'n/a', 1001),
    stepOp(fx2.row.id, 'hang', 'RUNNING', 'n/a', { pid: 4243, procStart: 8 }),
  ]);
  await fx2.store.endAgent(fx2.run.id, remote.agent.id, 1500);
  await fx2.store.reapDead(fx2.run.id, { now: 2000, ...LIVENESS });
  t.same(await fx2.store.takeOrphans(fx2.run.id, 'far'), [{ pid: 4243, procStart: 8 }], "far's next trellis process ends it");
  t.same(await fx2.store.takeOrphans(fx2.run.id, 'far'), [], 'once');
});

/** A step run as the runner runs it (its own group, its files in `workDir`), killed on teardown. */
async function startStep(t: { teardown(fn: () => unknown): void }, workDir: string, name: string, command: string) {
  const proc = new StepProcess({
    command,
    cwd: workDir,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    logfile: stepLogFile(workDir, name),
    shell: '/bin/sh',
    files: { exit: stepExitFile(workDir, name), group: stepGroupFile(workDir, name) },
  });
  t.teardown(() => proc.kill('test over'));
  await waitUntil(() => readStepGroup(workDir, name) !== undefined, `${name}'s group file`);
  return proc;
}

/** A /proc stat line as a step's shell writes it: `pid` leads its group, started at `start`. */
const statLine = (pid: number, start: number) => [pid, '(sh)', 'S', 1, pid, pid, ...Array(15).fill(0), start, 0, 0].join(' ');

for (const seen of ['never seen', 'RUNNING without a pid'] as const) {
  t.test(`reaper: a running step whose pid never reached the database (${seen}) is ended from its group file`, async (t) => {
    const { store, run, row, workDir } = await deadExecWith(t, ['build', 'hang', 'after']);
    fs.writeFileSync(stepExitFile(workDir, 'build'), '0\n');
    const proc = await startStep(t, workDir, 'hang', 'sleep 1000 & wait');
    const ops = [stepOp(row.id, 'build', 'COMPLETED', 'PASS', { exitCode: 0 })];
    // The runner's first word of a step carries its pid; a runner killed before that batch leaves no row.
    if (seen === 'RUNNING without a pid') ops.push(stepOp(row.id, 'hang', 'RUNNING', 'n/a'));
    await store.write(run.id, ops);
    await store.reapDead(run.id, { now: 2000, ...LIVENESS });
    await waitUntil(() => proc.state === 'exited', 'the reaper to end the step');
    t.same(await proc.exited, { code: null, signal: 'SIGKILL', stopReason: null }, "the step's group was ended by the reaper");
    const after = await store.getTestById(run.id, row.id);
    t.equal(`${after!.state}/${after!.status}`, 'INCOMPLETE/DEAD');
    t.same(
      after!.steps.map((s) => `${s.name}:${s.state}/${s.status}`),
      ['build:COMPLETED/PASS', 'hang:KILLED/n/a'],
    );
    t.same(await store.takeOrphans(run.id, HOST), [], 'nothing left for anyone on this host');
  });
}

t.test('reaper: a group file whose leader has another start time is not ours; on another host it is left for takeOrphans', async (t) => {
  const { store, run, row, workDir } = await deadExecWith(t, ['hang']);
  const other = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
  t.teardown(() => other.kill('SIGKILL'));
  await once(other, 'spawn');
  // The pid of a step long gone, now a live group leader that started later.
  fs.writeFileSync(stepGroupFile(workDir, 'hang'), `${statLine(other.pid!, processStartTime(other.pid!)! - 1)}\n`);
  await store.reapDead(run.id, { now: 2000, ...LIVENESS });
  const exited = once(other, 'exit');
  // A KILL the reaper had sent would have come first.
  process.kill(-other.pid!, 'SIGTERM');
  t.equal(((await exited) as [number | null, string | null])[1], 'SIGTERM', 'the other group was left alone');
  t.equal((await store.getTestById(run.id, row.id))!.state, 'INCOMPLETE');

  const fx2 = await launched(t, 'L2');
  const remote = await claimedFar(fx2);
  fs.writeFileSync(jobSpecFile(fx2.workDir), JSON.stringify({ version: 1, kind: 'remote', def: { steps: [{ name: 'hang' }] } }));
  await fx2.store.write(fx2.run.id, [setOp(fx2.row.id, 'RUNNING', 'n/a', 1001)]);
  fs.writeFileSync(stepGroupFile(fx2.workDir, 'hang'), `${statLine(4243, 8)}\n`);
  await fx2.store.endAgent(fx2.run.id, remote.agent.id, 1500);
  await fx2.store.reapDead(fx2.run.id, { now: 2000, ...LIVENESS });
  t.same(await fx2.store.takeOrphans(fx2.run.id, 'far'), [{ pid: 4243, procStart: 8 }], "far's next trellis process ends it");
  t.same(await fx2.store.takeOrphans(fx2.run.id, 'far'), [], 'once');
});
