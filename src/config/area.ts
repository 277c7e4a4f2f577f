/**
 * The test area: finding it, reading its config and runconfigs, and resolving the settings the
 * rest of Trellis needs into one frozen Area.
 */
import fs from 'node:fs';
import path from 'node:path';
import { configError, formatLocation, TrellisError } from '../util/errors.js';
import { termLine } from '../util/terminal-text.js';
import { resourceNameProblem } from '../model/resources.js';
import { parseDuration } from './duration.js';
import { parseConfigText, readConfigFile } from './ini.js';
import { ENV_NAME, testNameProblem } from '../model/names.js';
import { USER_NAME } from '../model/identity-protocol.js';
import { readParams } from './params.js';
import { areaPaths } from './paths.js';
import {
  LOG_LEVELS,
  type Area,
  type ConfigFile,
  type ConfigValue,
  type LogLevel,
  type ReadContext,
  type ServerConfig,
  type SetupConfig,
  type UserList,
} from './types.js';

export { parseDuration } from './duration.js';
export { listTargets, readRunconfigs, resolveTarget, runconfigValues, type TargetCheck } from './target.js';

const NO_AREA_HINT = 'run in a test area, pass --area DIR, or create one with `trellis init`';
const DEFAULT_DEADTIME = 60;
export const DEFAULT_IDLE_TIMEOUT = 600;

/** [server] when the area says nothing (and for a server started with --runarea alone). */
export const DEFAULT_SERVER_CONFIG: ServerConfig = Object.freeze({
  idleTimeout: DEFAULT_IDLE_TIMEOUT,
  portRange: null,
  advertise: undefined,
  bind: undefined,
  logLevel: 'info',
  logMaxBytes: 10 * 1024 * 1024,
  logFiles: 5,
});

export interface LoadAreaOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** --runarea; relative paths are taken from `cwd` */
  runArea?: string;
  /** folder that a relative --runarea is relative to; default: the area folder */
  cwd?: string;
  /** default of [setup] max_concurrent_jobs */
  cpus: number;
  debug?: (message: string) => void;
}

/** The area config file in `dir`: trellis.config, else megatest.config, else undefined. */
function areaConfigIn(dir: string): string | undefined {
  const p = areaPaths(dir);
  for (const file of [p.trellisConfig, p.megatestConfig]) if (fs.existsSync(file)) return file;
  return undefined;
}

/**
 * The area folder: `explicit` (--area, relative to cwd) when given, else the nearest of cwd and
 * its parents holding trellis.config or megatest.config (trellis.config wins within one folder).
 */
export function findAreaDir(cwd: string, explicit?: string): string {
  if (explicit !== undefined) {
    const dir = path.resolve(cwd, explicit);
    if (areaConfigIn(dir)) return dir;
    throw new TrellisError('NO_AREA', `--area ${explicit}: ${dir} has no trellis.config or megatest.config`, NO_AREA_HINT);
  }
  let dir = path.resolve(cwd);
  for (;;) {
    if (areaConfigIn(dir)) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new TrellisError('NO_AREA', `no trellis.config or megatest.config in ${path.resolve(cwd)} or its parents`, NO_AREA_HINT);
}

/** Reads the area in `dir`: config, runconfigs (missing = empty) and the list of tests. */
export function loadArea(dir: string, opts: LoadAreaOptions): Area {
  const areaDir = path.resolve(dir);
  const configFile = areaConfigIn(areaDir);
  if (!configFile) {
    throw new TrellisError('NO_AREA', `${areaDir} has no trellis.config or megatest.config`, NO_AREA_HINT);
  }
  const ctx: ReadContext = { env: { ...opts.env, MT_RUN_AREA_HOME: areaDir }, areaDir, ...(opts.debug ? { debug: opts.debug } : {}) };
  const config = readConfigFile(configFile, ctx);
  const runconfigsFile = areaPaths(areaDir).runconfigs;
  const runconfigs = fs.existsSync(runconfigsFile) ? readConfigFile(runconfigsFile, ctx) : parseConfigText('', runconfigsFile, ctx);

  const fields = config.entries('fields').map(([key, value]) => {
    if (!ENV_NAME.test(key)) {
      throw configError(
        'CONFIG_VALUE',
        value.loc,
        `[fields] key '${key}' is not a valid variable name`,
        'use letters, digits and _ (e.g. OS ARCH); keys become environment variables',
      );
    }
    return key;
  });

  return Object.freeze({
    dir: areaDir,
    configFile,
    config,
    runconfigs,
    fields: Object.freeze(fields),
    runArea: resolveRunArea(areaDir, config, opts),
    setup: Object.freeze(readSetup(config, opts.cpus)),
    server: Object.freeze(readServer(config)),
    jobgroups: readJobgroups(config),
    resources: readResources(config),
    launcher: readNonEmpty(config.get('jobtools', 'launcher')),
    envOverride: config.entries('env-override'),
    testNames: Object.freeze(findTestNames(areaDir, opts.debug)),
    params: readParams(config),
  });
}

function readNonEmpty(value: ConfigValue | undefined): string | undefined {
  return value && value.text.trim() !== '' ? value.text.trim() : undefined;
}

/** A positive integer or a CONFIG_VALUE error naming the key. */
export function parsePositiveInt(value: ConfigValue, what: string): number {
  const text = value.text.trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw configError(
      'CONFIG_VALUE',
      value.loc,
      `${what} must be a positive whole number, not '${text}'`,
      `write e.g. ${what.split(' ').pop()} 4`,
    );
  }
  return n;
}

/** Seconds of a duration key; undefined when the key is absent or empty. */
function readDuration(value: ConfigValue | undefined, what: string): number | undefined {
  if (!value || value.text.trim() === '') return undefined;
  return parseDuration(value.text, value.loc, what);
}

function readSetup(config: ConfigFile, cpus: number): SetupConfig {
  const jobs = config.get('setup', 'max_concurrent_jobs');
  const runtimelim = readDuration(config.get('setup', 'runtimelim'), '[setup] runtimelim');
  const reqtarg = config.get('setup', 'reqtarg');
  return {
    maxConcurrentJobs: jobs ? parsePositiveInt(jobs, '[setup] max_concurrent_jobs') : Math.max(1, cpus),
    runtimelim: runtimelim ? runtimelim : null,
    deadtime: readDuration(config.get('setup', 'deadtime'), '[setup] deadtime') ?? DEFAULT_DEADTIME,
    reqtarg: reqtarg && readFlag(reqtarg, '[setup] reqtarg') ? Object.freeze({ ...reqtarg.loc }) : null,
    ...readAccessSetup(config),
  };
}

/** [setup] approvers and admins USER…: login names, white space or commas between them. */
function readUserList(value: ConfigValue | undefined, key: 'approvers' | 'admins'): UserList | null {
  if (value === undefined) return null;
  const users = value.text.split(/[\s,]+/).filter((u) => u !== '');
  if (users.length === 0) {
    throw configError(
      'CONFIG_VALUE',
      value.loc,
      `[setup] ${key} names nobody`,
      `write ${key} USER…, or remove the line to let anyone ${key === 'approvers' ? 'approve' : 'do what admins may'}`,
    );
  }
  const bad = users.find((u) => !USER_NAME.test(u));
  if (bad !== undefined) {
    throw configError(
      'CONFIG_VALUE',
      value.loc,
      `[setup] ${key}: '${termLine(bad)}' is not a user name`,
      `write login names, e.g. ${key} alice bob`,
    );
  }
  return Object.freeze({ users: Object.freeze(users), loc: Object.freeze({ ...value.loc }) });
}

/** [setup] identity optional|required: whether unsigned writes are taken (recorded as unverified). */
function readIdentity(value: ConfigValue | undefined): SetupConfig['identity'] {
  const text = value?.text.trim().toLowerCase() ?? '';
  if (text === '' || text === 'optional') return 'optional';
  if (text === 'required') return 'required';
  throw configError(
    'CONFIG_VALUE',
    value!.loc,
    `[setup] identity must be optional or required, not '${termLine(value!.text.trim())}'`,
    'write identity required, or remove the line',
  );
}

/** The [setup] keys that say who may do what (also read on their own by servers: config/access-policy.ts). */
export function readAccessSetup(config: ConfigFile): Pick<SetupConfig, 'approvers' | 'admins' | 'identity'> {
  return {
    approvers: readUserList(config.get('setup', 'approvers'), 'approvers'),
    admins: readUserList(config.get('setup', 'admins'), 'admins'),
    identity: readIdentity(config.get('setup', 'identity')),
  };
}

const YES = new Set(['yes', 'y', 'true', 'on', '1']);
const NO = new Set(['no', 'n', 'false', 'off', '0', '']);

/** A yes/no key; anything else is a CONFIG_VALUE error naming the key. */
function readFlag(value: ConfigValue, what: string): boolean {
  const text = value.text.trim().toLowerCase();
  if (YES.has(text)) return true;
  if (NO.has(text)) return false;
  throw configError(
    'CONFIG_VALUE',
    value.loc,
    `${what} must be yes or no, not '${value.text.trim()}'`,
    `write ${what.split(' ').pop()} yes, or remove the line`,
  );
}

function readServer(config: ConfigFile): ServerConfig {
  const range = config.get('server', 'port_range');
  let portRange: readonly [number, number] | null = null;
  if (range && range.text.trim() !== '') {
    const m = /^(\d+)\s*-\s*(\d+)$/.exec(range.text.trim());
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2]) : NaN;
    if (!(lo >= 1 && hi <= 65535 && lo <= hi)) {
      throw configError(
        'CONFIG_VALUE',
        range.loc,
        `[server] port_range '${range.text.trim()}' is not LOW-HIGH within 1-65535`,
        'write e.g. port_range 8080-8099, or remove it to use any free port',
      );
    }
    portRange = Object.freeze([lo, hi] as const);
  }
  const level = config.get('server', 'log_level');
  const levelText = level?.text.trim().toLowerCase() ?? '';
  if (level && levelText !== '' && !(LOG_LEVELS as readonly string[]).includes(levelText)) {
    throw configError(
      'CONFIG_VALUE',
      level.loc,
      `[server] log_level '${level.text.trim()}' is not a level`,
      `use one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  const files = config.get('server', 'log_files');
  return {
    ...DEFAULT_SERVER_CONFIG,
    idleTimeout: readDuration(config.get('server', 'idle_timeout'), '[server] idle_timeout') ?? DEFAULT_IDLE_TIMEOUT,
    portRange,
    advertise: readNonEmpty(config.get('server', 'advertise')),
    bind: readNonEmpty(config.get('server', 'bind')),
    ...(levelText !== '' && { logLevel: levelText as LogLevel }),
    ...(files && files.text.trim() !== '' && { logFiles: parsePositiveInt(files, '[server] log_files') }),
    ...readLogSize(config.get('server', 'log_size')),
  };
}

/** `[server] log_size 10M`: bytes, with an optional K, M or G. */
function readLogSize(value: ConfigValue | undefined): { logMaxBytes?: number } {
  if (!value || value.text.trim() === '') return {};
  const m = /^(\d+)\s*([KMG]?)B?$/i.exec(value.text.trim());
  const bytes = m ? Number(m[1]) * 1024 ** ' KMG'.indexOf((m[2] || ' ').toUpperCase()) : NaN;
  if (!(bytes >= 1024)) {
    throw configError(
      'CONFIG_VALUE',
      value.loc,
      `[server] log_size '${value.text.trim()}' is not a size of 1K or more`,
      'write e.g. log_size 10M',
    );
  }
  return { logMaxBytes: bytes };
}

function readJobgroups(config: ConfigFile): ReadonlyMap<string, number> {
  const groups = new Map<string, number>();
  for (const [name, value] of config.entries('jobgroups')) groups.set(name, parsePositiveInt(value, `[jobgroups] ${name}`));
  return groups;
}

/** `[resources] NAME COUNT`: a bad name, a count that is not a positive whole number, or a name given twice is a config error. */
function readResources(config: ConfigFile): ReadonlyMap<string, number> {
  const resources = new Map<string, number>();
  const seen = new Map<string, ConfigValue>();
  for (const [name, value] of config.assignments('resources')) {
    const problem = resourceNameProblem(name);
    if (problem !== undefined) {
      throw configError(
        'CONFIG_VALUE',
        value.loc,
        `[resources] name '${termLine(name)}' ${problem}`,
        'name a resource with letters, digits, _, . and -, e.g. deploy 1',
      );
    }
    const first = seen.get(name);
    if (first !== undefined) {
      throw configError(
        'CONFIG_VALUE',
        value.loc,
        `[resources] ${name} is declared twice (first at ${formatLocation(first.loc)})`,
        'keep one line per resource',
      );
    }
    seen.set(name, value);
    resources.set(name, parsePositiveInt(value, `[resources] ${name}`));
  }
  return resources;
}

/** --runarea > [setup] runarea > first [disks] entry > <area>/runs. */
function resolveRunArea(areaDir: string, config: ConfigFile, opts: LoadAreaOptions): string {
  if (opts.runArea !== undefined && opts.runArea !== '') return path.resolve(opts.cwd ?? areaDir, opts.runArea);
  const setup = config.get('setup', 'runarea');
  if (setup) return resolvePathValue(areaDir, setup, '[setup] runarea');
  const disk = config.entries('disks')[0];
  if (disk) return resolvePathValue(areaDir, disk[1], `[disks] ${disk[0]}`);
  return path.join(areaDir, 'runs');
}

function resolvePathValue(areaDir: string, value: ConfigValue, what: string): string {
  const text = value.text.trim();
  if (text === '')
    throw configError('CONFIG_VALUE', value.loc, `${what} is empty`, `give a folder, e.g. ${what} /scratch/runs, or remove the line`);
  return path.resolve(areaDir, text);
}

/** Folders under tests/ holding a testconfig, sorted; hidden folders are skipped. */
function findTestNames(areaDir: string, debug?: (m: string) => void): string[] {
  const testsDir = areaPaths(areaDir).testsDir;
  let names: string[];
  try {
    names = fs.readdirSync(testsDir);
  } catch {
    debug?.(`${testsDir}: no tests folder`);
    return [];
  }
  const found: string[] = [];
  // Every command reads the area: one join a test, not the area's whole set of paths each time
  // (a third of `server ping`'s time in an area of 1,000 tests).
  for (const name of names) {
    if (name.startsWith('.')) continue;
    if (!fs.existsSync(`${testsDir}${path.sep}${name}${path.sep}testconfig`)) continue;
    const problem = testNameProblem(name);
    if (problem !== undefined) {
      throw new TrellisError(
        'CONFIG_VALUE',
        `${path.join(testsDir, name)}: test name '${name}' ${problem}`,
        'rename the folder; test names are used in patterns and folder names',
      );
    }
    found.push(name);
  }
  return found.sort();
}
