/**
 * The environment of one test (design §6): the runner's own, then [env-override], the runconfigs
 * values of the target, each key, the testconfig's [env-override], the item variables, and the
 * MT_* / TRELLIS_* variables that tell a test where it is and let it call Trellis back.
 */
import path from 'node:path';
import type { ConfigValue, Target } from '../config/types.js';
import { evaluateValue } from '../config/commands.js';
import { expandDollarVars } from '../config/expand.js';

export interface RunEnvBase {
  /** the runner's environment */
  env: Readonly<Record<string, string | undefined>>;
  areaDir: string;
  runArea: string;
  target: Target;
  runname: string;
  runId: number;
  /** the folder holding the `trellis` command (put first on PATH) */
  binDir: string;
  areaOverrides: ReadonlyArray<readonly [string, ConfigValue]>;
  runconfig: ReadonlyArray<readonly [string, ConfigValue]>;
  /** the run was started with --force: the tests' own reports (in-test helpers) are forced too */
  force?: boolean;
  /** the run's parameters: exported as NAME and TRELLIS_PARAM_NAME */
  params?: Readonly<Record<string, string>>;
}

/** The part of every test's environment that depends only on the run; computed once. */
export function buildRunEnv(base: RunEnvBase): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base.env)) if (v !== undefined) env[k] = v;
  const set = (k: string, v: string) => {
    env[k] = v;
  };
  set('MT_RUN_AREA_HOME', base.areaDir);
  set('TRELLIS_AREA', base.areaDir);
  set('MT_TARGET', base.target.name);
  set('TRELLIS_TARGET', base.target.name);
  set('MT_RUNNAME', base.runname);
  set('TRELLIS_RUNNAME', base.runname);
  set('MT_LINKTREE', base.runArea);
  set('TRELLIS_RUN_AREA', base.runArea);
  set('TRELLIS_RUN_ID', String(base.runId));
  // Only a forced run forces its tests' reports, never a TRELLIS_FORCE left in the caller's shell.
  if (base.force) set('TRELLIS_FORCE', '1');
  else delete env['TRELLIS_FORCE'];
  // A lazy `KEY [system CMD]` value runs here, once per run, when it is exported.
  const text = (v: ConfigValue) => expandDollarVars(evaluateValue(v, { env, cwd: base.areaDir }), env);
  for (const [k, v] of base.areaOverrides) set(k, text(v));
  for (const [k, v] of base.runconfig) set(k, text(v));
  for (const [k, v] of Object.entries(base.target.keys)) set(k, v);
  // Given on the command line for this run: they win over the area's and the runconfigs' values.
  for (const [k, v] of Object.entries(base.params ?? {})) {
    set(k, v);
    set(`TRELLIS_PARAM_${k}`, v);
  }
  set('PATH', [base.binDir, env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin'].join(path.delimiter));
  set('TRELLIS_BIN', path.join(base.binDir, 'trellis'));
  // Megatest's tests call $MT_MEGATEST (or `megatest` on PATH): Trellis' stand-in in the same folder.
  set('MT_MEGATEST', path.join(base.binDir, 'megatest'));
  return env;
}

export interface TestEnvParts {
  testname: string;
  itempath: string;
  testId: number;
  workDir: string;
  testOverrides: ReadonlyArray<readonly [string, ConfigValue]>;
  itemVars: Readonly<Record<string, string>>;
}

/**
 * The file a test's helpers touch when they report its status or a value, so the runner reads
 * the test back only when there is something to read (one call fewer per test otherwise).
 */
export function reportMarkFile(workDir: string): string {
  return path.join(workDir, '.trellis-reported');
}

/** One test's environment on top of the run's. */
export function buildTestEnv(runEnv: Readonly<Record<string, string>>, parts: TestEnvParts): Record<string, string> {
  const env: Record<string, string> = { ...runEnv };
  for (const [k, v] of parts.testOverrides) env[k] = expandDollarVars(v.text, env);
  for (const [k, v] of Object.entries(parts.itemVars)) env[k] = v;
  env['MT_TEST_NAME'] = env['TRELLIS_TEST_NAME'] = parts.testname;
  env['MT_ITEMPATH'] = env['TRELLIS_ITEMPATH'] = parts.itempath;
  env['MT_TEST_RUN_DIR'] = env['TRELLIS_TEST_RUN_DIR'] = parts.workDir;
  env['TRELLIS_TEST_ID'] = String(parts.testId);
  env['TRELLIS_REPORT_MARK'] = reportMarkFile(parts.workDir);
  return env;
}

/**
 * What `env` adds to or changes in `base`: the part of a test's environment that must travel to
 * another host (where `trellis exec` puts it on top of that host's own).
 */
export function envDelta(
  base: Readonly<Record<string, string | undefined>>,
  env: Readonly<Record<string, string>>,
): Record<string, string> {
  const delta: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (base[k] !== v) delta[k] = v;
  return delta;
}

/**
 * A test's environment on the host `trellis exec` runs it on: that host's own, the spec's on top,
 * and this installation's `trellis` first on PATH (the one the runner named may live elsewhere here).
 */
export function execEnv(
  hostEnv: Readonly<Record<string, string | undefined>>,
  delta: Readonly<Record<string, string>>,
  binDir: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(hostEnv)) if (v !== undefined) env[k] = v;
  Object.assign(env, delta);
  // The pool agent running the job is this host's word, not the job's.
  if (hostEnv['TRELLIS_AGENT'] !== undefined) env['TRELLIS_AGENT'] = hostEnv['TRELLIS_AGENT'];
  const pathVar = env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin';
  env['PATH'] = pathVar.split(path.delimiter)[0] === binDir ? pathVar : [binDir, pathVar].join(path.delimiter);
  env['TRELLIS_BIN'] = path.join(binDir, 'trellis');
  env['MT_MEGATEST'] = path.join(binDir, 'megatest');
  // Under ssh, bash takes a shell at level 0 with SSH_CLIENT set for the session's own shell and
  // reads ~/.bashrc (Debian builds it so): every step would run the user's dotfiles (pyenv, conda…)
  // as it does nowhere else. A level of 1 or more says it is not.
  if (env['SSH_CLIENT'] !== undefined || env['SSH2_CLIENT'] !== undefined) env['SHLVL'] = String(Math.max(1, Number(env['SHLVL']) || 0));
  return env;
}
