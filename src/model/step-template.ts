/**
 * `{NAME}` and `{TEST:NAME}` in step commands (design §6b): a run parameter, a value an earlier
 * step of the same test recorded, or a value a test this one waits on recorded. Pure: reading a
 * command into text and references, and writing it back with each reference's value.
 *
 * Shell commands are full of braces, so only these are references: `{` + a name of letters,
 * digits and `_` (not starting with a digit) + `}`, optionally with `TEST:` before the name, and
 * not right after `$` (`${HOME}` is the shell's). `{{` is a literal `{` (so `{{NAME}` is the text
 * `{NAME}`); `}` is never special, so `${a:-${b}}` and `awk '{print $1}'` and `find -exec {} +`
 * mean what they always meant.
 *
 * A value goes in as the shell will read it back exactly: outside quotes it is quoted when it
 * holds anything but plain characters, inside '…' or "…" it is escaped for those quotes. A value
 * is data, never more shell (a value `x; rm -rf ~` stays one word).
 */

/** Where a reference sits: outside quotes, inside '…', inside "…". */
export type QuoteContext = 'none' | 'single' | 'double';

/** One reference of a command. */
export interface StepRef {
  /** the test whose value it is (`{TEST:NAME}`); undefined for `{NAME}` */
  readonly test: string | undefined;
  readonly name: string;
  /** as written, for messages: `{build:version}` */
  readonly text: string;
  readonly quote: QuoteContext;
}

/** A command read into literal text and references, in order. */
export interface StepTemplate {
  readonly parts: ReadonlyArray<string | StepRef>;
  readonly refs: readonly StepRef[];
}

const NAME = '[A-Za-z_][A-Za-z0-9_]*';
/** Test names in references: what folder names of tests usually are. */
const TEST = '[A-Za-z0-9_][A-Za-z0-9_.+@-]*';
const REF = new RegExp(`^\\{(?:(${TEST}):)?(${NAME})\\}`);

/** True when `name` can be written as `{name}` (parameter and value names). */
export function isRefName(name: string): boolean {
  return new RegExp(`^${NAME}$`).test(name);
}

/** Reads a command (without its option block) into text and references. */
export function parseStepTemplate(command: string): StepTemplate {
  const parts: Array<string | StepRef> = [];
  const refs: StepRef[] = [];
  let text = '';
  let quote: QuoteContext = 'none';
  for (let i = 0; i < command.length; ) {
    const c = command[i]!;
    if (c === '{') {
      if (command[i + 1] === '{') {
        text += '{';
        i += 2;
        continue;
      }
      const m = command[i - 1] === '$' ? null : REF.exec(command.slice(i, i + 512));
      if (m) {
        if (text !== '') parts.push(text);
        text = '';
        const ref: StepRef = Object.freeze({ test: m[1], name: m[2]!, text: m[0], quote });
        parts.push(ref);
        refs.push(ref);
        i += m[0].length;
        continue;
      }
      text += c;
      i++;
      continue;
    }
    // The shell's quoting, as far as it decides how a value must be written.
    if (quote === 'single') {
      if (c === "'") quote = 'none';
    } else if (c === '\\' && i + 1 < command.length) {
      // An escaped character is the shell's, `\{` included (never a reference).
      text += c + command[i + 1]!;
      i += 2;
      continue;
    } else if (c === '"') quote = quote === 'double' ? 'none' : 'double';
    else if (c === "'" && quote === 'none') quote = 'single';
    text += c;
    i++;
  }
  if (text !== '') parts.push(text);
  return { parts, refs };
}

/** The command as the shell gets it: `{{` as `{`, each reference replaced by its value, quoted for where it sits. */
export function renderStepTemplate(template: StepTemplate, lookup: (ref: StepRef) => string): string {
  return template.parts.map((p) => (typeof p === 'string' ? p : quoteFor(lookup(p), p.quote))).join('');
}

/** The text as a person reads it (a manual step's prompt): `{{` as `{`, each reference's value as is. */
export function renderStepText(template: StepTemplate, lookup: (ref: StepRef) => string): string {
  return template.parts.map((p) => (typeof p === 'string' ? p : lookup(p))).join('');
}

const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** `value` written so that the shell, in this quoting context, reads back exactly `value`. */
export function quoteFor(value: string, quote: QuoteContext): string {
  switch (quote) {
    case 'single':
      return value.replace(/'/g, `'\\''`);
    case 'double':
      return value.replace(/[\\"$`]/g, '\\$&');
    case 'none':
      return PLAIN.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
  }
}
