/**
 * Targets: one value per [fields] key, joined by `/`. Resolving one checks it against the area's
 * keys and runconfigs; reading runconfigs for it sets MT_TARGET and each key, as Megatest does, so
 * `#{getenv OS}` lines written for Megatest resolve. As Megatest's -target, a target runconfigs
 * does not name is accepted (with a warning) when there is a [default] section to give it values;
 * -reqtarg's strict check is --reqtarg or [setup] reqtarg yes.
 */
import fs from 'node:fs';
import { checkTargetValue } from '../model/names.js';
import { TrellisError, formatLocation } from '../util/errors.js';
import { termLine } from '../util/terminal-text.js';
import { isPatternSectionName, sectionMatcher } from './config-file.js';
import { parseConfigText, readConfigFile } from './ini.js';
import type { Area, ConfigFile, ConfigValue, Target } from './types.js';

/** Concrete target sections of runconfigs.config: not [default], not patterns, right number of values. */
export function listTargets(area: Area): string[] {
  return area.runconfigs.sectionNames().filter((name) => {
    if (name === 'default' || isPatternSectionName(name)) return false;
    const values = name.split('/');
    // Other sections are the user's own data (kept, design §2), not targets.
    return values.length === Math.max(1, area.fields.length) && values.every((v) => v !== '');
  });
}

/** Where [fields] is written, for messages: `file:line`, or the config file when absent. */
function locateFields(area: Area): string {
  const first = area.config.entries('fields')[0];
  return first ? formatLocation(first[1].loc) : area.configFile;
}

/** An example target for hints: a known one, else `<OS>/<ARCH>`. */
function pickExampleTarget(area: Area): string {
  return listTargets(area)[0] ?? (area.fields.length ? area.fields.map((k) => `<${k}>`).join('/') : '<target>');
}

/** How strictly resolveTarget checks that runconfigs.config names the target. */
export interface TargetCheck {
  /** --reqtarg: refuse a target runconfigs.config does not name (as does [setup] reqtarg yes) */
  strict?: boolean;
  /** told (once) when a target runconfigs.config does not name is accepted; default: silent */
  warn?: (message: string) => void;
}

/**
 * Checks `text` (from -t) against the area: exactly one non-empty value per [fields] key (one value
 * when there is no [fields]), and a runconfigs section or pattern section that matches it — or,
 * unless the check is strict, a [default] section whose values it then runs with.
 */
export function resolveTarget(area: Area, text: string, check: TargetCheck = {}): Target {
  const name = text.trim();
  const fields = area.fields;
  const values = name.split('/');
  const example = `give e.g. -t ${pickExampleTarget(area)}`;
  if (fields.length === 0 && values.length !== 1) {
    throw new TrellisError(
      'BAD_TARGET',
      `target '${name}' has ${values.length} values but ${area.configFile} has no [fields], so a target is one value`,
      `${example}, or add [fields] to ${area.configFile} with one key per value`,
    );
  }
  if (fields.length > 0 && values.length !== fields.length) {
    const has = `${values.length} value${values.length === 1 ? '' : 's'}`;
    throw new TrellisError(
      'BAD_TARGET',
      `target '${name}' has ${has} but [fields] in ${locateFields(area)} names ${fields.length} key${fields.length === 1 ? '' : 's'} (${fields.join(' ')})`,
      example,
    );
  }
  const keyNames = fields.length ? fields : ['target'];
  values.forEach((v, i) => {
    if (v === '' || v.includes('%')) {
      const what = v === '' ? 'is empty' : `'${v}' contains '%', which is a wildcard in config section names`;
      throw new TrellisError('BAD_TARGET', `target '${termLine(name)}': the value for ${keyNames[i]} ${what}`, example);
    }
    checkTargetValue(keyNames[i]!, v, '-t');
  });
  const rc = area.runconfigs;
  const known =
    rc.hasSection(name) ||
    rc.sectionNames().some((s) => isPatternSectionName(s) && sectionMatcher(s, { file: rc.file, line: 0 })!.test(name));
  if (!known) {
    const strict =
      check.strict === true ? '--reqtarg' : area.setup.reqtarg ? `[setup] reqtarg at ${formatLocation(area.setup.reqtarg)}` : undefined;
    if (strict === undefined && rc.hasSection('default')) {
      check.warn?.(
        `target '${name}' is not named in ${rc.file} (no [${name}] section or pattern section matches it): its tests get the [default] values only; add a [${name}] section to name it, or pass --reqtarg to refuse such targets`,
      );
    } else {
      const targets = listTargets(area);
      const missing = fs.existsSync(rc.file) ? '' : ' (the file does not exist)';
      const why = strict === undefined ? '' : ` (${strict} requires a named target)`;
      throw new TrellisError(
        'UNKNOWN_TARGET',
        `unknown target '${name}'${why}: ${rc.file}${missing} has no [${name}] section and no pattern section matching it; known targets: ${targets.length ? targets.join(', ') : 'none'}`,
        `add a [${name}] section (it may be empty) to ${rc.file}, or use a known target${strict === undefined ? '; with a [default] section any target is accepted' : ''}`,
      );
    }
  }
  const keys: Record<string, string> = {};
  for (const [i, k] of fields.entries()) keys[k] = values[i]!;
  return Object.freeze({ name, values: Object.freeze(values), keys: Object.freeze(keys) });
}

/** The read environment for a target: MT_RUN_AREA_HOME, MT_TARGET and each key. */
export function targetEnv(
  area: Area,
  target: Target,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string | undefined> {
  return { ...env, MT_RUN_AREA_HOME: area.dir, MT_TARGET: target.name, ...target.keys };
}

/** Re-reads runconfigs.config for `target` (missing file = empty), with the target's variables set. */
export function readRunconfigs(
  area: Area,
  target: Target,
  env: Readonly<Record<string, string | undefined>>,
  debug?: (message: string) => void,
): ConfigFile {
  const ctx = { env: targetEnv(area, target, env), areaDir: area.dir, ...(debug ? { debug } : {}) };
  const file = area.runconfigs.file;
  return fs.existsSync(file) ? readConfigFile(file, ctx) : parseConfigText('', file, ctx);
}

/** [default] entries overridden by the target's entries (pattern sections applied), in order. */
export function runconfigValues(rc: ConfigFile, target: Target): Array<readonly [string, ConfigValue]> {
  const merged = new Map<string, ConfigValue>(rc.entries('default'));
  for (const [key, value] of rc.entries(target.name)) merged.set(key, value);
  return [...merged].map((e) => Object.freeze(e));
}
