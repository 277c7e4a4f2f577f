/**
 * `trellis run`: resolve the target, plan the tests, claim the run, register everything as
 * NOT_STARTED, then schedule and launch until nothing is left, recording every change.
 */
import type { Area, Item, TestDefinition } from '../config/types.js';
import { readRunconfigs, resolveTarget, runconfigValues } from '../config/area.js';
import { loadTests } from '../config/testconfig.js';
import { expandItems } from '../config/items.js';
import { runAreaPaths } from '../config/paths.js';
import type { RunRecord, TestRecord, TestRegistration } from '../model/records.js';
import { parseTestPattern } from '../model/pattern.js';
import { isFinal, isSuccess } from '../model/states.js';
import type { Store } from '../store/store.js';
import { checkRunLock } from '../store/run-lock.js';
import { LocalJob, type JobOutcome, type LauncherContext } from './local-launcher.js';
import { buildPlan, type PlannedTest } from './plan.js';
import { Recorder } from './recorder.js';
import { Scheduler, type Job, type TestNode } from './scheduler.js';
import { buildRunEnv, buildTestEnv } from './test-env.js';
import { RunWatch } from './run-watch.js';

export interface RunOptions {
  target: string;
  runname: string;
  /** test pattern; default: runconfigs TESTPATT, else all */
  pattern?: string;
  jobs?: number;
  rerun: string[];
  rerunClean: boolean;
  rerunAll: boolean;
  preclean: boolean;
  force: boolean;
}

/** What the runner tells whoever prints progress. */
export interface RunObserver {
  planned(info: { run: RunRecord; jobs: number; toRun: number; warnings: readonly string[] }): void;
  started(job: Job): void;
  ended(job: Job, status: string, comment: string, seconds: number | null): void;
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
  seconds: number;
}

/** Runs the tests; resolves when every launched test has ended and its result is recorded. */
export async function runTests(opts: RunOptions, ctx: RunContext): Promise<RunResult> {
  const t0 = ctx.now();
  const { area, store } = ctx;
  const target = resolveTarget(area, opts.target);
  const runconfigs = readRunconfigs(area, target, ctx.env);
  const rcValues = runconfigValues(runconfigs, target);
  const rget = (k: string) => rcValues.find(([key]) => key === k)?.[1].text;
  const defs = loadTests(area, target, ctx.env, runconfigs);
  const patternText = opts.pattern ?? rget('TESTPATT') ?? '%';
  const pattern = parseTestPattern(patternText);
  const plan = buildPlan(defs, pattern);

  const existing = await store.findRun(target.name, opts.runname);
  // Refuse before claiming the run, with the store's own wording.
  if (existing) checkRunLock(existing, { force: opts.force }, 'run');
  const run = existing ?? (await store.ensureRun({ target: target.name, keys: target.keys, runname: opts.runname }));
  const liveness = { now: ctx.now(), deadtime: area.setup.deadtime };
  await store.reapDead(run.id, liveness);
  const agent = await store.claimRun(run.id, { kind: 'runner', host: ctx.host, pid: ctx.pid, procStart: ctx.procStart }, liveness);
  const writeOptions = opts.force ? { force: true, who: ctx.who } : { who: ctx.who };
  let fatal: unknown;
  const recorder = new Recorder({
    store,
    runId: run.id,
    prefix: `a${agent.id}`,
    now: ctx.now,
    options: writeOptions,
    onError: (err) => {
      fatal ??= err;
      stopEverything('the run could not be recorded');
    },
  });

  const paths = runAreaPaths(area.runArea);
  const regs: TestRegistration[] = [];
  const itemsOf = new Map<string, Item[] | null>();
  for (const p of plan.tests) {
    regs.push(registration(p.def, '', paths.workDir(target.values, opts.runname, p.def.name, [])));
    const lazy = p.def.items.items.some((v) => v.lazyCommand) || p.def.items.table.some((v) => v.lazyCommand);
    const items = p.def.hasItems && !lazy ? expandItems(p.def, { env: ctx.env as Record<string, string>, cwd: p.def.dir }) : null;
    const chosen = items?.filter((it) => !p.selected || pattern.matchItem(p.def.name, it.path)) ?? null;
    itemsOf.set(p.def.name, p.def.hasItems ? chosen : []);
    for (const it of chosen ?? []) {
      regs.push(registration(p.def, it.path, paths.workDir(target.values, opts.runname, p.def.name, it.values), it.vars));
    }
  }
  const rows = await store.registerTests(run.id, regs, writeOptions);
  const rowOf = new Map(rows.map((r) => [`${r.testname}\u0000${r.itempath}`, r]));
  const row = (test: string, itempath: string) => rowOf.get(`${test}\u0000${itempath}`)!;

  const runEnv = buildRunEnv({
    env: ctx.env,
    areaDir: area.dir,
    runArea: area.runArea,
    target,
    runname: opts.runname,
    runId: run.id,
    binDir: ctx.binDir,
    areaOverrides: area.envOverride,
    runconfig: rcValues,
    force: opts.force,
  });
  const shouldRun = (p: PlannedTest, r: TestRecord) => decideRerun(p.selected, r, opts);
  const makeJob = (node: TestNode, p: PlannedTest, item: Item | undefined, r: TestRecord): Job => {
    const run = shouldRun(p, r);
    return {
      key: item ? `${p.def.name}/${item.path}` : p.def.name,
      node,
      itempath: item?.path ?? '',
      item,
      row: r,
      priority: p.def.priority,
      jobgroup: p.def.jobgroup,
      run,
      selected: p.selected,
      phase: 'waiting',
      unmet: 0,
      status: run ? 'n/a' : r.status,
      comment: '',
      waiters: [],
    };
  };

  const nodes = new Map<string, TestNode>();
  const allJobs: Job[] = [];
  for (const p of plan.tests) {
    const node: TestNode = {
      def: p.def,
      selected: p.selected,
      waitons: p.waitons.map((n) => nodes.get(n)!),
      row: row(p.def.name, ''),
      jobs: null,
      byPath: new Map(),
      pending: 0,
      unmetExpand: 0,
      done: false,
      status: 'n/a',
      waiters: [],
    };
    const items = itemsOf.get(p.def.name);
    if (items !== null && items !== undefined) {
      node.jobs = p.def.hasItems
        ? items.map((it) => makeJob(node, p, it, row(p.def.name, it.path)))
        : [makeJob(node, p, undefined, node.row)];
      allJobs.push(...node.jobs);
    }
    nodes.set(p.def.name, node);
  }
  const plannedOf = new Map(plan.tests.map((p) => [p.def.name, p]));

  const launcherCtx: LauncherContext = {
    recorder,
    host: ctx.host,
    pid: ctx.pid,
    agentId: agent.id,
    shell: ctx.shell,
    now: ctx.now,
    readTest: (id) => store.getTestById(run.id, id),
  };
  const running = new Map<number, { job: Job; local: LocalJob; t0: number }>();
  let interrupted = false;
  let resolveIdle!: () => void;
  const idle = new Promise<void>((r) => (resolveIdle = r));

  const scheduler: Scheduler = new Scheduler(
    Math.min(opts.jobs ?? Infinity, area.setup.maxConcurrentJobs),
    area.jobgroups,
    {
      launch(job) {
        const def = job.node.def;
        const workDir = paths.workDir(target.values, opts.runname, def.name, job.item?.values ?? []);
        const env = buildTestEnv(runEnv, {
          testname: def.name,
          itempath: job.itempath,
          testId: job.row.id,
          workDir,
          testOverrides: def.envOverride,
          itemVars: job.item?.vars ?? {},
        });
        const pristine = job.row.state === 'NOT_STARTED' && job.row.status === 'n/a';
        const local = new LocalJob(
          { testId: job.row.id, testname: def.name, itempath: job.itempath, def, workDir, env, preclean: opts.preclean, reset: !pristine },
          launcherCtx,
        );
        running.set(job.row.id, { job, local, t0: ctx.now() });
        ctx.observer.started(job);
        void local.done.then((outcome: JobOutcome) => {
          const entry = running.get(job.row.id);
          running.delete(job.row.id);
          ctx.observer.ended(job, outcome.status, outcome.comment, entry ? ctx.now() - entry.t0 : null);
          scheduler.finish(job, outcome.status, outcome.comment);
        });
      },
      settle(rowId, status, comment, job) {
        const state = status === 'ABORT' && job ? 'KILLED' : 'NOT_STARTED';
        recorder.setTest(rowId, { state, status, comment });
        if (job) ctx.observer.ended(job, status, comment, null);
      },
      async expand(node) {
        const p = plannedOf.get(node.def.name)!;
        const items = expandItems(node.def, { env: runEnv, cwd: node.def.dir }).filter(
          (it) => !p.selected || pattern.matchItem(node.def.name, it.path),
        );
        const newRows = await store.registerTests(
          run.id,
          items.map((it) =>
            registration(node.def, it.path, paths.workDir(target.values, opts.runname, node.def.name, it.values), it.vars),
          ),
          writeOptions,
        );
        const jobs = items.map((it, i) => makeJob(node, p, it, newRows[i]!));
        allJobs.push(...jobs);
        return jobs;
      },
      idle: () => resolveIdle(),
    },
  );

  const stopEverything = (reason: string) => {
    if (interrupted) return;
    interrupted = true;
    scheduler.stop();
    for (const { local } of running.values()) local.stop('ABORT', reason);
  };
  const onAbort = () => stopEverything('interrupted (Ctrl-C)');
  const onHardAbort = () => {
    for (const { local } of running.values()) local.kill('interrupted (Ctrl-C twice)');
  };
  ctx.signal.addEventListener('abort', onAbort);
  ctx.hardSignal.addEventListener('abort', onHardAbort);
  const watch = new RunWatch({
    store,
    runId: run.id,
    agentId: agent.id,
    now: ctx.now,
    everySeconds: ctx.pollSeconds ?? 1,
    onKillRequest: (rowId) => {
      const entry = running.get(rowId);
      if (entry) entry.local.stop('ABORT', 'killed on request (trellis kill)');
      else {
        const job = allJobs.find((j) => j.row.id === rowId);
        if (job) scheduler.cancel(job, 'ABORT', 'killed on request (trellis kill)');
      }
    },
  });

  ctx.observer.planned({ run, jobs: allJobs.length, toRun: allJobs.filter((j) => j.run).length, warnings: plan.warnings });
  try {
    if (ctx.signal.aborted) onAbort();
    watch.start();
    scheduler.start([...nodes.values()]);
    await idle;
  } finally {
    watch.stop();
    ctx.signal.removeEventListener('abort', onAbort);
    ctx.hardSignal.removeEventListener('abort', onHardAbort);
    await recorder.flush();
    await store.endAgent(run.id, agent.id, ctx.now()).catch(() => undefined);
  }
  if (fatal) throw fatal;
  const final = (await store.getRun(run.id)) ?? run;
  // After an interrupt, tests that never got their turn are not failures: they are still to run.
  const selectedJobs = allJobs.filter((j) => j.selected && (!interrupted || j.phase === 'done'));
  const failures: Failure[] = selectedJobs
    .filter((j) => !isSuccess(j.status))
    .map((j) => ({ key: j.key, status: j.status, comment: j.comment, rundir: j.row.rundir }));
  for (const node of nodes.values()) {
    // A test that never got jobs (PREQ_FAIL before expanding, ZERO_ITEMS) fails as a whole.
    if (node.selected && node.jobs?.length === 0 && !isSuccess(node.status)) {
      failures.push({ key: node.def.name, status: node.status, comment: '', rundir: node.row.rundir });
    }
  }
  return { run: final, jobs: allJobs, failures, interrupted, seconds: ctx.now() - t0 };
}

function registration(def: TestDefinition, itempath: string, rundir: string, itemVars?: Record<string, string>): TestRegistration {
  return {
    testname: def.name,
    itempath,
    priority: def.priority,
    rundir,
    itemVars: itemVars ?? {},
    owner: def.meta.owner,
    description: def.meta.description,
    tags: def.meta.tags,
  };
}

/** Whether a job runs now or its recorded result stands (design §6 reruns). */
export function decideRerun(
  selected: boolean,
  row: TestRecord,
  opts: Pick<RunOptions, 'rerun' | 'rerunAll' | 'rerunClean'>,
): boolean {
  if (row.state !== 'COMPLETED' || !isFinal(row.state, row.status)) return true;
  if (!selected) return false;
  if (opts.rerunAll) return true;
  if (opts.rerunClean && !isSuccess(row.status)) return true;
  return opts.rerun.includes(row.status);
}

