/**
 * Reading tests/<name>/testconfig into a TestDefinition for one target. Items are only described
 * here; expandItems (items.ts) runs their lazy commands when the test is about to be scheduled.
 */
import { agentNameProblem } from '../model/pool.js';
import fs from 'node:fs';
import { configError, TrellisError } from '../util/errors.js';
import { parseDuration } from './duration.js';
import { cleanEnv } from './commands.js';
import { ENV_NAME, isSafeTestName, labelProblem } from '../model/names.js';
import { termLine } from '../util/terminal-text.js';
import { exportValues } from './expand.js';
import { readConfigFile } from './ini.js';
import { readLogRules } from './log-rules.js';
import { optionIsOn, splitStepOptions } from './step-options.js';
import { areaPaths } from './paths.js';
import { runconfigValues, targetEnv } from './target.js';
import type { Area, ConfigFile, ConfigValue, ItemMapRule, ItemVar, ReadContext, Step, Target, TestDefinition, WaitMode } from './types.js';

export interface LoadTestContext {
  env: Readonly<Record<string, string | undefined>>;
  target: Target;
  /** #{rget VAR}: the runconfigs value for the target, else [default] */
  rget: (name: string) => string | undefined;
  debug?: (message: string) => void;
}

const MODES: readonly WaitMode[] = ['normal', 'toplevel', 'itemwait'];

/** Reads one test's testconfig for `ctx.target`; an unknown or unsafe name is NO_TEST. */
export function loadTest(area: Area, name: string, ctx: LoadTestContext): TestDefinition {
  const paths = areaPaths(area.dir);
  const configFile = paths.testconfig(name);
  if (!isSafeTestName(name) || !fs.existsSync(configFile)) {
    throw new TrellisError(
      'NO_TEST',
      `no test '${name}' in ${paths.testsDir} (no ${configFile})`,
      `known tests: ${area.testNames.join(', ') || 'none'}; a test is a folder under tests/ with a testconfig`,
    );
  }
  const read: ReadContext = {
    env: targetEnv(area, ctx.target, ctx.env),
    areaDir: area.dir,
    rget: ctx.rget,
    ...(ctx.debug ? { debug: ctx.debug } : {}),
  };
  const config = readConfigFile(configFile, read);
  const req = (key: string) => config.get('requirements', key);
  const meta = (key: string) => config.text('test_meta', key, '')!.trim();

  const waitonValue = req('waiton');
  const runscript = config.get('setup', 'runscript');
  const jobgroup = readJobgroup(area, req('jobgroup'));
  const resources = readResourceNames(area, req('resources'));
  const runtimelim = req('runtimelim');
  const limit =
    runtimelim && runtimelim.text.trim() !== '' ? parseDuration(runtimelim.text, runtimelim.loc, '[requirements] runtimelim') : undefined;
  const items = readItemVars(config, 'items');
  const table = readItemVars(config, 'itemstable');
  const steps = Object.freeze(readSteps(config));

  return Object.freeze({
    name,
    dir: paths.testDir(name),
    configFile,
    config,
    steps,
    ...(runscript ? { runscript: Object.freeze({ command: requireCommand(runscript, '[setup] runscript'), loc: runscript.loc }) } : {}),
    waiton: Object.freeze(waitonValue ? waitonValue.text.split(/\s+/).filter((w) => w !== '') : []),
    ...(waitonValue ? { waitonLoc: waitonValue.loc } : {}),
    mode: readMode(req('mode')),
    itemmap: Object.freeze(readItemmap(req('itemmap'))),
    priority: readPriority(req('priority')),
    // 0 means "no limit", as a missing key does; an explicit limit overrides [setup] runtimelim.
    runtimelim: limit === undefined ? area.setup.runtimelim : limit === 0 ? null : limit,
    ...(jobgroup !== undefined ? { jobgroup } : {}),
    resources,
    placement: Object.freeze({ tags: readAgentWords(req('tags'), 'tags'), hosts: readAgentWords(req('hosts'), 'hosts') }),
    items: Object.freeze({ items: Object.freeze(items), table: Object.freeze(table) }),
    hasItems: items.length + table.length > 0,
    meta: Object.freeze({ owner: meta('owner'), description: meta('description'), tags: meta('tags') }),
    skip: Object.freeze(readSkip(config)),
    envOverride: config.entries('env-override'),
    triggers: Object.freeze(
      config
        .entries('triggers')
        .filter(([, v]) => v.text.trim() !== '')
        .map(([when, v]) => Object.freeze({ when, command: v.text.trim(), loc: v.loc })),
    ),
    logRules: readLogRules(config, paths.testDir(name), steps),
  });
}

/**
 * Every test of the area for `target`. As in Megatest, the runconfigs values of the target are in
 * the environment while testconfigs are read ($VAR expanded in order; lazy values left out, since
 * reading must not run them), so `#{getenv VAR}` sees them; `#{rget VAR}` reads them directly.
 */
export function loadTests(
  area: Area,
  target: Target,
  env: Readonly<Record<string, string | undefined>>,
  runconfigs: ConfigFile,
  debug?: (message: string) => void,
): TestDefinition[] {
  const values = runconfigValues(runconfigs, target);
  const byName = new Map(values.map(([k, v]) => [k, v.text] as const));
  const exported = exportValues(
    values.filter(([, v]) => v.lazyCommand === undefined).map(([k, v]) => [k, v.text] as const),
    targetEnv(area, target, env),
  );
  const ctx: LoadTestContext = { env: cleanEnv(exported), target, rget: (k) => byName.get(k), ...(debug ? { debug } : {}) };
  return area.testNames.map((name) => loadTest(area, name, ctx));
}

function requireCommand(value: ConfigValue, what: string): string {
  if (value.lazyCommand !== undefined) {
    throw configError(
      'CONFIG_VALUE',
      value.loc,
      `${what}: [system …] is only evaluated in [items] and [itemstable]`,
      'write the command itself; it runs in a shell',
    );
  }
  if (value.text.trim() === '')
    throw configError('CONFIG_VALUE', value.loc, `${what} has no command`, `write ${what.split(' ').pop()} COMMAND, or remove the line`);
  return value.text;
}

function readSteps(config: ConfigFile): Step[] {
  return config.entries('ezsteps').map(([name, value]) => {
    const problem = labelProblem(name);
    if (problem !== undefined) {
      throw configError(
        'CONFIG_VALUE',
        value.loc,
        `[ezsteps] step name '${termLine(name)}' ${problem}`,
        'name the step with printable characters, e.g. compile',
      );
    }
    const { options, command } = splitStepOptions(requireCommand(value, `[ezsteps] ${name}`), value.loc);
    if (command.trim() === '') {
      throw configError(
        'CONFIG_VALUE',
        value.loc,
        `[ezsteps] ${name} has options but no ${optionIsOn(options, 'manual') ? 'prompt' : 'command'}`,
        optionIsOn(options, 'manual') ? `write ${name} {manual} WHAT TO CHECK` : `write ${name} {…} COMMAND`,
      );
    }
    return Object.freeze({
      name,
      command,
      loc: value.loc,
      ...(optionIsOn(options, 'manual') ? { manual: true } : {}),
      ...(options['restartable'] === 'no' ? { restartable: false } : {}),
    });
  });
}

function readMode(value: ConfigValue | undefined): WaitMode {
  if (!value || value.text.trim() === '') return 'normal';
  const mode = value.text.trim();
  if (!(MODES as readonly string[]).includes(mode)) {
    throw configError(
      'CONFIG_VALUE',
      value.loc,
      `[requirements] mode '${mode}' is not one of ${MODES.join(', ')}`,
      'write e.g. mode toplevel, or remove the line for normal',
    );
  }
  return mode as WaitMode;
}

function readPriority(value: ConfigValue | undefined): number {
  if (!value || value.text.trim() === '') return 0;
  const text = value.text.trim();
  const n = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw configError(
      'CONFIG_VALUE',
      value.loc,
      `[requirements] priority '${text}' is not a whole number`,
      'write e.g. priority 10 (higher runs first)',
    );
  }
  return n;
}

function readJobgroup(area: Area, value: ConfigValue | undefined): string | undefined {
  if (!value || value.text.trim() === '') return undefined;
  const group = value.text.trim();
  if (!area.jobgroups.has(group)) {
    const known = [...area.jobgroups.keys()];
    throw configError(
      'CONFIG_VALUE',
      value.loc,
      `[requirements] jobgroup '${group}' is not in [jobgroups] of ${area.configFile} (known: ${known.join(', ') || 'none'})`,
      `add '${group} N' to [jobgroups] in ${area.configFile}, or fix the name`,
    );
  }
  return group;
}

/**
 * `[requirements] resources NAME[,NAME]` (commas or blanks between names): each must be declared in
 * the area's [resources], else NO_RESOURCE naming the testconfig's line. Sorted, once each.
 */
function readResourceNames(area: Area, value: ConfigValue | undefined): readonly string[] {
  if (!value || value.text.trim() === '') return Object.freeze([]);
  const names = new Set<string>();
  for (const name of value.text.split(/[\s,]+/).filter((n) => n !== '')) {
    if (!area.resources.has(name)) {
      const known = [...area.resources.keys()];
      throw configError(
        'NO_RESOURCE',
        value.loc,
        `[requirements] resources: '${termLine(name)}' is not in [resources] of ${area.configFile} (known: ${known.join(', ') || 'none'})`,
        `declare it there as '${termLine(name)} COUNT', or fix the name`,
      );
    }
    names.add(name);
  }
  return Object.freeze([...names].sort());
}

/**
 * `[requirements] tags NAME[,NAME]` (every one must be among an agent's tags) and `hosts NAME…` (an
 * agent's name or host): words the pool's rules take, else CONFIG_VALUE naming the line.
 */
function readAgentWords(value: ConfigValue | undefined, key: 'tags' | 'hosts'): readonly string[] {
  if (!value || value.text.trim() === '') return Object.freeze([]);
  const words = new Set<string>();
  for (const word of value.text.split(/[\s,]+/).filter((n) => n !== '')) {
    const problem = agentNameProblem(word);
    if (problem !== undefined) {
      throw configError(
        'CONFIG_VALUE',
        value.loc,
        `[requirements] ${key}: '${termLine(word)}' ${problem}`,
        key === 'tags' ? 'write tags as `tags gpu,linux`' : 'write agent or host names as `hosts build1 build2`',
      );
    }
    words.add(word);
  }
  return Object.freeze([...words]);
}

/** Each line `REGEX [REPLACEMENT]`; the replacement defaults to ''. */
function readItemmap(value: ConfigValue | undefined): ItemMapRule[] {
  if (!value) return [];
  return value.text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((line) => {
      const [, source = '', replacement = ''] = /^(\S+)(?:\s+(.*))?$/.exec(line)!;
      try {
        return Object.freeze({ regex: new RegExp(source), replacement: replacement.trim() });
      } catch (err) {
        throw configError(
          'CONFIG_VALUE',
          value.loc,
          `[requirements] itemmap '${source}' is not a valid regular expression (${(err as Error).message})`,
          'fix the regex; one rule per line: REGEX [REPLACEMENT]',
        );
      }
    });
}

function readItemVars(config: ConfigFile, section: 'items' | 'itemstable'): ItemVar[] {
  return config.entries(section).map(([name, value]) => {
    if (!ENV_NAME.test(name)) {
      throw configError(
        'CONFIG_VALUE',
        value.loc,
        `[${section}] variable '${name}' is not a valid variable name`,
        'use letters, digits and _; item variables become environment variables',
      );
    }
    if (value.lazyCommand !== undefined) {
      return Object.freeze({ name, values: null, lazyCommand: value.lazyCommand, loc: value.loc });
    }
    return Object.freeze({ name, values: Object.freeze(value.text.split(/\s+/).filter((v) => v !== '')), loc: value.loc });
  });
}

function readSkip(config: ConfigFile) {
  const out: { fileexists?: string; filenotexists?: string; script?: string } = {};
  for (const key of ['fileexists', 'filenotexists', 'script'] as const) {
    const text = config.text('skip', key, '')!.trim();
    if (text !== '') out[key] = text;
  }
  return out;
}
