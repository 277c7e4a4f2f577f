/**
 * The job spec (design §6): what a remote launcher's `trellis exec` needs to run one test or item,
 * written by the runner into the job's work folder (never a blob on a command line: `ps` shows the
 * spec's path, which names target, run, test and item). Read back with every field checked: a spec
 * names nothing outside its run area, and its own path is its work folder's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isInside } from '../config/paths.js';
import type { SourceLocation } from '../util/errors.js';
import { TrellisError } from '../util/errors.js';
import { writeFileAtomic } from '../util/files.js';
import { reviveRuleSet, serializeRuleSet, type RuleSet, type RuleSetJson } from '../logrules/index.js';
import { jobSpecFile } from '../store/job-files.js';
import type { JobDefinition } from './job-run.js';
import { NO_INPUTS, type StepInputs } from './step-refs.js';
import type { ExitCodeMap } from './step-verdict.js';

/** A test's definition as it travels in a spec: its log rules as JSON. */
export type JobDefinitionJson = Omit<JobDefinition, 'logRules'> & { logRules: Record<string, RuleSetJson> };

export const JOB_SPEC_VERSION = 1;

export interface JobSpec {
  version: typeof JOB_SPEC_VERSION;
  kind: 'remote';
  /** the launch this spec belongs to: exec runs it only while the row carries this id */
  launchId: string;
  /** `slurm`, `ssh`, `command` */
  launcher: string;
  runArea: string;
  areaDir: string;
  runId: number;
  testId: number;
  target: string;
  runname: string;
  testname: string;
  itempath: string;
  workDir: string;
  def: JobDefinitionJson;
  /** how the area maps exit codes (a megatest.config area: Megatest's rule) */
  exitCodes: ExitCodeMap;
  /** the run's parameters and the producers `{TEST:NAME}` reads (specs of older versions: none) */
  inputs: StepInputs;
  /** what the test's environment adds to the environment exec finds on its host */
  env: Record<string, string>;
  /** the shell steps run with */
  shell: string;
  /** the run was forced onto a locked run: exec's writes are forced too */
  force: boolean;
  /** who started the run (user@host), for the events log */
  who: string;
  /** [setup] deadtime of the area: how long exec's heartbeat may be silent */
  deadtime: number;
  /** the first step to run (index in the steps with the runscript last); absent: 0 */
  startAt?: number;
}

/** Writes the spec into its work folder (atomically: exec never reads half of one). */
export function writeJobSpec(spec: JobSpec): string {
  const file = jobSpecFile(spec.workDir);
  writeFileAtomic(file, `${JSON.stringify(spec, null, 1)}\n`, 0o640);
  return file;
}

/** Most bytes a spec may have. */
const MAX_SPEC_BYTES = 8 * 1024 * 1024;

/**
 * Reads and checks the spec at `file`. On a network filesystem a spec just written elsewhere may
 * take a moment to appear: a missing file is looked for again for up to `waitMs`.
 */
export async function readJobSpec(
  file: string,
  waitMs = 10_000,
  sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
): Promise<JobSpec> {
  const abs = path.resolve(file);
  let text: string | undefined;
  for (const started = Date.now(); ; ) {
    try {
      const stat = fs.statSync(abs);
      if (!stat.isFile()) throw badJob(abs, 'is not a regular file');
      if (stat.size > MAX_SPEC_BYTES) throw badJob(abs, `is ${stat.size} bytes, more than a job spec ever has`);
      text = fs.readFileSync(abs, 'utf8');
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        if (err instanceof TrellisError) throw err;
        throw badJob(abs, `cannot be read (${(err as Error).message})`);
      }
      if (Date.now() - started >= waitMs) throw badJob(abs, 'does not exist');
      await sleep(250);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badJob(abs, `is not JSON (${(err as Error).message})`);
  }
  const spec = validateJobSpec(value, abs);
  return spec;
}

/** Checks a parsed spec; throws BAD_JOB naming the file and the first problem. */
export function validateJobSpec(value: unknown, file: string): JobSpec {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const fail = (what: string) => badJob(file, what);
  if (v['version'] !== JOB_SPEC_VERSION || v['kind'] !== 'remote') throw fail(`is not a version ${JOB_SPEC_VERSION} remote job spec`);
  const str = (k: string, allowEmpty = false): string => {
    const x = v[k];
    if (typeof x !== 'string' || (!allowEmpty && x === '') || x.length > 4096) throw fail(`has no valid '${k}'`);
    return x;
  };
  const int = (k: string): number => {
    const x = v[k];
    if (!Number.isInteger(x) || (x as number) < 1) throw fail(`has no valid '${k}'`);
    return x as number;
  };
  for (const k of ['launchId', 'launcher', 'runArea', 'areaDir', 'target', 'runname', 'testname', 'workDir', 'shell', 'who'])
    str(k, k === 'who');
  str('itempath', true);
  int('runId');
  int('testId');
  if (typeof v['force'] !== 'boolean') throw fail("has no valid 'force'");
  if (typeof v['deadtime'] !== 'number' || !(v['deadtime'] > 0)) throw fail("has no valid 'deadtime'");
  if (v['startAt'] !== undefined && (!Number.isInteger(v['startAt']) || (v['startAt'] as number) < 0)) throw fail("has no valid 'startAt'");
  const runArea = path.resolve(v['runArea'] as string);
  const workDir = path.resolve(v['workDir'] as string);
  if (!isInside(runArea, workDir) || workDir === runArea)
    throw fail(`names a work folder outside its run area (${workDir} is not inside ${runArea})`);
  if (path.resolve(file) !== jobSpecFile(workDir)) throw fail(`is not the spec of its own work folder (${jobSpecFile(workDir)})`);
  if (!path.isAbsolute(v['shell'] as string)) throw fail("has a 'shell' that is not an absolute path");
  const env = v['env'];
  if (typeof env !== 'object' || env === null || Array.isArray(env) || Object.values(env).some((x) => typeof x !== 'string')) {
    throw fail("has no valid 'env' (names to strings)");
  }
  validateDefinition(v['def'], fail);
  // Specs written before log rules and area kinds travelled have neither: none, Trellis' map.
  const def = { ...(v['def'] as JobDefinitionJson), logRules: (v['def'] as { logRules?: Record<string, RuleSetJson> }).logRules ?? {} };
  const exitCodes: ExitCodeMap = v['exitCodes'] === 'megatest' ? 'megatest' : 'trellis';
  const inputs = v['inputs'] === undefined ? NO_INPUTS : validateInputs(v['inputs'], fail);
  return { ...(v as unknown as JobSpec), def, exitCodes, inputs, runArea, workDir };
}

/** `inputs`: parameters name → text, producers test → item path (or null). */
function validateInputs(value: unknown, fail: (what: string) => TrellisError): StepInputs {
  const isMap = (x: unknown, ok: (v: unknown) => boolean) =>
    typeof x === 'object' && x !== null && !Array.isArray(x) && Object.values(x).every(ok);
  const v = value as { params?: unknown; producers?: unknown };
  if (
    !isMap(value, () => true) ||
    !isMap(v.params, (x) => typeof x === 'string') ||
    !isMap(v.producers, (x) => x === null || typeof x === 'string')
  ) {
    throw fail("has no valid 'inputs' (params: names to strings, producers: tests to item paths)");
  }
  return value as StepInputs;
}

function validateDefinition(def: unknown, fail: (what: string) => TrellisError): void {
  const d = (typeof def === 'object' && def !== null ? def : {}) as Record<string, unknown>;
  for (const k of ['name', 'dir', 'configFile']) if (typeof d[k] !== 'string' || d[k] === '') throw fail(`has no valid 'def.${k}'`);
  const isLoc = (x: unknown): x is SourceLocation => typeof x === 'object' && x !== null && typeof (x as SourceLocation).file === 'string';
  const steps = d['steps'];
  if (
    !Array.isArray(steps) ||
    steps.some((s) => typeof s?.name !== 'string' || s.name === '' || typeof s?.command !== 'string' || !isLoc(s.loc))
  ) {
    throw fail("has no valid 'def.steps' (name, command, loc each)");
  }
  if (
    d['runscript'] !== undefined &&
    (typeof (d['runscript'] as { command?: unknown }).command !== 'string' || !isLoc((d['runscript'] as { loc?: unknown }).loc))
  ) {
    throw fail("has no valid 'def.runscript'");
  }
  if (typeof d['skip'] !== 'object' || d['skip'] === null) throw fail("has no valid 'def.skip'");
  if (!Array.isArray(d['triggers'])) throw fail("has no valid 'def.triggers'");
  if (d['runtimelim'] !== null && typeof d['runtimelim'] !== 'number') throw fail("has no valid 'def.runtimelim'");
  const rules = d['logRules'];
  if (rules === undefined) return;
  if (typeof rules !== 'object' || rules === null || Array.isArray(rules)) throw fail("has no valid 'def.logRules'");
  for (const [step, set] of Object.entries(rules)) {
    try {
      reviveRuleSet(set);
    } catch (err) {
      throw fail(`has no valid 'def.logRules' for step ${JSON.stringify(step)} (${(err as Error).message})`);
    }
  }
}

/** The definition a spec carries, with its log rules ready to judge logs. */
export function reviveJobDefinition(def: JobDefinitionJson): JobDefinition {
  const logRules = new Map<string, RuleSet>();
  for (const [step, set] of Object.entries(def.logRules)) logRules.set(step, reviveRuleSet(set));
  return { ...def, logRules };
}

function badJob(file: string, what: string): TrellisError {
  return new TrellisError(
    'BAD_JOB',
    `job spec ${file} ${what}`,
    "run `trellis exec` on the spec a launcher wrote into a test's work folder",
  );
}

/** The parts of a test definition that travel in a spec. */
export function jobDefinitionOf(def: JobDefinition): JobDefinitionJson {
  return {
    name: def.name,
    dir: def.dir,
    configFile: def.configFile,
    steps: def.steps.map((s) => ({
      name: s.name,
      command: s.command,
      loc: s.loc,
      ...(s.manual ? { manual: true } : {}),
      ...(s.restartable === false ? { restartable: false } : {}),
    })),
    ...(def.runscript ? { runscript: { command: def.runscript.command, loc: def.runscript.loc } } : {}),
    skip: { ...def.skip },
    triggers: def.triggers.map((t) => ({ when: t.when, command: t.command, loc: t.loc })),
    runtimelim: def.runtimelim,
    logRules: Object.fromEntries([...def.logRules].map(([step, set]) => [step, serializeRuleSet(set)])),
  };
}
