/**
 * Running one job's steps: a test without items, or one item. The same code runs them whoever
 * started the job: the runner's local launcher (in its own process, no extra Node process per
 * test) and `trellis exec` on another host. It prepares the work folder, applies [skip], runs each
 * step in order with its log and its exit-status file in the work folder, enforces runtimelim,
 * reads back what the test reported about itself, records every change through the recorder, and
 * runs the [triggers].
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Step, TestDefinition } from '../config/types.js';
import { judgeJob, stepEndsJob } from '../model/job-outcome.js';
import type { TestDetail, WriteOptions } from '../model/records.js';
import { matchPercent } from '../model/pattern.js';
import { MANUAL_STATUS, worseStatus } from '../model/states.js';
import { jobSpecFile, removeStepExits, stepExitFile, stepGroupFile, stepLogFile, writeStepVerdict } from '../store/job-files.js';
import type { LaunchJournal } from '../store/launch-journal.js';
import type { Store } from '../store/store.js';
import { encodePathComponent } from '../util/sanitize.js';
import { processStartTime } from '../util/process-info.js';
import type { InTestRequest } from './in-test-requests.js';
import { openJobChannel } from './job-channel.js';
import type { Recorder } from './recorder.js';
import { StepProcess } from './step-process.js';
import { resolveStep, type StepInputs } from './step-refs.js';
import { judgeStep, type ExitCodeMap, type StepVerdict } from './step-verdict.js';
import { reportMarkFile } from './test-env.js';

/** What running a job needs of its test's definition (what a job spec carries to another host). */
export type JobDefinition = Pick<
  TestDefinition,
  'name' | 'dir' | 'configFile' | 'steps' | 'runscript' | 'skip' | 'triggers' | 'runtimelim' | 'logRules'
>;

/** One job as its runner sees it. */
export interface JobRunSpec {
  testId: number;
  testname: string;
  itempath: string;
  def: JobDefinition;
  workDir: string;
  env: Record<string, string>;
  /** remove the work folder before running (--preclean) */
  preclean: boolean;
  /** the row is not pristine (a rerun): clear its steps and data first (from `startAt` on, for a resume) */
  reset: boolean;
  /**
   * Index in stepsOf(def) of the first step to run: 0 runs them all; more keeps the steps before
   * it (a resume, or a test going on after its sign-off) and takes their statuses into the verdict.
   */
  startAt: number;
  /** how exit codes become statuses, and which statuses end the job: the area's kind */
  exitCodes: ExitCodeMap;
  /** the run's parameters and the producers whose values `{TEST:NAME}` reads */
  inputs: StepInputs;
  /**
   * exec's spec, to write into the work folder once it is made (an agent's job brings its spec
   * from the queue; a reaper reads the steps there should the agent die)
   */
  specText?: string;
}

/** How a job ended; WAITING: it reached a manual step and is parked until its sign-off. */
export interface JobOutcome {
  state: 'COMPLETED' | 'KILLED' | 'INCOMPLETE' | 'WAITING';
  status: string;
  comment: string;
}

export interface JobRunContext {
  recorder: Recorder;
  host: string;
  pid: number;
  agentId: number;
  shell: string;
  now: () => number;
  /** reads the row back, for statuses a test reported itself (`trellis test-status`, `set-value`) */
  readTest: (testId: number) => Promise<TestDetail | undefined>;
  /**
   * `local`: this process launched the job, so it records LAUNCHED (and the rerun's reset) itself;
   * `exec`: the runner did that on another host, and claimed the row for this process.
   */
  role: 'local' | 'exec';
  /** what the job's test reaches through its channel while its steps run (in-test-channel.ts) */
  inTest: InTestSetup;
  /** where a `local` job notes its launch before its first step (store/launch-journal.ts) */
  journal?: LaunchJournal;
}

/** What the in-test channel of every job needs. */
export interface InTestSetup {
  store: Store;
  runId: number;
  runArea: string;
  /** who writes what the tests report, and whether the run was forced */
  writeOptions: WriteOptions;
  /** reads `trellis step|test-status|set-value …` as the CLI does (it knows their options) */
  parseHelper: (argv: string[]) => InTestRequest;
}

/** A job in flight; `stop()` ends it with KILLED and the given status. */
export class JobRun {
  readonly done: Promise<JobOutcome>;
  #current: StepProcess | undefined;
  /** aborts the judging of a step's log when the job is stopped */
  readonly #judging = new AbortController();
  #stop: { status: string; reason: string } | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** RUNNING has been recorded */
  #runningSaid = false;
  /** LAUNCHED is queued, not known to be in the store (see #run) */
  #launchPending = false;
  /** producers' rows, read once per job for `{TEST:NAME}` */
  readonly #producers = new Map<string, TestDetail | undefined>();

  constructor(spec: JobRunSpec, ctx: JobRunContext) {
    this.done = this.#run(spec, ctx).finally(() => {
      if (this.#timer) clearTimeout(this.#timer);
    });
  }

  /** Stops the job: TERM to the running step's group, KILL after the grace period. */
  stop(status: string, reason: string): void {
    this.#stop ??= { status, reason };
    void this.#current?.stop(reason);
    this.#judging.abort(new Error(reason));
  }

  /** KILLs the running step at once. */
  kill(reason: string): void {
    this.#stop ??= { status: 'ABORT', reason };
    void this.#current?.kill(reason);
    this.#judging.abort(new Error(reason));
  }

  async #run(spec: JobRunSpec, ctx: JobRunContext): Promise<JobOutcome> {
    const { recorder } = ctx;
    const id = spec.testId;
    if (ctx.role === 'local') {
      if (spec.reset) recorder.push(resetOpOf(spec));
      // No status here: the reset (or a pristine row) already says n/a, and a test that reports on
      // itself before this write lands must keep what it reported.
      recorder.setTest(id, {
        state: 'LAUNCHED',
        host: ctx.host,
        pid: ctx.pid,
        agentId: ctx.agentId,
        // A test going on after its sign-off keeps its start: its time is the whole flow's.
        ...(spec.startAt > 0 && !spec.reset ? {} : { start: ctx.now() }),
        end: null,
        rundir: spec.workDir,
        launcher: 'local',
        jobId: '',
        launchId: '',
      });
      // LAUNCHED (with this runner's host and pid), or the launch journal's line for it, is there
      // before any step starts: a runner killed with -9 after its step started must leave a row
      // the reaper marks DEAD (or recovers from the exit files), never a NOT_STARTED test whose
      // step runs on untracked or runs again (#execute). The reset goes in the same batch, before
      // anything the test reports on itself (that goes through this process's recorder too).
      this.#launchPending = true;
    } else {
      recorder.setTest(id, { start: ctx.now(), end: null });
    }
    const outcome = await this.#execute(spec, ctx);
    if (outcome.state === 'WAITING') {
      // Parked: no runner or exec owns it while it waits; the reaper leaves WAITING rows alone.
      recorder.setTest(id, { state: 'WAITING', status: outcome.status, comment: outcome.comment, end: null, agentId: null, pid: null });
      // In the store before the runner says it waits: `trellis approve`, typed at once, must find it so.
      await recorder.settled();
    } else {
      recorder.setTest(id, { state: outcome.state, status: outcome.status, comment: outcome.comment, end: ctx.now() });
    }
    await runTriggers(spec, outcome, ctx.shell);
    return outcome;
  }

  async #execute(spec: JobRunSpec, ctx: JobRunContext): Promise<JobOutcome> {
    const steps = stepsOf(spec.def);
    let fresh: boolean;
    try {
      fresh = prepareWorkDir(spec, steps, ctx.role, spec.startAt);
    } catch (err) {
      return { state: 'COMPLETED', status: 'ABORT', comment: `could not prepare ${spec.workDir}: ${(err as Error).message}` };
    }
    const skip = spec.startAt === 0 ? checkSkip(spec) : undefined;
    if (skip) return { state: 'COMPLETED', status: 'SKIP', comment: skip };
    const missing = missingRunscript(spec.def, spec.env['PATH'] ?? '');
    if (missing) return { state: 'COMPLETED', status: 'FAIL', comment: missing };
    // Allowed (docs/config-reference.md): a test with nothing to run is a waiton anchor, and passes.
    if (steps.length === 0) return { state: 'COMPLETED', status: 'PASS', comment: 'no steps to run' };
    const startAt = Math.min(Math.max(spec.startAt, 0), steps.length);
    if (this.#stop) return killedOutcome(this.#stop);
    // An earlier attempt's mark would pass for this one's (a folder made now has none).
    if (!fresh) fs.rmSync(reportMarkFile(spec.workDir), { force: true });
    const limit = spec.def.runtimelim;
    if (limit !== null && limit > 0) {
      this.#timer = setTimeout(() => this.stop('TIMED_OUT', `runtime limit of ${limit}s exceeded`), limit * 1000);
    }
    // Steps kept from before (a resume, a sign-off) count as if they had run now.
    let { status, comment } = startAt === 0 ? { status: 'PASS', comment: '' } : await keptVerdict(spec, ctx, steps.slice(0, startAt));
    let parked: Step | undefined;
    // As Megatest: each step finds the scripts of its work folder by name (`.` last on PATH).
    // Its calls into trellis go through this process's channel (in-test-channel.ts), led by its key.
    // The launch is in the runner's journal before a step starts, so its LAUNCHED need not have
    // landed: a round trip to the server saved per test. Without a journal line, it must land first.
    if (this.#launchPending && !ctx.journal?.note(spec.testId, ctx.now(), spec.workDir)) await ctx.recorder.settled(true);
    this.#launchPending = false;
    const channel = openJobChannel(spec, ctx);
    const env = { ...spec.env, PATH: `${spec.env['PATH'] ?? '/usr/bin:/bin'}${path.delimiter}.`, ...channel.env };
    try {
      for (const step of steps.slice(startAt)) {
        if (this.#stop) break;
        if (step.manual) {
          // The prompt with its references filled in; one that cannot be is shown as written.
          const prompt = await this.#resolve(spec, ctx, step, 'text');
          parked = 'command' in prompt ? { ...step, command: prompt.command } : step;
          this.#markRunning(spec, ctx);
          recordSignOffDue(spec, ctx, parked);
          break;
        }
        const result = await this.#runStep(spec, ctx, step, env);
        // The comment says why the status is what it is: the step that made it worst.
        if (worseStatus(status, result.status) !== status) comment = result.comment;
        status = worseStatus(status, result.status);
        if (stepEndsJob(result.status, spec.exitCodes)) {
          comment = result.comment;
          break;
        }
      }
    } finally {
      // What the steps asked is answered (and recorded) before the job is judged.
      await channel.close();
    }
    const stopped = this.#stopRequest();
    if (stopped) return killedOutcome(stopped);
    if (parked) return { state: 'WAITING', status: MANUAL_STATUS, comment: signOffComment(parked) };
    // What the test reported itself (its helpers wrote it before its steps ended, and left the
    // mark); the runner's own queued writes do not change status or data, so need not land first.
    const reported = fs.existsSync(reportMarkFile(spec.workDir)) ? await ctx.readTest(spec.testId) : undefined;
    return { state: 'COMPLETED', ...judgeJob({ status, comment }, reported) };
  }

  /**
   * RUNNING, said once, with the first step's own record (its pid known): one write where there
   * were two, the test's state and its step's, a quarter of a short test's writes.
   */
  #markRunning(spec: JobRunSpec, ctx: JobRunContext): void {
    if (this.#runningSaid) return;
    this.#runningSaid = true;
    // Only over LAUNCHED: said with the step's record, it may land after a kill request
    // (`trellis kill`, the runner's Ctrl-C), which must stay for the kill to be seen.
    ctx.recorder.push({ kind: 'test', testId: spec.testId, set: { state: 'RUNNING' }, ifState: 'LAUNCHED' });
  }

  // A method, not the field, so TypeScript does not carry a narrowing across awaits.
  #stopRequest(): { status: string; reason: string } | undefined {
    return this.#stop;
  }

  async #runStep(spec: JobRunSpec, ctx: JobRunContext, step: Step, env: Record<string, string>): Promise<StepVerdict> {
    const logfile = stepLogFile(spec.workDir, step.name);
    const resolved = await this.#resolve(spec, ctx, step);
    if ('problem' in resolved) return this.#refusedStep(spec, ctx, step, logfile, resolved.problem);
    const proc = new StepProcess({
      command: resolved.command,
      cwd: spec.workDir,
      env,
      logfile,
      shell: ctx.shell,
      files: { exit: stepExitFile(spec.workDir, step.name), group: stepGroupFile(spec.workDir, step.name) },
    });
    this.#current = proc;
    const pid = (await proc.started) ?? null;
    this.#markRunning(spec, ctx);
    ctx.recorder.push({
      kind: 'step',
      testId: spec.testId,
      name: step.name,
      state: 'RUNNING',
      status: 'n/a',
      logfile,
      pid,
      procStart: pid === null ? null : processStartTime(pid),
    });
    if (this.#stop) void proc.stop(this.#stop.reason);
    const exit = await proc.exited;
    this.#current = undefined;
    let verdict: StepVerdict | undefined;
    if (exit.stopReason === null) {
      try {
        const rules = spec.def.logRules.get(step.name);
        verdict = await judgeStep({
          step: step.name,
          logfile,
          code: exit.code,
          signal: exit.signal,
          rules,
          map: spec.exitCodes,
          now: ctx.now(),
          abort: this.#judging.signal,
        });
        // Before the step is reported: a reaper then recovers the rules' verdict, not the exit code.
        if (rules !== undefined) writeStepVerdict(spec.workDir, step.name, verdict.status);
      } catch (err) {
        // Only a stop ends a judging pass early; anything else is a fault worth its message.
        if (!this.#judging.signal.aborted)
          verdict = { status: 'ABORT', comment: `step ${step.name}: its log could not be judged (${(err as Error).message})` };
      }
    }
    const killed = verdict === undefined;
    const { status, comment } = verdict ?? { status: 'ABORT', comment: exit.stopReason ?? this.#stop?.reason ?? 'stopped' };
    if (verdict?.rules) ctx.recorder.push({ kind: 'rules', testId: spec.testId, step: step.name, rules: verdict.rules });
    for (const v of verdict?.values ?? []) {
      ctx.recorder.push({ kind: 'data', testId: spec.testId, ...v, units: null });
    }
    ctx.recorder.push({
      kind: 'step',
      testId: spec.testId,
      name: step.name,
      state: killed ? 'KILLED' : 'COMPLETED',
      status,
      exitCode: exit.code,
      logfile,
      comment: status === 'PASS' ? '' : comment,
      pid: null,
      procStart: null,
    });
    return { status, comment };
  }

  /** The step's command with its `{…}` references filled in (design §6b), or why it cannot run. */
  async #resolve(spec: JobRunSpec, ctx: JobRunContext, step: Step, render: 'shell' | 'text' = 'shell') {
    const { store, runId } = ctx.inTest;
    return resolveStep(
      step,
      spec.inputs,
      {
        readOwn: async () => {
          // Values the log rules of earlier steps found go through the recorder: they land first.
          await ctx.recorder.settled();
          return ctx.readTest(spec.testId);
        },
        readTest: (testname, itempath) => store.getTest(runId, testname, itempath),
      },
      this.#producers,
      render,
    );
  }

  /** A step whose references cannot be filled in: FAIL, with the reason in its log and comment. */
  #refusedStep(spec: JobRunSpec, ctx: JobRunContext, step: Step, logfile: string, problem: string): StepVerdict {
    try {
      fs.writeFileSync(logfile, `trellis: ${problem}\n`);
    } catch {
      // The comment still says it; a work folder that cannot be written fails elsewhere too.
    }
    this.#markRunning(spec, ctx);
    ctx.recorder.push({
      kind: 'step',
      testId: spec.testId,
      name: step.name,
      state: 'COMPLETED',
      status: 'FAIL',
      exitCode: null,
      logfile,
      comment: problem,
      pid: null,
      procStart: null,
    });
    return { status: 'FAIL', comment: problem };
  }
}

/** The write that clears a row before it runs again: all of it, or (a resume) from its start step on. */
export function resetOpOf(
  spec: Pick<JobRunSpec, 'def' | 'startAt' | 'testId'>,
): { kind: 'reset'; testId: number } | { kind: 'resume'; testId: number; fromStep: string } {
  const from = spec.startAt > 0 ? stepsOf(spec.def)[spec.startAt] : undefined;
  return from ? { kind: 'resume', testId: spec.testId, fromStep: from.name } : { kind: 'reset', testId: spec.testId };
}

/** The worst status of the kept steps as recorded (PASS when none is), with the comment of the worst. */
export async function keptVerdict(
  spec: JobRunSpec,
  ctx: Pick<JobRunContext, 'readTest'>,
  kept: readonly Step[],
): Promise<{ status: string; comment: string }> {
  const row = await ctx.readTest(spec.testId);
  let status = 'PASS';
  let comment = '';
  for (const step of kept) {
    const rec = row?.steps.find((s) => s.name === step.name);
    if (rec === undefined || rec.state !== 'COMPLETED') continue;
    if (worseStatus(status, rec.status) !== status) comment = rec.comment;
    status = worseStatus(status, rec.status);
  }
  return { status, comment };
}

/** A manual step's row while its sign-off is due: WAITING/MANUAL, its prompt as the comment. */
function recordSignOffDue(spec: JobRunSpec, ctx: JobRunContext, step: Step): void {
  ctx.recorder.push({
    kind: 'step',
    testId: spec.testId,
    name: step.name,
    state: 'WAITING',
    status: MANUAL_STATUS,
    comment: step.command,
    logfile: '',
  });
}

/** What a parked test says about itself (`list tests`, `show`, reports): the step and its prompt. */
export function signOffComment(step: Pick<Step, 'name' | 'command'>): string {
  return `sign-off due at step ${step.name}: ${step.command.trim()}`;
}

function killedOutcome(stop: { status: string; reason: string }): JobOutcome {
  return { state: 'KILLED', status: stop.status, comment: stop.reason };
}

/**
 * Runs the [triggers] whose `STATE/STATUS` key matches how the job ended (`%` wildcards; an
 * empty side matches anything), like Megatest: `CMD TEST_ID RUNDIR KEY`, in the work folder,
 * output to `trigger-<key>.log`. The job ends when they have.
 */
export async function runTriggers(spec: JobRunSpec, outcome: JobOutcome, shell: string): Promise<void> {
  for (const trigger of spec.def.triggers) {
    const [state = '', status = ''] = trigger.when.split('/');
    if ((state !== '' && !matchPercent(state, outcome.state)) || (status !== '' && !matchPercent(status, outcome.status))) continue;
    if (!fs.existsSync(spec.workDir)) continue;
    const proc = new StepProcess({
      command: `${trigger.command} "$@"`,
      args: ['trigger', String(spec.testId), spec.workDir, trigger.when],
      cwd: spec.workDir,
      env: { ...spec.env, TRELLIS_TRIGGER: trigger.when },
      logfile: path.join(spec.workDir, `trigger-${encodePathComponent(trigger.when)}.log`),
      shell,
    });
    await proc.exited;
  }
}

/** Says why the runscript cannot run (not in the test folder, not on PATH), or undefined. */
export function missingRunscript(def: JobDefinition, pathVar: string): string | undefined {
  const script = def.runscript?.command.split(/\s+/)[0];
  if (!script) return undefined;
  if (script.includes('/')) {
    return fs.existsSync(path.resolve(def.dir, script))
      ? undefined
      : `runscript ${script} not found (${def.runscript!.loc.file}:${def.runscript!.loc.line})`;
  }
  if (fs.existsSync(path.join(def.dir, script))) return undefined;
  if (pathVar.split(path.delimiter).some((d) => d !== '' && fs.existsSync(path.join(d, script)))) return undefined;
  return `runscript ${script} not found in ${def.dir} or on PATH (${def.runscript!.loc.file}:${def.runscript!.loc.line})`;
}

/** The steps of a test: its [ezsteps], then its runscript as one step named after the script. */
export function stepsOf(def: JobDefinition): Step[] {
  const steps = [...def.steps];
  if (def.runscript) {
    const name = path.basename(def.runscript.command.split(/\s+/)[0] ?? 'runscript');
    const script = def.runscript.command;
    const local = path.join(def.dir, script.split(/\s+/)[0] ?? '');
    // A runscript in the test folder is copied into the work folder, so run that copy.
    const command = !script.includes('/') && fs.existsSync(local) ? `./${script}` : script;
    steps.push({ name, command, loc: def.runscript.loc });
  }
  return steps;
}

/**
 * Makes the work folder and copies the test's files into it. A job the runner runs itself gets a
 * small job file here naming its steps (the reaper's list, should the runner die); `trellis exec`
 * finds the whole spec already written by the runner, and an agent writes the one it took from
 * the queue (`specText`). True when the folder was made now (nothing of an earlier attempt in it).
 */
export function prepareWorkDir(spec: JobRunSpec, steps: readonly Step[], role: JobRunContext['role'], startAt: number): boolean {
  // A resume keeps the logs of the steps before its start: never preclean it.
  if (spec.preclean && startAt === 0) fs.rmSync(spec.workDir, { recursive: true, force: true });
  // A folder made now holds nothing to check or clear (most work folders of a new run).
  const fresh = fs.mkdirSync(spec.workDir, { recursive: true }) !== undefined;
  // Copy the test's files (scripts, data) so steps find them beside their logs.
  for (const entry of fs.readdirSync(spec.def.dir, { withFileTypes: true })) {
    const from = path.join(spec.def.dir, entry.name);
    const to = path.join(spec.workDir, entry.name);
    // A plain file (most tests have only their testconfig) is copied as it is: cpSync's checks of
    // both sides cost a third of a millisecond a test (bench/launch-vs-ctest.mjs).
    if (entry.isFile() && (fresh || isFileOrNothingAt(to))) fs.copyFileSync(from, to);
    else fs.cpSync(from, to, { recursive: true, force: true, dereference: false });
  }
  // Exit files of an earlier attempt in this folder would pass for this one's.
  if (!fresh) {
    removeStepExits(
      spec.workDir,
      steps.slice(startAt).map((s) => s.name),
    );
  }
  if (role === 'local') {
    const job = {
      version: 1,
      kind: 'local',
      testId: spec.testId,
      exitCodes: spec.exitCodes,
      def: { steps: steps.map((s) => ({ name: s.name, rules: spec.def.logRules.has(s.name) })) },
    };
    fs.writeFileSync(jobSpecFile(spec.workDir), `${JSON.stringify(job)}\n`);
  } else if (spec.specText !== undefined) {
    fs.writeFileSync(jobSpecFile(spec.workDir), spec.specText, { mode: 0o640 });
  }
  return fresh;
}

/** True when `file` is a regular file or nothing: a copy may go there without following a link. */
function isFileOrNothingAt(file: string): boolean {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  return st === undefined || st.isFile();
}

/** Returns why the test is skipped, or undefined to run it. */
export function checkSkip(spec: JobRunSpec): string | undefined {
  const { skip } = spec.def;
  if (skip.fileexists && fs.existsSync(path.resolve(spec.workDir, skip.fileexists))) {
    return `skipped: ${skip.fileexists} exists`;
  }
  if (skip.filenotexists && !fs.existsSync(path.resolve(spec.workDir, skip.filenotexists))) {
    return `skipped: ${skip.filenotexists} does not exist`;
  }
  if (skip.script) {
    const res = spawnSync('/bin/sh', ['-c', skip.script], { cwd: spec.workDir, env: spec.env, stdio: 'ignore' });
    if (res.status === 0) return `skipped: [skip] script '${skip.script}' exited 0`;
  }
  return undefined;
}
