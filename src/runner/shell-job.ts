/**
 * A Slurm job that starts no Node process on its node: a POSIX shell script, written by the runner
 * into the work folder, runs the test's steps itself (`[slurm] job shell`, the default for the
 * tests it can run). Starting `trellis exec` costs every job a Node start, twice what Slurm spends
 * on a job of `true` (docs/benchmarks.md); this script costs nothing but its shell.
 *
 * The script does what exec does on the node, with shell builtins only: it takes the job with a
 * claim file (`set -C`: a requeued or doubled job finds it taken and runs nothing), notes its node,
 * runs each step in a subshell with its log, writes each step's exit-status file (the same file
 * exec's steps write) unless it was stopped, and goes on or stops by the area's exit-code rule.
 * The runner does the rest, with the same code as exec: RUNNING with the node when squeue shows the
 * job running, the runtime limit (scancel), and at the job's end each step's verdict from its exit
 * file (times from the files' own times), the test's own reports, the outcome and the [triggers].
 * A runner that dies meanwhile leaves the exit files and a job file naming the steps: the reaper
 * recovers the finished steps from them, as for the local launcher.
 *
 * Tests that need a step to be judged or filled in while the job runs go through exec as before:
 * log rules (a step's verdict may stop the job), a manual step, a `{NAME}` value an earlier step
 * of the same job records, and Megatest areas (their in-test commands use the job's channel).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Step } from '../config/types.js';
import { stepEndsJob } from '../model/job-outcome.js';
import { judgeJob } from '../model/job-outcome.js';
import { worseStatus } from '../model/states.js';
import { parseStepTemplate } from '../model/step-template.js';
import type { TestDetail } from '../model/records.js';
import { readStepExit, stepExitFile, stepLogFile } from '../store/job-files.js';
import { shellQuote } from '../util/shell-quote.js';
import {
  checkSkip,
  keptVerdict,
  missingRunscript,
  prepareWorkDir,
  resetOpOf,
  runTriggers,
  stepsOf,
  type JobOutcome,
  type JobRunSpec,
} from './job-run.js';
import type { JobStart, LaunchedJob } from './launcher.js';
import { jobLabel, type EngineEnd, type RemoteContext, type Submission } from './remote-job.js';
import { resolveStep } from './step-refs.js';
import { exitStatus, judgeStep, type ExitCodeMap } from './step-verdict.js';
import { reportMarkFile } from './test-env.js';

/** The files of a shell job in its work folder. */
export const SHELL_JOB = {
  script: '.trellis-job.sh',
  /** made with `set -C` by the first shell that runs the job: its pid */
  claim: '.trellis-claim',
  /** the node the job runs on, written when it starts */
  started: '.trellis-started',
} as const;

/** Why a job needs `trellis exec` on its node, or undefined when a shell job can run it. */
export function needsExec(job: Pick<JobStart, 'def' | 'startAt' | 'exitCodes' | 'inputs'>): string | undefined {
  if (job.exitCodes === 'megatest') return 'a Megatest area (its in-test commands talk to exec)';
  const steps = stepsOf(job.def).slice(job.startAt);
  for (const step of steps) {
    if (step.manual) return `step ${step.name} is a manual step`;
    if (job.def.logRules.has(step.name)) return `step ${step.name} has log rules`;
    for (const ref of parseStepTemplate(step.command).refs) {
      if (ref.test === undefined && !(ref.name in job.inputs.params)) return `step ${step.name} uses ${ref.text}, a value of its own test`;
    }
  }
  return undefined;
}

/** The exit codes after which the next step runs (the others end the job), by the area's rule. */
export function continuingCodes(map: ExitCodeMap): number[] {
  const out: number[] = [];
  for (let code = 0; code <= 255; code++) if (!stepEndsJob(exitStatus(code, null, map), map)) out.push(code);
  return out;
}

export interface ShellJobScript {
  label: string;
  workDir: string;
  /** what the test's environment adds to the runner's (sbatch passes the runner's on) */
  env: Readonly<Record<string, string>>;
  /** the steps to run, their references filled in */
  steps: ReadonlyArray<{ name: string; command: string }>;
  /** the area's shell for steps: /bin/sh runs them in a subshell of the script's own */
  shell: string;
  continuing: readonly number[];
}

/** The job script: POSIX shell, builtins only on the way (the steps are the only programs it starts). */
export function shellJobScript(s: ShellJobScript): string {
  const q = shellQuote;
  const lines = [
    '#!/bin/sh',
    `# trellis ${s.label.replace(/[\r\n]/g, ' ')}: its steps, run by this shell (a Slurm job of Trellis, src/runner/shell-job.ts)`,
    `cd ${q(s.workDir)} || exit 1`,
    '# The first shell to run this job takes it; a second (requeued, doubled) runs nothing.',
    'set -C',
    `if ! { echo "$$" > ${SHELL_JOB.claim}; } 2>/dev/null; then echo "trellis: this job ran here before (${SHELL_JOB.claim})" >&2; exit 0; fi`,
    'set +C',
    `echo "\${SLURMD_NODENAME:-}" > ${SHELL_JOB.started}`,
  ];
  for (const [k, v] of Object.entries(s.env)) {
    // A name the shell cannot export (Node may pass any) stays out; the test's own are all words.
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) lines.push(`export ${k}=${q(v)}`);
  }
  // As Megatest: each step finds the scripts of its work folder by name (`.` last on PATH).
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell text, expanded by the job's shell
  lines.push('PATH="${PATH:-/usr/bin:/bin}:."; export PATH');
  // TERM (scancel, a kill, the runtime limit) reaches every process of the job: a step it stopped
  // leaves no exit file, as with exec.
  lines.push("trap 'trellis_stop=1' TERM");
  const cont = s.continuing.length > 0 ? s.continuing.join('|') : '-1';
  const inline = s.shell === '/bin/sh' || s.shell === 'sh';
  for (const step of s.steps) {
    const log = path.basename(stepLogFile(s.workDir, step.name));
    const exit = path.basename(stepExitFile(s.workDir, step.name));
    lines.push(`# step ${step.name.replace(/[\r\n]/g, ' ')}`);
    // Newlines around the command, as exec's wrapper: `((` and a trailing comment stay harmless.
    if (inline) lines.push('(', step.command, `) > ${q(log)} 2>&1 < /dev/null`);
    else lines.push(`${q(s.shell)} -c ${q(step.command)} > ${q(log)} 2>&1 < /dev/null`);
    lines.push('trellis_rc=$?', '[ -z "$trellis_stop" ] || exit 143', `echo $trellis_rc > ${q(exit)}`);
    lines.push(`case $trellis_rc in ${cont}) ;; *) exit 0 ;; esac`);
  }
  return `${lines.join('\n')}\n`;
}

/** What a shell job needs of the Slurm engine. */
export interface ScriptEngine {
  readonly kind: string;
  submitScript(job: JobStart, script: string): Promise<Submission & { running: Promise<string> }>;
}

/** A test or item run as a shell job on Slurm. */
export class ShellJob implements LaunchedJob {
  readonly done: Promise<JobOutcome>;
  readonly #job: JobStart;
  readonly #ctx: RemoteContext;
  readonly #engine: ScriptEngine;
  #stop: { status: string; reason: string } | undefined;
  #submission: Submission | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(job: JobStart, ctx: RemoteContext, engine: ScriptEngine) {
    this.#job = job;
    this.#ctx = ctx;
    this.#engine = engine;
    this.done = this.#run().finally(() => {
      if (this.#timer) clearTimeout(this.#timer);
    });
  }

  /** Cancels the Slurm job (TERM to all of it, KILL after Slurm's KillWait); ends KILLED with `status`. */
  stop(status: string, reason: string): void {
    if (this.#stop) return;
    this.#stop = { status, reason };
    this.#submission?.cancel();
  }

  kill(reason: string): void {
    this.stop('ABORT', reason);
  }

  #spec(): JobRunSpec {
    const j = this.#job;
    return {
      testId: j.testId,
      testname: j.testname,
      itempath: j.itempath,
      def: j.def,
      workDir: j.workDir,
      env: j.env,
      preclean: j.preclean,
      reset: j.reset,
      startAt: j.startAt,
      exitCodes: j.exitCodes,
      inputs: j.inputs,
    };
  }

  async #run(): Promise<JobOutcome> {
    const { recorder } = this.#ctx;
    const job = this.#job;
    const spec = this.#spec();
    if (job.reset) recorder.push(resetOpOf(job));
    recorder.setTest(job.testId, {
      state: 'LAUNCHED',
      host: '',
      pid: null,
      agentId: this.#ctx.agentId,
      ...(job.startAt > 0 && !job.reset ? {} : { start: this.#ctx.now() }),
      end: null,
      rundir: job.workDir,
      launcher: this.#engine.kind,
      jobId: '',
      launchId: '',
    });
    await recorder.settled();
    const steps = stepsOf(job.def);
    const early = await this.#prepare(spec, steps);
    if (early) return this.#finish(early);
    const startAt = Math.min(Math.max(job.startAt, 0), steps.length);
    const toRun: Array<{ step: Step; command: string }> = [];
    let refused: { step: Step; problem: string } | undefined;
    const producers = new Map<string, TestDetail | undefined>();
    for (const step of steps.slice(startAt)) {
      const r = await resolveStep(
        step,
        job.inputs,
        {
          // needsExec sent every job whose steps read their own values to exec.
          readOwn: async () => undefined,
          readTest: (testname, itempath) => this.#ctx.store.getTest(this.#ctx.runId, testname, itempath),
        },
        producers,
      );
      if ('problem' in r) {
        refused = { step, problem: r.problem };
        break;
      }
      toRun.push({ step, command: r.command });
    }
    if (this.#stop) return this.#finish({ state: 'KILLED', status: this.#stop.status, comment: this.#stop.reason });
    let ended: EngineEnd = { final: true, reason: '' };
    if (toRun.length > 0) {
      // No channel here (no exec to answer one): in-test helpers report through the run area's server.
      const env = { ...job.envDelta() };
      const script = path.join(job.workDir, SHELL_JOB.script);
      fs.writeFileSync(
        script,
        shellJobScript({
          label: `${jobLabel(job)} (${this.#ctx.target}/${this.#ctx.runname})`,
          workDir: job.workDir,
          env,
          steps: toRun.map((t) => ({ name: t.step.name, command: t.command })),
          shell: this.#ctx.shell,
          continuing: continuingCodes(job.exitCodes),
        }),
        { mode: 0o750 },
      );
      let sub: Submission & { running: Promise<string> };
      try {
        sub = await this.#engine.submitScript(job, script);
      } catch (err) {
        return this.#finish({
          state: 'INCOMPLETE',
          status: 'DEAD',
          comment: `could not start it with the ${this.#engine.kind} launcher: ${(err as Error).message}`,
        });
      }
      this.#submission = sub;
      recorder.setTest(job.testId, { jobId: sub.jobId });
      if (this.#stop) sub.cancel();
      void sub.running.then((node) => {
        if (node === '' || this.#stop) return;
        // Only over LAUNCHED: a kill request (KILLREQ) written meanwhile must stay for the runner to see.
        recorder.push({ kind: 'test', testId: job.testId, set: { state: 'RUNNING', host: node }, ifState: 'LAUNCHED' });
        const limit = job.def.runtimelim;
        if (limit !== null && limit > 0) {
          this.#timer = setTimeout(() => this.stop('TIMED_OUT', `runtime limit of ${limit}s exceeded`), limit * 1000);
        }
      });
      ended = await sub.ended;
      if (this.#timer) clearTimeout(this.#timer);
    }
    return this.#finish(await this.#replay(spec, steps.slice(0, startAt), toRun, refused, ended));
  }

  /** The work folder, [skip] and the runscript, before anything is submitted: an outcome ends it here. */
  async #prepare(spec: JobRunSpec, steps: readonly Step[]): Promise<JobOutcome | undefined> {
    try {
      prepareWorkDir(spec, steps, 'local', spec.startAt);
      for (const f of [SHELL_JOB.claim, SHELL_JOB.started]) fs.rmSync(path.join(spec.workDir, f), { force: true });
      fs.rmSync(reportMarkFile(spec.workDir), { force: true });
    } catch (err) {
      return { state: 'COMPLETED', status: 'ABORT', comment: `could not prepare ${spec.workDir}: ${(err as Error).message}` };
    }
    const skip = spec.startAt === 0 ? checkSkip(spec) : undefined;
    if (skip) return { state: 'COMPLETED', status: 'SKIP', comment: skip };
    const missing = missingRunscript(spec.def, spec.env['PATH'] ?? '');
    if (missing) return { state: 'COMPLETED', status: 'FAIL', comment: missing };
    if (steps.length === 0) return { state: 'COMPLETED', status: 'PASS', comment: 'no steps to run' };
    return undefined;
  }

  /** Reads what the job left (exit files and their times), records each step, and judges the test. */
  async #replay(
    spec: JobRunSpec,
    kept: readonly Step[],
    ran: ReadonlyArray<{ step: Step }>,
    refused: { step: Step; problem: string } | undefined,
    end: EngineEnd,
  ): Promise<JobOutcome> {
    const { recorder, now } = this.#ctx;
    const id = spec.testId;
    const started = path.join(spec.workDir, SHELL_JOB.started);
    const node = readTrimmed(started);
    if (node) recorder.setTest(id, { host: node });
    let prev = mtimeOf(started);
    let { status, comment } =
      kept.length === 0 ? { status: 'PASS', comment: '' } : await keptVerdict(spec, { readTest: (t) => this.#read(t) }, kept);
    let complete = true;
    let stoppedByStep = false;
    for (const { step } of ran) {
      const logfile = stepLogFile(spec.workDir, step.name);
      let code = readStepExit(spec.workDir, step.name);
      // Ended by a signal while Slurm (or we) ended the job: stopped, whatever its shell managed to
      // write first (the step can die of the TERM a moment before the script's own trap sees it).
      if (code !== undefined && code >= 128 && (this.#stop !== undefined || end.mark !== undefined)) code = undefined;
      if (code === undefined) {
        // It began (its log is there) and left no exit: stopped, or its node was lost.
        if (prev !== undefined && fs.existsSync(logfile)) {
          recorder.push(
            { kind: 'step', testId: id, name: step.name, state: 'RUNNING', status: 'n/a', logfile, pid: null, procStart: null },
            prev,
          );
          const why = this.#stop?.reason ?? end.reason;
          recorder.push({
            kind: 'step',
            testId: id,
            name: step.name,
            state: 'KILLED',
            status: 'ABORT',
            logfile,
            comment: why,
            pid: null,
            procStart: null,
          });
        }
        complete = false;
        break;
      }
      const at = mtimeOf(stepExitFile(spec.workDir, step.name)) ?? now();
      recorder.push(
        { kind: 'step', testId: id, name: step.name, state: 'RUNNING', status: 'n/a', logfile, pid: null, procStart: null },
        prev ?? at,
      );
      const v = await judgeStep({ step: step.name, logfile, code, signal: null, rules: undefined, map: spec.exitCodes, now: now() });
      recorder.push(
        {
          kind: 'step',
          testId: id,
          name: step.name,
          state: 'COMPLETED',
          status: v.status,
          exitCode: code,
          logfile,
          comment: v.status === 'PASS' ? '' : v.comment,
          pid: null,
          procStart: null,
        },
        at,
      );
      prev = at;
      if (worseStatus(status, v.status) !== status) comment = v.comment;
      status = worseStatus(status, v.status);
      if (stepEndsJob(v.status, spec.exitCodes)) {
        comment = v.comment;
        stoppedByStep = true;
        break;
      }
    }
    if (this.#stop) return { state: 'KILLED', status: this.#stop.status, comment: this.#stop.reason };
    if (!complete) {
      const mark = end.mark ?? { state: 'INCOMPLETE', status: 'DEAD' };
      return { state: mark.state as JobOutcome['state'], status: mark.status, comment: end.reason || 'the job ended before its steps did' };
    }
    if (refused && !stoppedByStep) {
      const logfile = stepLogFile(spec.workDir, refused.step.name);
      try {
        fs.writeFileSync(logfile, `trellis: ${refused.problem}\n`);
      } catch {
        // the comment says it
      }
      recorder.push({
        kind: 'step',
        testId: id,
        name: refused.step.name,
        state: 'COMPLETED',
        status: 'FAIL',
        exitCode: null,
        logfile,
        comment: refused.problem,
        pid: null,
        procStart: null,
      });
      if (worseStatus(status, 'FAIL') !== status) comment = refused.problem;
      status = worseStatus(status, 'FAIL');
    }
    const reported = fs.existsSync(reportMarkFile(spec.workDir)) ? await this.#read(id) : undefined;
    return { state: 'COMPLETED', ...judgeJob({ status, comment }, reported) };
  }

  async #read(testId: number): Promise<TestDetail | undefined> {
    try {
      return await this.#ctx.store.getTestById(this.#ctx.runId, testId);
    } catch {
      return undefined;
    }
  }

  /** Records the end, runs the [triggers] (here, on the runner's host) and settles the job. */
  async #finish(outcome: JobOutcome): Promise<JobOutcome> {
    this.#ctx.recorder.setTest(this.#job.testId, {
      state: outcome.state,
      status: outcome.status,
      comment: outcome.comment,
      end: this.#ctx.now(),
    });
    await runTriggers(this.#spec(), outcome, this.#ctx.shell);
    return outcome;
  }
}

function mtimeOf(file: string): number | undefined {
  try {
    return fs.statSync(file).mtimeMs / 1000;
  } catch {
    return undefined;
  }
}

function readTrimmed(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().slice(0, 255);
  } catch {
    return '';
  }
}
