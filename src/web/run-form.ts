/**
 * The form that starts a run, generated from the area: its targets (runconfigs.config), a run
 * name, a test pattern, and a launcher chosen from those the area's config names. A browser sends
 * back a target and a launcher by name; both are looked up in what the area offers, so no word a
 * browser typed reaches `--launcher` (which may be a command prefix for a shell). The run name and
 * the pattern are checked here and passed to `trellis run` as single arguments, never to a shell.
 * The area's `[params]` are fields of the form, checked here as `trellis run` checks `--param`.
 */
import { listTargets } from '../config/area.js';
import type { Area } from '../config/types.js';
import { parseTestPattern } from '../model/pattern.js';
import type { RunStart } from '../view/actions.js';

export interface LauncherOption {
  /** what the form sends */
  id: string;
  label: string;
  /** the words for `--launcher`; undefined for the area's own default */
  words: string | undefined;
}

/** One declared run parameter (design §6b `[params]`), as the form shows and checks it. */
export interface ParamField {
  name: string;
  label: string;
  defaultValue: string;
  /** when set, the value must be one of these */
  choices?: readonly string[];
  /** when set, the value must match (whole) */
  pattern?: RegExp;
  required: boolean;
}

export interface RunFormSpec {
  targets: readonly string[];
  launchers: readonly LauncherOption[];
  params: readonly ParamField[];
}

/** The form's fields as the browser sent them. */
export interface RunFormValues {
  target: string;
  runname: string;
  pattern: string;
  launcher: string;
  params: Record<string, string>;
}

/** A run name: what a folder and a command line take without surprises. */
const RUN_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+@=-]{0,127}$/;

/** What the area offers: its targets and its launchers. */
export function runFormOf(area: Area): RunFormSpec {
  const config = area.config;
  const own = config.text('jobtools', 'launcher')?.trim();
  const flexi = /^(yes|true|1|on)$/i.test(config.text('jobtools', 'flexi-launcher')?.trim() ?? '');
  const launchers: LauncherOption[] = [
    { id: '', label: `the area's default (${flexi ? 'flexi-launcher' : own || 'local'})`, words: undefined },
  ];
  const add = (id: string, label: string, words: string) => {
    if (!launchers.some((l) => l.words === words)) launchers.push({ id, label, words });
  };
  add('local', 'local: on the web host', 'local');
  if (config.hasSection('slurm')) add('slurm', 'slurm: sbatch per test ([slurm])', 'slurm');
  add('agents', 'agents: the pool of `trellis agent` hosts (see Hosts)', 'agents');
  for (const [name] of config.entries('hosts')) add(`hosts:${name}`, `ssh to the [hosts] group ${name}`, `ssh @${name}`);
  for (const [name, value] of config.entries('host-types')) {
    const words = value.text.trim();
    if (words !== '') add(`type:${name}`, `host type ${name}: ${words}`, words);
  }
  const params = area.params.map(
    (p): ParamField => ({
      name: p.name,
      label: p.description ? `${p.name} (${p.description})` : p.name,
      defaultValue: p.default ?? '',
      ...(p.choices ? { choices: p.choices } : {}),
      ...(p.regex ? { pattern: p.regex } : {}),
      required: p.required,
    }),
  );
  return { targets: listTargets(area), launchers, params };
}

/** Checks what the browser sent against the spec: the run to start, or what is wrong, field by field. */
export function checkRunForm(spec: RunFormSpec, v: RunFormValues): { start: RunStart } | { errors: string[] } {
  const errors: string[] = [];
  if (!spec.targets.includes(v.target)) errors.push(`Target: '${v.target}' is not a target of runconfigs.config; choose one of the list.`);
  if (!RUN_NAME.test(v.runname)) {
    errors.push(`Run name: '${v.runname}' is not a run name; use letters, digits and _ . + @ = - (up to 128, not starting with . or -).`);
  }
  const pattern = v.pattern.trim();
  if (pattern !== '') {
    try {
      parseTestPattern(pattern, 'test pattern');
    } catch (err) {
      errors.push(`Test pattern: ${(err as Error).message}.`);
    }
  }
  const launcher = spec.launchers.find((l) => l.id === v.launcher);
  if (launcher === undefined) errors.push(`Launcher: '${v.launcher}' is not one the area offers; choose one of the list.`);
  const params: Record<string, string> = {};
  for (const p of spec.params) {
    const value = (v.params[p.name] ?? p.defaultValue).trim();
    if (value === '' && p.required) errors.push(`${p.label}: a value is needed.`);
    else if (p.choices !== undefined && !p.choices.includes(value))
      errors.push(`${p.label}: '${value}' is not one of ${p.choices.join(', ')}.`);
    else if (p.pattern !== undefined && value !== '' && !p.pattern.test(value)) {
      errors.push(`${p.label}: '${value}' does not have the form the area asks for.`);
    }
    params[p.name] = value;
  }
  if (errors.length > 0) return { errors };
  return {
    start: {
      target: v.target,
      runname: v.runname,
      pattern,
      ...(launcher!.words !== undefined ? { launcher: launcher!.words } : {}),
      ...(spec.params.length > 0 ? { params } : {}),
    },
  };
}
