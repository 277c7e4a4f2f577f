/**
 * The scheduler and the executor with a fake launcher (the seam the real ones plug into): no CLI,
 * no step processes. The recorder writes to a real direct store, through a gate the test opens, so
 * the test decides when a job's end is in the store.
 */
import t from 'tap';
import type { TestDefinition, WaitMode } from '../../src/config/types.js';
import type { WriteOp, WriteOptions } from '../../src/model/records.js';
import { parseTestPattern } from '../../src/model/pattern.js';
import { RunExecutor, type JobGate, type RunObserver } from '../../src/runner/executor.js';
import { ResourceGate } from '../../src/runner/resource-gate.js';
import { pollChanges } from '../../src/store/poll-changes.js';
import type { RunRecord } from '../../src/model/records.js';
import { processStartTime } from '../../src/util/process-info.js';
import type { JobOutcome } from '../../src/runner/job-run.js';
import type { JobStart, LaunchedJob, Launcher } from '../../src/runner/launcher.js';
import { buildPlan } from '../../src/runner/plan.js';
import { Recorder } from '../../src/runner/recorder.js';
import { buildRunGraph } from '../../src/runner/run-graph.js';
import { NO_INPUTS } from '../../src/runner/step-refs.js';
import type { RunPlan } from '../../src/runner/run-plan.js';
import type { Store } from '../../src/store/store.js';
import { HOST, makeStore, NIGHTLY } from './store-fixture.js';

function def(name: string, opts: { waiton?: string[]; mode?: WaitMode; priority?: number; resources?: string[] } = {}): TestDefinition {
  return {
    name,
    dir: `/area/tests/${name}`,
    configFile: `/area/tests/${name}/testconfig`,
    config: undefined as never,
    steps: [{ name: 'run', command: 'true', loc: { file: 'x', line: 1 } }],
    waiton: opts.waiton ?? [],
    mode: opts.mode ?? 'normal',
    itemmap: [],
    priority: opts.priority ?? 0,
    runtimelim: null,
    resources: opts.resources ?? [],
    placement: { tags: [], hosts: [] },
    items: { items: [], table: [] },
    hasItems: false,
    meta: { owner: '', description: '', tags: '' },
    skip: {},
    triggers: [],
    envOverride: [],
    logRules: new Map(),
  };
}

/** A job the fake launcher started: the test ends it. */
interface FakeJob {
  start: JobStart;
  stopped: string | undefined;
  end(outcome: Partial<JobOutcome>): void;
}

/** Starts nothing: the test ends each job, and the launcher records the end as a real one does. */
class FakeLauncher implements Launcher {
  readonly kind = 'fake';
  readonly jobs: FakeJob[] = [];
  readonly #recorder: Recorder;

  constructor(recorder: Recorder) {
    this.#recorder = recorder;
  }
  running = 0;
  maxRunning = 0;
  #waiters: Array<() => void> = [];

  launch(start: JobStart): LaunchedJob {
    let resolve!: (o: JobOutcome) => void;
    const done = new Promise<JobOutcome>((r) => (resolve = r));
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const job: FakeJob = {
      start,
      stopped: undefined,
      end: (o) => {
        this.running--;
        const outcome: JobOutcome = { state: 'COMPLETED', status: 'PASS', comment: '', ...o };
        this.#recorder.setTest(start.testId, { state: outcome.state, status: outcome.status, comment: outcome.comment, end: 1000 });
        resolve(outcome);
      },
    };
    this.jobs.push(job);
    for (const w of this.#waiters.splice(0)) w();
    return {
      done,
      stop: (status, reason) => {
        job.stopped = reason;
        job.end({ state: 'KILLED', status, comment: reason });
      },
      kill: (reason) => job.end({ state: 'KILLED', status: 'ABORT', comment: reason }),
    };
  }

  /** The job started for `key`, once it is. */
  async started(key: string): Promise<FakeJob> {
    for (;;) {
      const job = this.jobs.find((j) => j.start.key === key);
      if (job) return job;
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  launched(key: string): boolean {
    return this.jobs.some((j) => j.start.key === key);
  }

  async close(): Promise<void> {}
}

/** A store whose writes wait while the gate is shut. */
function gated(store: Store): { store: Store; shut(): void; open(): void; pending(): number } {
  let waiting: Array<() => void> = [];
  let shut = false;
  const wrapper = Object.create(store) as Store;
  wrapper.write = async (runId: number, ops: WriteOp[], options?: WriteOptions) => {
    if (shut) await new Promise<void>((r) => waiting.push(r));
    return store.write(runId, ops, options);
  };
  return {
    store: wrapper,
    shut: () => (shut = true),
    open: () => {
      shut = false;
      for (const w of waiting.splice(0)) w();
      waiting = [];
    },
    pending: () => waiting.length,
  };
}

async function setup(
  t: { testdir(): string; teardown(fn: () => unknown): void },
  defs: TestDefinition[],
  limit = 4,
  withGate?: (store: Store, run: RunRecord, recorder: Recorder) => JobGate,
) {
  const { store } = makeStore(t);
  const run = await store.ensureRun(NIGHTLY);
  const plan = buildPlan(defs, parseTestPattern('%'));
  const rp: RunPlan = {
    target: { name: 'linux/x86_64', values: ['linux', 'x86_64'], keys: {} },
    runname: 'nightly',
    targetWarnings: [],
    runconfig: [],
    pattern: parseTestPattern('%'),
    plan,
    itemsOf: new Map(defs.map((d) => [d.name, []])),
    workDir: (test) => `/runs/${test}`,
  };
  const rows = await store.registerTests(
    run.id,
    defs.map((d) => ({ testname: d.name, itempath: '', priority: d.priority, rundir: `/runs/${d.name}` })),
  );
  const graph = buildRunGraph(rp, (test) => rows.find((r) => r.testname === test)!, { rerun: [], rerunAll: false, rerunClean: false });
  const gate = gated(store);
  let failure: unknown;
  const recorder = new Recorder({ store: gate.store, runId: run.id, prefix: 'a1', now: () => 1000, onError: (e) => (failure = e) });
  const launcher = new FakeLauncher(recorder);
  const ended: string[] = [];
  const observer: RunObserver = { started: () => undefined, ended: (job, status) => ended.push(`${job.key}:${status}`) };
  const exec = new RunExecutor({
    limit,
    groups: new Map(),
    recorder,
    launcherFor: () => launcher,
    startOf: (job) => ({
      key: job.key,
      testId: job.row.id,
      testname: job.node.def.name,
      itempath: job.itempath,
      item: job.item,
      def: job.node.def,
      workDir: `/runs/${job.key}`,
      env: {},
      envDelta: () => ({}),
      preclean: false,
      reset: false,
      startAt: 0,
      exitCodes: 'trellis',
      inputs: NO_INPUTS,
    }),
    expand: async () => [],
    observer,
    now: () => 1000,
    ...(withGate ? { gate: withGate(store, run, recorder) } : {}),
  });
  const status = async (name: string) => (await store.getTest(run.id, name, ''))?.status;
  return { store, run, graph, gate, recorder, launcher, exec, ended, status, failure: () => failure };
}

t.test('jobs go to the launcher in dependency order, within the limit', async (t) => {
  const s = await setup(t, [def('a'), def('b', { waiton: ['a'] }), def('c'), def('d'), def('e')], 2);
  const done = s.exec.execute(s.graph.nodes);
  (await s.launcher.started('a')).end({});
  for (const key of ['c', 'd', 'e']) (await s.launcher.started(key)).end({});
  (await s.launcher.started('b')).end({ status: 'FAIL', comment: 'step run exited 1' });
  await done;
  await s.recorder.flush();
  t.equal(s.launcher.maxRunning, 2, 'never more than the limit at once');
  t.ok(s.launcher.jobs.findIndex((j) => j.start.key === 'a') < s.launcher.jobs.findIndex((j) => j.start.key === 'b'), 'a before b');
  t.same(s.ended.sort(), ['a:PASS', 'b:FAIL', 'c:PASS', 'd:PASS', 'e:PASS']);
  t.equal(s.launcher.jobs.find((j) => j.start.key === 'b')!.start.workDir, '/runs/b', 'the launcher gets what it needs to start the job');
});

t.test("a dependent starts only once its prerequisite's end is in the store; the slot is free at once", async (t) => {
  const s = await setup(t, [def('a', { priority: 9 }), def('b', { waiton: ['a'] }), def('c')], 1);
  const done = s.exec.execute(s.graph.nodes);
  const a = await s.launcher.started('a');
  await s.recorder.flush();
  s.gate.shut();
  a.end({});
  // a's slot went to c while a's end waits at the gate
  const c = await s.launcher.started('c');
  t.notOk(s.launcher.launched('b'), 'b waits: a ended, but its end is not recorded yet');
  t.equal(await s.status('a'), 'n/a', 'the store does not have it yet');
  c.end({});
  t.notOk(s.launcher.launched('b'), 'still waiting, whatever else ends');
  s.gate.open();
  (await s.launcher.started('b')).end({});
  await done;
  t.equal(await s.status('a'), 'PASS', 'a was in the store before b started');
});

t.test('a prerequisite that fails makes its dependents PREQ_FAIL without launching them', async (t) => {
  const s = await setup(t, [def('a'), def('b', { waiton: ['a'] }), def('c', { waiton: ['b'] })]);
  const done = s.exec.execute(s.graph.nodes);
  (await s.launcher.started('a')).end({ status: 'FAIL' });
  await done;
  await s.recorder.flush();
  t.same(
    s.launcher.jobs.map((j) => j.start.key),
    ['a'],
  );
  t.equal(await s.status('b'), 'PREQ_FAIL');
  t.equal(await s.status('c'), 'PREQ_FAIL');
});

t.test('stopEverything stops what runs and launches nothing more', async (t) => {
  const s = await setup(t, [def('a'), def('b'), def('c', { waiton: ['a'] })], 2);
  const done = s.exec.execute(s.graph.nodes);
  const a = await s.launcher.started('a');
  const b = await s.launcher.started('b');
  s.exec.stopEverything('interrupted (Ctrl-C)');
  await done;
  t.equal(a.stopped, 'interrupted (Ctrl-C)');
  t.equal(b.stopped, 'interrupted (Ctrl-C)');
  t.notOk(s.launcher.launched('c'), 'c never launched');
  t.ok(s.exec.interrupted);
});

t.test('stopEverything leaves a job parked on a sign-off parked, and counts it', async (t) => {
  const s = await setup(t, [def('gate'), def('b')], 2);
  const done = s.exec.execute(s.graph.nodes);
  (await s.launcher.started('gate')).end({ state: 'WAITING', status: 'MANUAL', comment: 'waiting for a sign-off' });
  const b = await s.launcher.started('b');
  while (s.exec.parkedJobs().length === 0) await new Promise((r) => setImmediate(r));
  s.exec.stopEverything('interrupted (Ctrl-C)');
  await done;
  t.equal(b.stopped, 'interrupted (Ctrl-C)');
  t.equal(s.exec.parkedAtStop, 1, 'the parked job is counted, not stopped');
});

t.test('a kill request stops a running job, and settles a queued one KILLED/ABORT', async (t) => {
  const s = await setup(t, [def('a', { priority: 5 }), def('b')], 1);
  const done = s.exec.execute(s.graph.nodes);
  const a = await s.launcher.started('a');
  const bRow = s.graph.jobs.find((j) => j.key === 'b')!.row.id;
  s.exec.killRequested(bRow, 'killed on request (trellis kill)');
  s.exec.killRequested(a.start.testId, 'killed on request (trellis kill)');
  await done;
  await s.recorder.flush();
  t.equal(a.stopped, 'killed on request (trellis kill)');
  t.notOk(s.launcher.launched('b'));
  const b = await s.store.getTest(s.run.id, 'b', '');
  t.equal(`${b!.state}/${b!.status}`, 'KILLED/ABORT');
});

t.test('a launcher that cannot start a job: the job is recorded INCOMPLETE/ABORT, the run goes on', async (t) => {
  const s = await setup(t, [def('a'), def('b')], 2);
  const broken: Launcher = {
    kind: 'broken',
    launch: (job) => {
      if (job.key === 'a') throw new Error('cannot write the job spec');
      return s.launcher.launch(job);
    },
    close: async () => undefined,
  };
  const exec = new RunExecutor({
    limit: 2,
    groups: new Map(),
    recorder: s.recorder,
    launcherFor: () => broken,
    startOf: (job) => ({
      key: job.key,
      testId: job.row.id,
      testname: job.key,
      itempath: '',
      item: undefined,
      def: job.node.def,
      workDir: '/w',
      env: {},
      envDelta: () => ({}),
      preclean: false,
      reset: false,
      startAt: 0,
      exitCodes: 'trellis',
      inputs: NO_INPUTS,
    }),
    expand: async () => [],
    observer: { started: () => undefined, ended: () => undefined },
    now: () => 1000,
  });
  const done = exec.execute(s.graph.nodes);
  (await s.launcher.started('b')).end({});
  await done;
  await s.recorder.flush();
  const a = await s.store.getTest(s.run.id, 'a', '');
  t.equal(`${a!.state}/${a!.status}`, 'INCOMPLETE/ABORT');
  t.match(a!.comment, /cannot write the job spec/);
  t.equal(await s.status('b'), 'PASS');
});

t.test('a job waiting for a shared resource holds no slot; it starts when the share is given back', async (t) => {
  let gate!: ResourceGate;
  const s = await setup(
    t,
    [def('a', { priority: 9, resources: ['deploy'] }), def('b', { priority: 5, resources: ['deploy'] }), def('c')],
    1,
    (store, run, recorder) => {
      gate = new ResourceGate({
        store,
        runner: { runId: run.id, target: run.target, runname: run.runname, agentId: 1, host: HOST, pid: process.pid, procStart: null },
        limits: new Map([['deploy', 1]]),
        deadtime: 60,
        now: () => 1000,
        waitForChanges: (cursor, ms, signal) => pollChanges(store, cursor, ms, 10, signal),
        recorder,
        warn: (m) => t.fail(m),
        recheckMs: 60_000,
      });
      return gate;
    },
  );
  // Another run holds the only share of deploy.
  const other = await s.store.ensureRun({ ...NIGHTLY, runname: 'other' });
  const [row] = await s.store.registerTests(other.id, [{ testname: 'deploy', itempath: '', priority: 0, rundir: '/o' }]);
  const outside = {
    runId: other.id,
    testId: row!.id,
    target: other.target,
    runname: other.runname,
    testname: 'deploy',
    itempath: '',
    agentId: 1,
    host: HOST,
    pid: process.pid,
    procStart: processStartTime(process.pid),
  };
  t.ok((await s.store.claimResources({ holder: outside, wants: [{ name: 'deploy', count: 1 }] }, { now: 1000, deadtime: 60 })).granted);

  const done = s.exec.execute(s.graph.nodes);
  // With one slot, c runs while a and b wait: they gave the slot back.
  const c = await s.launcher.started('c');
  t.notOk(s.launcher.launched('a') || s.launcher.launched('b'), 'a and b wait for deploy');
  await s.recorder.flush();
  const a = await s.store.getTest(s.run.id, 'a', '');
  t.match(a?.comment, /^waiting for resource deploy \(held by deploy of run linux\/x86_64\/other, runner pid \d+ on host here\)$/);
  c.end({});
  await s.store.releaseResources({ runId: other.id, agentId: 1 });
  // One share: a (higher priority) and b take turns, never both at once.
  const first = await s.launcher.started('a');
  t.notOk(s.launcher.launched('b'), 'b still waits: a holds the share');
  await s.recorder.flush();
  t.equal((await s.store.getTest(s.run.id, 'a', ''))?.comment, '', 'the waiting comment goes when it starts');
  first.end({});
  (await s.launcher.started('b')).end({});
  await done;
  await gate.close();
  t.equal(s.launcher.maxRunning, 1);
  t.same(s.ended.sort(), ['a:PASS', 'b:PASS', 'c:PASS']);
  t.same(await s.store.listResourceClaims({ now: 1000, deadtime: 60 }), [], 'every share given back');
});
