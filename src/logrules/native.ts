/**
 * Trellis' own rule form, for a testconfig's [logrules] section: one rule per line,
 *
 *     STEP KIND /REGEX/[i] [/REGEX/…] [COMPARATOR COUNT] ["DESCRIPTION"]
 *     STEP value /REGEX (GROUP)/ (COMPARATOR EXPECTED | EXPECTED +- TOLERANCE) ["DESCRIPTION"]
 *
 * (src/config reads the lines; this file reads what follows STEP). The kinds and their meaning are
 * logpro's; every rule applies to the whole log. Unlike a logpro file, where the first rule written
 * that matches a line takes it, ignore (and note) rules are tried first, then waive, then the rest
 * in the order written, so an ignore line masks an error wherever it is written.
 */
import { configError, type SourceLocation } from '../util/errors.js';
import {
  BODY_SECTION,
  compilePattern,
  countGroups,
  isComparator,
  parseNumber,
  RULE_KINDS,
  ruleKind,
  type Comparator,
  type LinePattern,
  type Rule,
  type RuleKind,
  type RulePiece,
  type ValueCheck,
} from './rules.js';

/** One [logrules] rule as written: the text after STEP, and where it is. */
export interface NativeLine {
  readonly text: string;
  readonly loc: SourceLocation;
}

/** The count a kind expects when the line gives none: `= 0` (must not appear) unless listed. */
const DEFAULT_COUNT: Partial<Record<RuleKind, readonly [Comparator, number]>> = {
  required: ['>=', 1],
  'required-warn': ['>=', 1],
  ignore: ['>=', 0],
  note: ['>=', 0],
};
const SYNTAX = 'KIND /REGEX/ [COMPARATOR COUNT] ["DESCRIPTION"], e.g. error /error/i or required /done/ >= 1';
const VALUE_SYNTAX = 'value /REGEX (GROUP)/ COMPARATOR EXPECTED or EXPECTED +- TOLERANCE, e.g. value /took (\\d+) ms/ < 200';

/** Reads [logrules] lines into rules; an error names the line's file:line. */
export function parseNativeRules(lines: readonly NativeLine[]): RulePiece {
  const parsed = lines.map((l) => parseLine(l));
  const order = (k: RuleKind) => (k === 'ignore' || k === 'note' ? 0 : k === 'waive' ? 1 : 2);
  // Array.prototype.sort is stable: within a group, the order written.
  const sorted = parsed.map((r, i) => ({ r, i })).sort((a, b) => order(a.r.kind) - order(b.r.kind) || a.i - b.i);
  const rules = sorted.map(({ r }, num) => Object.freeze({ ...r, num }));
  return Object.freeze({ rules: Object.freeze(rules), triggers: [], sections: [], numbered: rules.length, warnings: [] });
}

type Token = { kind: 'regex'; source: string; flags: string } | { kind: 'string'; value: string } | { kind: 'word'; value: string };

function parseLine(line: NativeLine): Omit<Rule, 'num'> {
  const fail = (what: string, hint = SYNTAX) => configError('CONFIG_VALUE', line.loc, `[logrules] ${what}`, `write ${hint}`);
  const tokens = tokenize(line.text, line.loc);
  const first = tokens.shift();
  if (first?.kind !== 'word') throw fail(first ? 'a rule starts with its kind' : 'the rule is empty');
  const kind = ruleKind(first.value);
  if (kind === undefined) {
    throw fail(`'${first.value}' is not a rule kind (one of ${RULE_KINDS.join(', ')})`);
  }
  const patterns: LinePattern[] = [];
  while (tokens[0]?.kind === 'regex') {
    const t = tokens.shift() as Extract<Token, { kind: 'regex' }>;
    patterns.push(compilePattern(t.source, t.flags, line.loc));
  }
  if (patterns.length === 0) throw fail(`${kind}: no /regex/ after the kind`);
  const last = tokens[tokens.length - 1];
  if (last?.kind === 'string') tokens.pop();
  const description = last?.kind === 'string' ? last.value : `${kind} ${patterns.map((p) => p.text).join(' ')}`;
  const words = tokens.map((t) => (t.kind === 'word' ? t.value : JSON.stringify(t.kind === 'string' ? t.value : `/${t.source}/`)));
  const common = { kind, where: 'in' as const, sections: [BODY_SECTION], description, patterns, loc: line.loc };
  if (kind === 'value') {
    if (patterns.some((p) => countGroups(p) < 1))
      throw fail(`value: ${patterns[0]!.text} has no capture group: put (…) around the number to measure`, VALUE_SYNTAX);
    return {
      ...common,
      comparator: '=',
      expected: 0,
      value: readValueCheck(words, () => fail(`value: '${words.join(' ')}' is not a comparison`, VALUE_SYNTAX)),
    };
  }
  const [comparator, expected] = readCount(words, kind, () =>
    fail(`${kind}: '${words.join(' ')}' is not COMPARATOR COUNT (one of = > < >= <=, then a number)`),
  );
  return { ...common, comparator, expected };
}

/** `>= 1` (also `>=1`), or the kind's default when nothing is written. */
function readCount(words: string[], kind: RuleKind, bad: () => Error): [Comparator, number] {
  if (words.length === 0) return [...(DEFAULT_COUNT[kind] ?? (['=', 0] as const))];
  const [op, num] = splitComparison(words.join(''));
  const n = num === undefined ? undefined : parseNumber(num);
  if (op === undefined || n === undefined) throw bad();
  return [op, n];
}

/** `< 200`, `1.9 +- 0.1` (also `±`, with or without blanks). */
function readValueCheck(words: string[], bad: () => Error): ValueCheck {
  const text = words.join(' ');
  const tol = /^(\S+)\s*(?:\+-|\u00b1)\s*(\S+)$/.exec(text);
  if (tol) {
    const expected = parseNumber(tol[1]!);
    const tolerance = parseNumber(tol[2]!);
    if (expected === undefined || tolerance === undefined || tolerance < 0) throw bad();
    return Object.freeze({ expected, tolerance, group: 1 });
  }
  const [op, num] = splitComparison(words.join(''));
  const expected = num === undefined ? undefined : parseNumber(num);
  if (op === undefined || expected === undefined) throw bad();
  return Object.freeze({ expected, tolerance: op, group: 1 });
}

function splitComparison(text: string): [Comparator | undefined, string | undefined] {
  const m = /^(>=|<=|=|>|<)(.+)$/.exec(text);
  return m && isComparator(m[1]!) ? [m[1], m[2]] : [undefined, undefined];
}

/** Splits a rule into /regex/flags, "strings" and words; a regex may hold blanks and [/]. */
function tokenize(text: string, loc: SourceLocation): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '/') {
      let j = i + 1;
      let inClass = false;
      let source = '';
      for (; j < text.length; j++) {
        const d = text[j]!;
        if (d === '\\' && j + 1 < text.length) {
          source += text[j + 1] === '/' ? '/' : d + text[j + 1];
          j++;
          continue;
        }
        if (d === '[') inClass = true;
        else if (d === ']') inClass = false;
        else if (d === '/' && !inClass) break;
        source += d;
      }
      if (j >= text.length)
        throw configError(
          'CONFIG_VALUE',
          loc,
          `[logrules] regular expression /${source} is never closed`,
          'end it with /, and write a / inside it as \\/',
        );
      const flags = /^[a-z]*/.exec(text.slice(j + 1))![0];
      out.push({ kind: 'regex', source, flags });
      i = j + 1 + flags.length;
    } else if (c === '"') {
      let j = i + 1;
      let value = '';
      for (; j < text.length && text[j] !== '"'; j++) value += text[j] === '\\' && j + 1 < text.length ? text[++j] : text[j];
      if (j >= text.length) throw configError('CONFIG_VALUE', loc, `[logrules] description "${value} is never closed`, 'add the closing "');
      out.push({ kind: 'string', value });
      i = j + 1;
    } else {
      const m = /^[^\s"]+/.exec(text.slice(i))!;
      out.push({ kind: 'word', value: m[0] });
      i += m[0].length;
    }
  }
  return out;
}
