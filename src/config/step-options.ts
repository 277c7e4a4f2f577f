/**
 * Ezstep options, Megatest's option prefix (design §6b): `NAME {opt,opt=value} COMMAND`, e.g.
 * `sign-off {manual} Check the release notes` or `deploy {restartable=no} ./deploy.sh`. One or
 * more groups in braces lead the command (`{manual,restartable=no}` or `{manual} {restartable=no}`:
 * the same); each option is `NAME` or `NAME=VALUE`. The one place that tells an option group from
 * the command, so that the testconfig reader (which strips the groups) and the `{NAME}`
 * substitution of step commands (runner/step-refs.ts) agree on where the command starts.
 *
 * A leading `{…}` is an option group when it names a known option (any case), or when all its words
 * are lower-case `name` / `name=value` and a blank (or the end of the line) follows it — then an
 * unknown name is a misspelt option and an error. Anything else is command text: `{VERSION}/bin/tool`
 * and `{TOOL} --help` (references to parameters), `{a,b}x` (brace expansion), `{ a; b; }` (a shell
 * group), `{{` (a literal brace).
 */
import { configError, TrellisError, type SourceLocation } from '../util/errors.js';

/** Options a step may carry, with what their value may be; the reader checks them against this. */
export const STEP_OPTIONS: Readonly<Record<string, { values: readonly string[]; help: string }>> = {
  manual: { values: ['', 'yes', 'no'], help: 'the step is a sign-off: the test waits for `trellis approve`' },
  restartable: { values: ['yes', 'no'], help: '`no`: a resume never starts at this step' },
};

/** What a step line's leading option groups say, and the command after them. */
export interface SplitStep {
  /** option name → value ('' for a bare `{manual}`), in the order written */
  options: Record<string, string>;
  command: string;
}

const GROUP = /^\{([A-Za-z_][^{}]*)\}/;
const OPTION = /^([A-Za-z_][A-Za-z0-9_-]*)(?:\s*=\s*(.*))?$/;
/** a word of a group that names no known option but still reads as one: lower case, a plain value */
const PLAIN_OPTION = /^[a-z][a-z0-9_-]*(?:=[^,=]*)?$/;

/** True when the group `{body}` (followed by `after`) is an option group rather than command text. */
function isOptionGroup(body: string, after: string): boolean {
  const words = body.split(',').map((w) => w.trim());
  if (words.some((w) => (OPTION.exec(w)?.[1]?.toLowerCase() ?? '') in STEP_OPTIONS)) return true;
  return (after === '' || after.startsWith(' ') || after.startsWith('\t')) && words.every((w) => PLAIN_OPTION.test(w));
}

/**
 * Splits the leading `{…}` option groups off a step's command. An option that is not in
 * STEP_OPTIONS, a bad value or a repeated option is a config error naming `loc` (when given).
 */
export function splitStepOptions(cmd: string, loc?: SourceLocation): SplitStep {
  const fail = (what: string, hint: string): never => {
    if (loc) throw configError('CONFIG_VALUE', loc, what, hint);
    throw new TrellisError('CONFIG_VALUE', what, hint);
  };
  const options: Record<string, string> = {};
  let rest = cmd.replace(/^\s+/, '');
  for (let m = GROUP.exec(rest); m !== null && isOptionGroup(m[1]!, rest.slice(m[0].length)); m = GROUP.exec(rest)) {
    for (const part of m[1]!.split(',')) {
      const text = part.trim();
      const opt = OPTION.exec(text);
      if (opt === null) fail(`step option '${text}' is not NAME or NAME=VALUE`, 'write e.g. {manual} or {restartable=no}');
      const name = opt![1]!.toLowerCase();
      const value = (opt![2] ?? '').trim().toLowerCase();
      const known = STEP_OPTIONS[name];
      if (known === undefined) {
        fail(`unknown step option '${opt![1]}'`, `known options: ${Object.keys(STEP_OPTIONS).join(', ')}; a literal brace is written {{`);
      }
      if (!known!.values.includes(value)) {
        fail(
          `step option ${name}${opt![2] === undefined ? '' : `=${opt![2].trim()}`}: the value must be ${known!.values.map((v) => (v === '' ? `{${name}}` : `${name}=${v}`)).join(' or ')}`,
          `${name}: ${known!.help}`,
        );
      }
      if (name in options) fail(`step option '${name}' is given twice`, 'give each option once');
      options[name] = value;
    }
    rest = rest.slice(m[0].length).replace(/^[ \t]+/, '');
  }
  return { options, command: rest };
}

/** True when an option is on: `{manual}` or `{manual=yes}`. */
export function optionIsOn(options: Readonly<Record<string, string>>, name: string): boolean {
  const v = options[name];
  return v !== undefined && v !== 'no';
}
