/**
 * Run parameters (design §6b): `[params]` of the area config declares a run's inputs, one line
 * each, and `trellis run --param NAME=VALUE` gives them. A line is
 *
 *     NAME [required] [default=VALUE] [choices=A,B,…] [pattern=REGEX] [# ]DESCRIPTION…
 *
 * Options come first, in any order; the first word that is not one starts the description (a `#`
 * before it is dropped, and lets a description start with a word like `required`). A value with
 * blanks is quoted: `default='two words'`. Every given value is checked before anything runs; each
 * problem is one line (resolveParams), all of them at once.
 */
import { ENV_NAME } from '../model/names.js';
import { isRefName } from '../model/step-template.js';
import { configError, formatLocation, TrellisError, type SourceLocation } from '../util/errors.js';
import { hasTerminalControls, termLine } from '../util/terminal-text.js';
import type { ConfigFile, ParamDecl } from './types.js';

/** Longest parameter value (characters). */
export const MAX_PARAM_VALUE = 4096;

const OPTION_HINT = 'write NAME [required] [default=V] [choices=A,B] [pattern=REGEX] [# description]';
/** Names the shell or Trellis itself sets: a parameter must not replace them in a test's environment. */
const RESERVED = new Set(['PATH', 'HOME', 'SHELL', 'PWD', 'IFS', 'USER', 'LOGNAME']);

/** Reads `[params]` of the area config; a bad line is a CONFIG_VALUE error naming file and line. */
export function readParams(config: ConfigFile): readonly ParamDecl[] {
  return Object.freeze(config.entries('params').map(([name, value]) => readParam(name, value.text, value.loc)));
}

function readParam(name: string, text: string, loc: SourceLocation): ParamDecl {
  const fail = (what: string, hint = OPTION_HINT) => configError('CONFIG_VALUE', loc, `[params] ${termLine(name)}: ${what}`, hint);
  if (!ENV_NAME.test(name) || !isRefName(name)) {
    throw fail('is not a valid parameter name', 'use letters, digits and _ (it becomes an environment variable and {NAME} in steps)');
  }
  if (RESERVED.has(name) || /^(MT|TRELLIS)_/.test(name)) {
    throw fail(`is a name the shell or Trellis sets for every test`, 'choose another name, e.g. RELEASE_VERSION');
  }
  let rest = text.replace(/\n/g, ' ').trim();
  let required = false;
  let def: string | undefined;
  let choices: string[] | undefined;
  let pattern: { source: string; regex: RegExp } | undefined;
  for (;;) {
    const word = /^(required|default|choices|pattern)(?=$|[ =])(=)?/.exec(rest);
    if (!word) {
      const unknown = /^([a-z_]+)=/.exec(rest);
      if (unknown) throw fail(`unknown option '${unknown[1]}='`, `${OPTION_HINT}; start a description with # if it begins so`);
      break;
    }
    const key = word[1]!;
    if (key === 'required') {
      if (word[2]) throw fail("'required' takes no value", 'write required alone');
      required = true;
      rest = rest.slice(word[0].length).trimStart();
      continue;
    }
    if (!word[2]) throw fail(`'${key}' needs a value`, `write ${key}=VALUE`);
    const taken = takeValue(rest.slice(word[0].length));
    if (taken === undefined) throw fail(`the value of ${key}= has an unclosed quote`, 'close the quote');
    rest = taken.rest;
    if (key === 'default') def = taken.value;
    else if (key === 'choices') {
      choices = taken.value.split(',').map((c) => c.trim());
      if (choices.some((c) => c === '')) throw fail(`choices=${taken.value} has an empty choice`, 'write choices=a,b,c');
    } else {
      try {
        pattern = { source: taken.value, regex: new RegExp(`^(?:${taken.value})$`, 'u') };
      } catch (err) {
        throw fail(`pattern=${taken.value} is not a valid regular expression (${(err as Error).message})`, 'fix the pattern');
      }
    }
  }
  const description = rest.replace(/^#\s*/, '').trim();
  if (required && def !== undefined) throw fail('is both required and has a default', 'keep one of them');
  const decl: ParamDecl = Object.freeze({
    name,
    required,
    ...(def !== undefined ? { default: def } : {}),
    ...(choices ? { choices: Object.freeze(choices) } : {}),
    ...(pattern ? { pattern: pattern.source, regex: pattern.regex } : {}),
    description,
    loc: Object.freeze({ ...loc }),
  });
  if (def !== undefined) {
    const problem = valueProblem(decl, def);
    if (problem) throw fail(`default=${def} ${problem}`, 'make the default one of the values the line allows');
  }
  return decl;
}

/** The value at the start of `text` (quoted with ' or ", or up to the next blank) and what follows it. */
function takeValue(text: string): { value: string; rest: string } | undefined {
  const q = text[0];
  if (q === "'" || q === '"') {
    const end = text.indexOf(q, 1);
    if (end < 0) return undefined;
    return { value: text.slice(1, end), rest: text.slice(end + 1).trimStart() };
  }
  const m = /^(\S*)\s*/.exec(text)!;
  return { value: m[1]!, rest: text.slice(m[0].length) };
}

/** Why `value` is not allowed for the parameter, or undefined. */
export function valueProblem(decl: ParamDecl, value: string): string | undefined {
  if (value.length > MAX_PARAM_VALUE) return `is longer than ${MAX_PARAM_VALUE} characters`;
  if (hasTerminalControls(value)) return 'contains a control character';
  if (decl.choices && !decl.choices.includes(value)) return `is not one of ${decl.choices.join(', ')}`;
  if (decl.regex && !decl.regex.test(value)) return `does not match pattern=${decl.pattern}`;
  return undefined;
}

/** One `--param NAME=VALUE` as given. */
export interface GivenParam {
  readonly name: string;
  readonly value: string;
}

/** `--param NAME=VALUE` text → its name and value (BAD_PARAM without `=`). */
export function parseParamOption(text: string, flag: string): GivenParam {
  const eq = text.indexOf('=');
  if (eq <= 0) {
    throw new TrellisError('BAD_PARAM', `${flag} ${termLine(text)}: expected NAME=VALUE`, `e.g. ${flag} VERSION=1.4.2`);
  }
  return { name: text.slice(0, eq).trim(), value: text.slice(eq + 1) };
}

/**
 * Every parameter's value for a run: the given ones, else their default, else '' for an optional
 * one. Each undeclared, repeated, missing or refused value is one line of one BAD_PARAM error.
 */
export function resolveParams(decls: readonly ParamDecl[], given: readonly GivenParam[], configFile: string): Record<string, string> {
  const problems: Array<{ message: string; hint: string }> = [];
  const byName = new Map(decls.map((d) => [d.name, d]));
  const values: Record<string, string> = {};
  const seen = new Set<string>();
  for (const g of given) {
    const shown = termLine(`${g.name}=${g.value}`);
    const decl = byName.get(g.name);
    if (decl === undefined) {
      const known = decls.map((d) => d.name).join(', ');
      problems.push({
        message: `--param ${shown}: ${termLine(g.name)} is not a parameter of this area`,
        hint: known ? `declared in [params] of ${configFile}: ${known}` : `declare it in [params] of ${configFile}, or leave it out`,
      });
      continue;
    }
    if (seen.has(g.name)) {
      problems.push({ message: `--param ${shown}: ${g.name} is given more than once`, hint: 'give each parameter once' });
      continue;
    }
    seen.add(g.name);
    const problem = valueProblem(decl, g.value);
    if (problem) {
      problems.push({ message: `--param ${shown}: the value ${problem} (${formatLocation(decl.loc)})`, hint: allowedHint(decl) });
      continue;
    }
    values[g.name] = g.value;
  }
  for (const decl of decls) {
    if (seen.has(decl.name)) continue;
    if (decl.required) {
      problems.push({
        message: `parameter ${decl.name} is required (${formatLocation(decl.loc)})${decl.description ? `: ${decl.description}` : ''}`,
        hint: `give --param ${decl.name}=VALUE${decl.choices ? ` (one of ${decl.choices.join(', ')})` : ''}`,
      });
      continue;
    }
    values[decl.name] = decl.default ?? '';
  }
  if (problems.length > 0) {
    const [first, ...more] = problems;
    throw new TrellisError('BAD_PARAM', first!.message, first!.hint, { more: more.map((p) => `${p.message}; ${p.hint}`) });
  }
  return values;
}

function allowedHint(decl: ParamDecl): string {
  if (decl.choices) return `give one of ${decl.choices.join(', ')}`;
  if (decl.pattern !== undefined) return `give a value matching ${decl.pattern}${decl.description ? ` (${decl.description})` : ''}`;
  return 'give a shorter value of printable characters';
}
