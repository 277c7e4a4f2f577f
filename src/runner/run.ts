/**
 * `trellis run`, by phase: plan (configs only), take the run (lock check, claim, reap), register
 * every selected test and item as NOT_STARTED, then execute (schedule and launch until nothing is
 * left, recording every change), and tally the result.
 */
import type { Area, TestDefinition } from '../config/types.js';
import { expandItems } from '../config/items.js';
import { resolveParams } from '../config/params.js';
import type { RunRecord, TestRegistration, WriteOptions } from '../model/records.js';
import { MAX_BATCH } from '../model/protocol.js';
import { isSuccess } from '../model/states.js';
import type { Store } from '../store/store.js';
import { checkRunLock } from '../store/run-lock.js';
import { killStepGroup } from '../util/process-info.js';
import { RunExecutor, type RunObserver as ExecObserver } from './executor.js';
import type { JobStart, Launcher } from './launcher.js';
import { TrellisError } from '../util/errors.js';
import { chooseLaunchers, type LauncherSetup } from './launchers.js';
import { Recorder } from './recorder.js';
import { buildRunGraph, type RegisteredRow, type RerunOptions, type RunGraph } from './run-graph.js';
import { checkSignOffs, planStarts } from './run-starts.js';
import { planRun, registration, registrationsOf } from './run-plan.js';
import { RunWatch } from './run-watch.js';
import { ResourceGate } from './resource-gate.js';
import { pollChanges } from '../store/poll-changes.js';
import { exitCodesOf } from './step-verdict.js';
import { mapItemPath, type Job } from './scheduler.js';
import { endChannels } from './job-channel.js';
import { endSpawner } from './step-process.js';
import { checkStepRefs, type StepInputs } from './step-refs.js';
import { buildRunEnv, buildTestEnv, envDelta } from './test-env.js';
import { runAreaPaths } from '../config/paths.js';
import { LaunchJournal } from '../store/launch-journal.js';

export { decideRerun } from './run-graph.js';

export interface RunOptions extends RerunOptions {
  target: string;
  runname: string;
  /** test pattern; default: runconfigs TESTPATT, else all */
  pattern?: string;
  jobs?: number;
  preclean: boolean;
  force: boolean;
  /** `--launcher` words, else the area's `[jobtools] launcher`, else local */
  launcher?: string;
  /** --reqtarg: refuse a target runconfigs.config does not name */
  reqtarg?: boolean;
  /** every declared parameter's value (config/params.ts resolveParams); default: the declared defaults */
  params?: Readonly<Record<string, string>>;
  /** --from-step NAME: where resumed tests start (with --resume) */
  fromStep?: string;
  /** --on: agent names, hosts or tags the agents launcher places the jobs on */
  on?: string[];
}

/** What the runner tells whoever prints progress. */
export interface RunObserver extends ExecObserver {
  planned(info: { run: RunRecord; jobs: number; toRun: number; warnings: readonly string[] }): void;
}

export interface RunContext {
  area: Area;
  store: Store;
  env: Readonly<Record<string, string | undefined>>;
  host: string;
  pid: number;
  procStart: number | null;
  /** folder of the `trellis` command, put on the tests' PATH */
  binDir: string;
  shell: string;
  who: string;
  now: () => number;
  /** aborted on Ctrl-C: stop launching, stop running tests, mark them */
  signal: AbortSignal;
  /** aborted on a second Ctrl-C: KILL at once */
  hardSignal: AbortSignal;
  observer: RunObserver;
  /** seconds between checks for kill requests and heartbeats */
  pollSeconds?: number;
  /** the store opens the databases in this process (--direct): remote launchers cannot report to it */
  direct?: boolean;
  /** the change feed's wait, for launchers that learn outcomes from the store */
  waitForChanges?: LauncherSetup['waitForChanges'];
  /** warnings for people (an ssh host skipped, a launcher word run locally) */
  warn: (message: string) => void;
  /** reads a test's `trellis step|test-status|set-value` (the CLI's parser) */
  parseHelper: LauncherSetup['parseHelper'];
}

export interface Failure {
  /** `test` or `test/itempath` */
  key: string;
  status: string;
  comment: string;
  rundir: string;
}

export interface RunResult {
  run: RunRecord;
  jobs: Job[];
  /** selected tests and items that did not end PASS, WARN, WAIVED or SKIP */
  failures: Failure[];
  interrupted: boolean;
  /** tests parked on a sign-off when the run was interrupted: they stay WAITING/MANUAL */
  parked: number;
  seconds: number;
}

/** Runs the tests; resolves when every launched test has ended and its result is recorded. */
export async function runTests(opts: RunOptions, ctx: RunContext): Promise<RunResult> {
  const t0 = ctx.now();
  const { area, store } = ctx;
  const params = { ...(opts.params ?? resolveParams(area.params, [], area.configFile)) };
  const rp = planRun(area, opts, ctx.env);
  const refWarnings = checkStepRefs(
    rp.plan.tests,
    area.params.map((p) => p.name),
    area,
  );
  // The launcher words are checked before the run is touched.
  // `--on` places jobs on agents: it means the agents launcher unless another is named.
  const launcherWords = opts.launcher ?? (opts.on !== undefined && opts.on.length > 0 ? 'agents' : undefined);
  const choice = chooseLaunchers(area, launcherWords, { direct: ctx.direct === true, warn: ctx.warn, env: ctx.env });
  if (opts.on !== undefined && opts.on.length > 0 && choice.fallback.kind !== 'agents') {
    throw new TrellisError(
      'USAGE',
      `--on places tests on agents, but the launcher is '${choice.fallback.words}'`,
      'add --launcher agents, or leave out --on',
    );
  }

  const existing = await store.findRun(rp.target.name, opts.runname);
  // Refuse before claiming the run, with the store's own wording.
  if (existing) checkRunLock(existing, { force: opts.force }, 'run');
  let run = existing ?? (await store.ensureRun({ target: rp.target.name, keys: rp.target.keys, runname: opts.runname }));
  const paramWarnings = changedParams(existing?.params ?? {}, params);
  if (Object.keys(params).length > 0 || Object.keys(run.params).length > 0)
    run = await store.setRunParams(run.id, params, opts.force ? { force: true, who: ctx.who } : { who: ctx.who });
  const liveness = { now: ctx.now(), deadtime: area.setup.deadtime };
  await store.reapDead(run.id, liveness);
  const agent = await store.claimRun(run.id, { kind: 'runner', host: ctx.host, pid: ctx.pid, procStart: ctx.procStart }, liveness);
  // Steps a dead runner or exec of this run left running here (reaped from another host).
  for (const orphan of await store.takeOrphans(run.id, ctx.host)) killStepGroup(orphan.pid, orphan.procStart);
  const writeOptions = opts.force ? { force: true, who: ctx.who } : { who: ctx.who };
  let fatal: unknown;
  let executor: RunExecutor | undefined;
  const recorder = new Recorder({
    store,
    runId: run.id,
    prefix: `a${agent.id}`,
    now: ctx.now,
    // A job's launch and its end wait for their batch: with the databases in this process a batch
    // costs a transaction, not a round trip, and the wait is on every slot's way (launch-vs-ctest).
    ...(ctx.direct ? { delayMs: 0 } : {}),
    options: writeOptions,
    onError: (err) => {
      fatal ??= err;
      executor?.stopEverything('the run could not be recorded');
    },
  });

  const graph = await registerGraph(store, run.id, rp, opts, writeOptions);

  const runEnv = buildRunEnv({
    env: ctx.env,
    areaDir: area.dir,
    runArea: area.runArea,
    target: rp.target,
    runname: opts.runname,
    runId: run.id,
    binDir: ctx.binDir,
    areaOverrides: area.envOverride,
    runconfig: rp.runconfig,
    force: opts.force,
    params,
  });
  const journal = new LaunchJournal(runAreaPaths(area.runArea).launchesDir, run.id, agent.id);
  const limit = Math.min(opts.jobs ?? Infinity, area.setup.maxConcurrentJobs);
  // When every job goes to the agents and none waits for shared resources, the queue keeps the
  // run's limit (an agent takes a job only while fewer than `limit` of the run's are claimed) and
  // the runner queues up to QUEUE_AHEAD times that: it hears that a job ended through the change
  // feed, some milliseconds after the agent said so, and with its own window at `limit` the pool's
  // slots waited for it (docs/benchmarks.md, "Every bench, 2026-12-04 night"). Job groups' limits
  // stay with the runner; resources are claimed at launch, so a queued job would hold its share.
  const resources = needsResources(rp);
  const queueLimit = choice.allAgents && !resources ? limit : undefined;
  const launchers = choice.create({
    area,
    store,
    recorder,
    runId: run.id,
    target: rp.target,
    runname: opts.runname,
    host: ctx.host,
    pid: ctx.pid,
    agentId: agent.id,
    shell: ctx.shell,
    who: ctx.who,
    force: opts.force,
    now: ctx.now,
    readTest: (id) => store.getTestById(run.id, id),
    waitForChanges: ctx.waitForChanges,
    warn: ctx.warn,
    env: ctx.env,
    binDir: ctx.binDir,
    parseHelper: ctx.parseHelper,
    on: opts.on ?? [],
    journal,
    ...(queueLimit === undefined ? {} : { queueLimit }),
  });
  const gate = resources
    ? new ResourceGate({
        store,
        runner: {
          runId: run.id,
          target: run.target,
          runname: run.runname,
          agentId: agent.id,
          host: ctx.host,
          pid: ctx.pid,
          procStart: ctx.procStart,
        },
        limits: area.resources,
        deadtime: area.setup.deadtime,
        now: ctx.now,
        // Without a server (--direct) nobody wakes a waiter: the databases are polled instead.
        waitForChanges: ctx.waitForChanges ?? ((cursor, ms, signal) => pollChanges(store, cursor, ms, undefined, signal)),
        recorder,
        warn: ctx.warn,
        onWaiting: (job, comment) => ctx.observer.waiting?.(job, comment),
      })
    : undefined;
  const exitCodes = exitCodesOf(area.configFile);
  const startOf = (job: Job): JobStart => {
    const def = job.node.def;
    const workDir = rp.workDir(def.name, job.item?.values ?? []);
    const env = buildTestEnv(runEnv, {
      testname: def.name,
      itempath: job.itempath,
      testId: job.row.id,
      workDir,
      testOverrides: def.envOverride,
      itemVars: job.item?.vars ?? {},
    });
    return {
      key: job.key,
      testId: job.row.id,
      testname: def.name,
      itempath: job.itempath,
      item: job.item,
      def,
      workDir,
      env,
      envDelta: () => envDelta(ctx.env, env),
      preclean: opts.preclean,
      reset: job.start.reset ?? !job.row.pristine,
      startAt: job.start.startAt,
      exitCodes,
      inputs: inputsOf(job, params),
    };
  };
  executor = new RunExecutor({
    limit: queueLimit === undefined ? limit : queueLimit * QUEUE_AHEAD,
    groups: area.jobgroups,
    recorder,
    launcherFor: (job: Job): Launcher => launchers.forJob(job.node.def.name, job.itempath),
    startOf,
    expand: async (node) => {
      const p = rp.plan.tests.find((t) => t.def.name === node.def.name)!;
      const items = expandItems(node.def, { env: runEnv, cwd: node.def.dir }).filter(
        (it) => !p.selected || rp.pattern.matchItem(node.def.name, it.path),
      );
      const newRows = await store.registerTests(
        run.id,
        items.map((it) => registration(node.def, it.path, rp.workDir(node.def.name, it.values), it.vars)),
        writeOptions,
      );
      return graph.makeJobs(node, items, newRows);
    },
    observer: ctx.observer,
    now: ctx.now,
    ...(gate ? { gate } : {}),
  });
  const exec = executor;
  const onAbort = () => exec.stopEverything('interrupted (Ctrl-C)');
  const onHardAbort = () => exec.killEverything('interrupted (Ctrl-C twice)');
  ctx.signal.addEventListener('abort', onAbort);
  ctx.hardSignal.addEventListener('abort', onHardAbort);
  const watch = new RunWatch({
    store,
    runId: run.id,
    agentId: agent.id,
    now: ctx.now,
    everySeconds: ctx.pollSeconds ?? 1,
    onKillRequest: (rowId) => exec.killRequested(rowId, 'killed on request (trellis kill)'),
    // Jobs elsewhere: an exec that died is found by the reaper (its heartbeat stops), not by us.
    reap: launchers.remote ? { deadtime: area.setup.deadtime } : undefined,
    onTick: () => checkSignOffs(store, run.id, exec),
  });

  ctx.observer.planned({
    run,
    jobs: graph.jobs.length,
    toRun: graph.jobs.filter((j) => j.run).length,
    warnings: [
      ...rp.targetWarnings,
      ...paramWarnings,
      ...refWarnings,
      ...rp.plan.warnings,
      ...ruleWarnings(rp.plan.tests.map((p) => p.def)),
    ],
  });
  try {
    if (ctx.signal.aborted) onAbort();
    watch.start();
    await exec.execute(graph.nodes);
  } finally {
    watch.stop();
    ctx.signal.removeEventListener('abort', onAbort);
    ctx.hardSignal.removeEventListener('abort', onHardAbort);
    await launchers.close();
    await endSpawner();
    await endChannels();
    // Every share and wait of this runner goes back, whatever ended the run.
    await gate?.close();
    await recorder.flush();
    // Every launch it noted is in the store now, unless a batch failed: then a reaper reads them.
    journal.close(recorder.failure === undefined);
    await store.endAgent(run.id, agent.id, ctx.now()).catch(() => undefined);
  }
  if (fatal) throw fatal;
  const final = (await store.getRun(run.id)) ?? run;
  return {
    run: final,
    jobs: graph.jobs,
    failures: tallyFailures(graph.jobs, graph.nodes, exec.interrupted),
    interrupted: exec.interrupted,
    parked: exec.interrupted ? exec.parkedAtStop : 0,
    seconds: ctx.now() - t0,
  };
}

/**
 * Registers every planned test and item (NOT_STARTED where new) and builds the scheduler's graph
 * from the rows. A batch at a time, keeping of each row only what the graph reads: at 100,000
 * items the registrations and the whole records, all held until the graph was built, were most
 * of the 143 MB live when V8 sized its heap for the run, at up to four times that
 * (docs/benchmarks.md, "The runner's memory"). Its own function, so that none of it outlives it.
 */
async function registerGraph(
  store: Store,
  runId: number,
  rp: ReturnType<typeof planRun>,
  opts: RunOptions,
  writeOptions: WriteOptions,
): Promise<RunGraph> {
  const registered = new Map<string, Map<string, RegisteredRow>>();
  let batch: TestRegistration[] = [];
  const send = async () => {
    for (const r of await store.registerTests(runId, batch, writeOptions)) {
      let byPath = registered.get(r.testname);
      if (byPath === undefined) {
        byPath = new Map();
        registered.set(r.testname, byPath);
      }
      byPath.set(r.itempath, { id: r.id, state: r.state, status: r.status, rundir: r.rundir });
    }
    batch = [];
  };
  for (const reg of registrationsOf(rp)) {
    batch.push(reg);
    if (batch.length === MAX_BATCH) await send();
  }
  if (batch.length > 0) await send();
  const starts = await planStarts(store, runId, rp.plan.tests, opts);
  return buildRunGraph(rp, (test, itempath) => registered.get(test)!.get(itempath)!, opts, starts);
}

/** With the agents' queue keeping the run's limit, how many times that many jobs the runner queues. */
const QUEUE_AHEAD = 4;

/** True when some planned test names shared resources. */
function needsResources(rp: ReturnType<typeof planRun>): boolean {
  return rp.plan.tests.some((p) => p.def.resources.length > 0);
}

/**
 * What fills in a job's `{…}` references: the run's parameters, and for each test it waits on,
 * which row's values `{TEST:NAME}` reads: the test's own, or under itemwait the item this item maps
 * to (null when none does: the job waited on the whole test).
 */
function inputsOf(job: Job, params: Readonly<Record<string, string>>): StepInputs {
  const def = job.node.def;
  const producers: Record<string, string | null> = {};
  for (const dep of job.node.waitons) {
    if (!dep.def.hasItems) producers[dep.def.name] = '';
    else if (def.mode === 'itemwait' && job.itempath !== '') {
      const mapped = mapItemPath(job.itempath, def);
      producers[dep.def.name] = dep.byPath.has(mapped) ? mapped : null;
    } else producers[dep.def.name] = null;
  }
  return { params, producers };
}

/** A warning for each parameter whose value differs from what the run recorded before. */
function changedParams(before: Readonly<Record<string, string>>, now: Readonly<Record<string, string>>): string[] {
  if (Object.keys(before).length === 0) return [];
  const out: string[] = [];
  for (const name of new Set([...Object.keys(before), ...Object.keys(now)])) {
    if (before[name] === now[name]) continue;
    const was = before[name] === undefined ? 'not set' : JSON.stringify(before[name]);
    const is = now[name] === undefined ? 'not set' : JSON.stringify(now[name]);
    out.push(`parameter ${name} was ${was} in this run's record and is ${is} now (recorded; tests run before keep what they ran with)`);
  }
  return out;
}

/** What reading the log rules of the planned tests warned about (a section never defined, …), once each. */
function ruleWarnings(defs: ReadonlyArray<Pick<TestDefinition, 'name' | 'logRules'>>): string[] {
  const out = new Set<string>();
  for (const def of defs)
    for (const [step, set] of def.logRules) for (const w of set.warnings) out.add(`test ${def.name}, step ${step}: ${w}`);
  return [...out];
}

/** The selected tests and items that did not succeed (after an interrupt, only those that ended). */
function tallyFailures(jobs: readonly Job[], nodes: ReturnType<typeof buildRunGraph>['nodes'], interrupted: boolean): Failure[] {
  // After an interrupt, tests that never got their turn are not failures: they are still to run.
  const failures: Failure[] = jobs
    .filter((j) => j.selected && (!interrupted || j.phase === 'done') && !isSuccess(j.status))
    .map((j) => ({ key: j.key, status: j.status, comment: j.comment, rundir: j.row.rundir }));
  for (const node of nodes) {
    // A test that never got jobs (PREQ_FAIL before expanding, ZERO_ITEMS) fails as a whole.
    if (node.selected && node.jobs?.length === 0 && !isSuccess(node.status)) {
      failures.push({ key: node.def.name, status: node.status, comment: '', rundir: node.row.rundir });
    }
  }
  return failures;
}
