/**
 * Ezstep options, Megatest's option prefix: `NAME {opt,opt=value} COMMAND`. One or more groups in
 * braces lead the command (`{manual,restartable=no}` or `{manual} {restartable=no}`: the same);
 * each option is `NAME` or `NAME=VALUE`. A brace followed by a space (`{ a; b; }`, a shell group)
 * or by `{` (a literal brace) does not start a group, so plain commands are never taken for options.
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

const GROUP = /^\{([A-Za-z_][^{}]*)\}[ \t]*/;
const OPTION = /^([A-Za-z_][A-Za-z0-9_-]*)(?:\s*=\s*(.*))?$/;

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
  for (let m = GROUP.exec(rest); m !== null; m = GROUP.exec(rest)) {
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
    rest = rest.slice(m[0].length);
  }
  return { options, command: rest };
}

/** True when an option is on: `{manual}` or `{manual=yes}`. */
export function optionIsOn(options: Readonly<Record<string, string>>, name: string): boolean {
  const v = options[name];
  return v !== undefined && v !== 'no';
}
