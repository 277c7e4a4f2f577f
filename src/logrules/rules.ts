/**
 * What a set of log rules is, whichever form it was written in (a Megatest logpro file, a
 * testconfig's [logpro] entry, or Trellis' own [logrules] lines), and the regular expressions they
 * use. Pure data and small pure helpers; parsing is in logpro.ts and native.ts, matching in
 * matcher.ts. docs/log-rules.md states the semantics, taken from logpro's own source.
 */
import { configError, type SourceLocation } from '../util/errors.js';

/** logpro's rule types (expect:KIND), with its aliases resolved. */
export const RULE_KINDS = [
  'error',
  'warning',
  'required',
  'required-warn',
  'ignore',
  'note',
  'waive',
  'check',
  'abort',
  'skip',
  'value',
] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** The spellings logpro and `[logrules]` also accept for a kind. */
const KIND_ALIASES: Readonly<Record<string, RuleKind>> = { warn: 'warning', waived: 'waive', waiver: 'waive' };

/** The rule kind a word names (an alias resolved), or undefined when it names none. */
export function ruleKind(word: string): RuleKind | undefined {
  const kind = KIND_ALIASES[word] ?? word;
  return (RULE_KINDS as readonly string[]).includes(kind) ? (kind as RuleKind) : undefined;
}

/** Comparators of a count (`COUNT OP EXPECTED`) or of a measured value (`MEASURED OP EXPECTED`). */
export const COMPARATORS = ['=', '>', '<', '>=', '<='] as const;
export type Comparator = (typeof COMPARATORS)[number];

/** logpro's `where`: only `in` and `not-in` ever match; `before`/`after` are accepted and inert. */
export type Where = 'in' | 'not-in' | 'before' | 'after';

/** The section every log has, from its first line to its end (logpro's "LogFileBody"). */
export const BODY_SECTION = 'LogFileBody';
const BODY_TRIGGER = 'LogFileBodyStart';

/** One regular expression of a rule or trigger. */
export interface LinePattern {
  /** as written (for messages) */
  readonly text: string;
  /** tested against one line (without its line ending) */
  readonly line: RegExp;
  /**
   * the same expression with `gm`, searched over many lines at once to find candidate lines fast;
   * null when a lookaround could make that search miss a line (then every line is tested)
   */
  readonly scan: RegExp | null;
}

/** How a value rule judges what it measured. */
export interface ValueCheck {
  readonly expected: number;
  /** a number: |measured - expected| ≤ tolerance; a comparator: `measured OP expected` */
  readonly tolerance: number | Comparator;
  /** which capture group holds the value (logpro's matchnum:, default 1) */
  readonly group: number;
}

/** One rule: lines matching `patterns` in (or not in) `sections` count for it. */
export interface Rule {
  /** logpro's rule number (`rule-N`): 0-based in the order written, expired rules included */
  readonly num: number;
  readonly kind: RuleKind;
  readonly where: Where;
  readonly sections: readonly string[];
  /** the count must satisfy `count COMPARATOR expected` (not used by value rules) */
  readonly comparator: Comparator;
  readonly expected: number;
  readonly description: string;
  readonly patterns: readonly LinePattern[];
  readonly value?: ValueCheck;
  /** logpro's expires: "MM/DD/YYYY": from that local midnight on, the rule is not applied */
  readonly expires?: number;
  readonly loc: SourceLocation;
}

/** A trigger: a line matching it starts or ends the sections that name it. */
export interface Trigger {
  readonly name: string;
  readonly patterns: readonly LinePattern[];
  /** how many times it may fire */
  readonly limit: number;
  /** logpro prints FAIL in its summary for a required trigger that never fired (no effect on the exit code) */
  readonly required: boolean;
  readonly loc?: SourceLocation;
}

export interface SectionDef {
  readonly name: string;
  readonly start: string;
  readonly end: string;
}

/** Rules from one source (a file, a testconfig entry, some [logrules] lines), before merging. */
export interface RulePiece {
  readonly rules: readonly Rule[];
  readonly triggers: readonly Trigger[];
  readonly sections: readonly SectionDef[];
  /** rule numbers used, expired rules included (the next piece's numbers start after them) */
  readonly numbered: number;
  readonly warnings: readonly string[];
}

/** The rules applied to one log in one pass. */
export interface RuleSet {
  readonly rules: readonly Rule[];
  /** in definition order, logpro's default LogFileBodyStart first */
  readonly triggers: readonly Trigger[];
  readonly sections: readonly SectionDef[];
  readonly warnings: readonly string[];
}

const DEFAULT_TRIGGER: Trigger = Object.freeze({
  name: BODY_TRIGGER,
  patterns: Object.freeze([compilePattern('.*', '', { file: '<logpro>', line: 0 })]),
  limit: 1,
  required: true,
});
const DEFAULT_SECTION: SectionDef = Object.freeze({ name: BODY_SECTION, start: BODY_TRIGGER, end: 'LogFileBodyEnd' });

/**
 * Merges pieces into one set, numbering each piece's rules after the ones before it, and warns
 * about sections that no rule can ever be in.
 */
export function buildRuleSet(pieces: readonly RulePiece[]): RuleSet {
  const rules: Rule[] = [];
  const triggers: Trigger[] = [DEFAULT_TRIGGER];
  const sections: SectionDef[] = [DEFAULT_SECTION];
  const warnings: string[] = [];
  let offset = 0;
  for (const piece of pieces) {
    for (const r of piece.rules) rules.push(offset === 0 ? r : Object.freeze({ ...r, num: r.num + offset }));
    triggers.push(...piece.triggers);
    sections.push(...piece.sections);
    warnings.push(...piece.warnings);
    offset += piece.numbered;
  }
  const triggerNames = new Set(triggers.map((t) => t.name));
  for (const s of sections) {
    if (!triggerNames.has(s.start))
      warnings.push(`section "${s.name}" starts at trigger "${s.start}", which is not defined: the section never starts`);
  }
  const sectionNames = new Set(sections.map((s) => s.name));
  for (const r of rules) {
    for (const name of r.sections) {
      if (!sectionNames.has(name))
        warnings.push(
          `${r.loc.file}:${r.loc.line}: section "${name}" is not defined (no (section "${name}" …)): the rule never applies there`,
        );
    }
    if (r.where === 'before' || r.where === 'after')
      warnings.push(`${r.loc.file}:${r.loc.line}: '${r.where}' is accepted by logpro but never matches; use in or not-in`);
  }
  return Object.freeze({
    rules: Object.freeze(rules),
    triggers: Object.freeze(triggers),
    sections: Object.freeze(sections),
    warnings: Object.freeze(warnings),
  });
}

// POSIX bracket classes (irregex, PCRE) that JavaScript does not know, as plain ranges.
const POSIX_CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  word: '\\w',
  cntrl: '\\x00-\\x1f\\x7f',
  print: '\\x20-\\x7e',
  graph: '\\x21-\\x7e',
};

/**
 * Compiles a rule's regular expression as logpro (irregex) reads it: POSIX classes like
 * `[[:space:]]` and a leading `(?i)` are translated; flags are `i` (others irregex knows are
 * no-ops on one line). A bad expression is a CONFIG_SYNTAX error at `loc`.
 */
export function compilePattern(source: string, flags: string, loc: SourceLocation): LinePattern {
  let body = source.replace(/\[:([a-z]+):\]/g, (whole, name: string) => POSIX_CLASSES[name] ?? whole);
  let ignoreCase = false;
  for (const f of flags) {
    if (f === 'i') ignoreCase = true;
    else if (f !== 'm' && f !== 's' && f !== 'u') {
      throw configError(
        'CONFIG_SYNTAX',
        loc,
        `regular expression /${source}/${flags}: flag '${f}' is not supported`,
        'use i for case-insensitive, or no flag',
      );
    }
  }
  if (body.startsWith('(?i)')) {
    body = body.slice(4);
    ignoreCase = true;
  }
  let line: RegExp;
  try {
    line = new RegExp(body, ignoreCase ? 'i' : '');
  } catch (err) {
    throw configError(
      'CONFIG_SYNTAX',
      loc,
      `/${source}/ is not a valid regular expression (${(err as Error).message.replace(/^Invalid regular expression: \/[\s\S]*\/[a-z]*: /, '')})`,
      'fix the expression; see docs/log-rules.md for the syntax',
    );
  }
  // A lookaround can look past the end of a line in a many-line search and reject a match the
  // line alone has; such patterns are tested line by line instead.
  const scan = /\(\?<?[=!]/.test(body) ? null : new RegExp(body, ignoreCase ? 'gim' : 'gm');
  return Object.freeze({ text: `/${source}/${flags}`, line, scan });
}

/** How many capture groups a pattern has. */
export function countGroups(pattern: LinePattern): number {
  return new RegExp(`${pattern.line.source}|`, pattern.line.flags).exec('')!.length - 1;
}

/** `a OP b` for a comparator. */
export function compare(a: number, op: Comparator, b: number): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '>':
      return a > b;
    case '<':
      return a < b;
    case '>=':
      return a >= b;
    case '<=':
      return a <= b;
  }
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** A number as Scheme's string->number reads a decimal, or undefined. */
export function parseNumber(text: string): number | undefined {
  return NUMBER.test(text) ? Number(text) : undefined;
}

/** True when `text` is a comparator. */
export function isComparator(text: string): text is Comparator {
  return (COMPARATORS as readonly string[]).includes(text);
}
