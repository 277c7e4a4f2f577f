/**
 * Megatest's logpro files (STEP.logpro, or a testconfig's `[logpro] STEP` value) read as rules:
 * expect:KIND, expect, expect:value, trigger, trigger-with-limit, trigger:non-required, section,
 * and the bits of Scheme such files use around them (define of a constant, list, quote, regexp,
 * conc). logpro itself loads the file as Scheme; Trellis reads only these forms and says so,
 * naming file:line, for anything else (docs/log-rules.md lists what is read).
 */
import { configError, type SourceLocation, type TrellisError } from '../util/errors.js';
import {
  BODY_SECTION,
  compilePattern,
  countGroups,
  isComparator,
  RULE_KINDS,
  ruleKind,
  type Comparator,
  type LinePattern,
  type Rule,
  type RuleKind,
  type RulePiece,
  type SectionDef,
  type Trigger,
  type Where,
} from './rules.js';
import { readData, type Datum, type TextSource } from './sexp.js';

type Value =
  | { readonly t: 'string'; readonly v: string }
  | { readonly t: 'number'; readonly v: number }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'pattern'; readonly v: LinePattern }
  | { readonly t: 'list'; readonly v: readonly Value[] }
  | { readonly t: 'symbol'; readonly v: string };

const WHERES: readonly string[] = ['in', 'not-in', 'before', 'after'];
const EXPECT_ARGS = 'WHERE SECTION COMPARATOR COUNT "DESCRIPTION" PATTERN';
const VALUE_ARGS = 'WHERE SECTION EXPECTED TOLERANCE "DESCRIPTION" PATTERN';
const IGNORED_FORMS = new Set(['use', 'import', 'require-extension', 'setup-logpro']);
const NAMES_HINT = 'a logpro file may use in, not-in, the comparators = > < >= <=, logfile, and names from (define NAME VALUE)';

/** Reads logpro rules from `text`; errors are TrellisErrors naming file:line. */
export function parseLogpro(text: string, source: TextSource): RulePiece {
  return new LogproReader(source).read(readData(text, source));
}

class LogproReader {
  readonly #file: string;
  readonly #defines = new Map<string, Value>([['logfile', { t: 'string', v: BODY_SECTION }]]);
  readonly #rules: Rule[] = [];
  readonly #triggers: Trigger[] = [];
  readonly #sections: SectionDef[] = [];
  readonly #warnings: string[] = [];
  #num = 0;

  constructor(source: TextSource) {
    this.#file = source.file;
  }

  read(forms: readonly Datum[]): RulePiece {
    for (const form of forms) this.#form(form);
    return Object.freeze({
      rules: Object.freeze(this.#rules),
      triggers: Object.freeze(this.#triggers),
      sections: Object.freeze(this.#sections),
      numbered: this.#num,
      warnings: Object.freeze(this.#warnings),
    });
  }

  #loc(line: number): SourceLocation {
    return { file: this.#file, line };
  }

  #fail(line: number, what: string, hint: string, code: 'CONFIG_SYNTAX' | 'CONFIG_UNSUPPORTED' = 'CONFIG_SYNTAX'): TrellisError {
    return configError(code, this.#loc(line), what, hint);
  }

  #form(form: Datum): void {
    if (form.type !== 'list' || form.items.length === 0 || form.items[0]!.type !== 'symbol') {
      throw this.#fail(
        form.line,
        `${describe(form)} at the top level is not a logpro rule`,
        'write rules as (expect:error in "LogFileBody" = 0 "what" #/regex/)',
      );
    }
    const head = (form.items[0] as { name: string }).name;
    const args = form.items.slice(1);
    if (head === 'expect:value') {
      this.#value(form.line, args);
      return;
    }
    if (head === 'expect') {
      this.#expect(form.line, head, undefined, args);
      return;
    }
    if (head.startsWith('expect:')) {
      const kind = ruleKind(head.slice(7));
      if (kind === undefined || kind === 'value') {
        throw this.#fail(form.line, `(${head} …) is not a logpro rule`, `use one of ${RULE_KINDS.map((k) => `expect:${k}`).join(', ')}`);
      }
      this.#expect(form.line, head, kind, args);
      return;
    }
    if (head === 'trigger' || head === 'trigger-with-limit' || head === 'trigger:non-required') {
      this.#trigger(form.line, head, args);
      return;
    }
    if (head === 'section') {
      this.#section(form.line, args);
      return;
    }
    if (head === 'define') {
      this.#define(form.line, args);
      return;
    }
    if (head.startsWith('hook:')) {
      this.#warnings.push(`${this.#file}:${form.line}: (${head} …) ignored: Trellis does not run logpro hooks`);
      return;
    }
    if (IGNORED_FORMS.has(head)) return;
    throw this.#fail(
      form.line,
      `(${head} …) is Scheme code that logpro would evaluate; Trellis reads only logpro's rule forms`,
      'write the rules out one by one (expect:…, trigger, section, define of a constant); see docs/log-rules.md',
      'CONFIG_UNSUPPORTED',
    );
  }

  /** Splits `a b c key: v key2: v2` into positional values and keywords. */
  #args(line: number, head: string, args: readonly Datum[]): { pos: Datum[]; keys: Map<string, Datum> } {
    const pos: Datum[] = [];
    const keys = new Map<string, Datum>();
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a.type !== 'keyword') {
        if (keys.size > 0)
          throw this.#fail(a.line, `(${head} …): ${describe(a)} after a keyword argument`, 'put keyword arguments (expires: …) last');
        pos.push(a);
        continue;
      }
      const v = args[++i];
      if (v === undefined) throw this.#fail(line, `(${head} …): keyword ${a.name}: has no value`, `write ${a.name}: VALUE`);
      keys.set(a.name, v);
    }
    return { pos, keys };
  }

  #expect(line: number, head: string, fixedKind: RuleKind | undefined, args: readonly Datum[]): void {
    const { pos, keys } = this.#args(line, head, args);
    if (pos.length !== 6) throw this.#arity(line, head, EXPECT_ARGS, pos.length);
    let kind = fixedKind ?? 'error';
    const type = keys.get('type');
    if (fixedKind === undefined && type !== undefined) {
      const v = this.#eval(type);
      const name = v.t === 'symbol' || v.t === 'string' ? v.v : '';
      const k = ruleKind(name);
      if (k === undefined || k === 'value') {
        throw this.#fail(
          type.line,
          `(expect …) type: '${name}' is not a rule type`,
          `use one of ${RULE_KINDS.filter((x) => x !== 'value').join(', ')}`,
        );
      }
      kind = k;
    }
    const rule: Rule = {
      num: this.#num++,
      kind,
      where: this.#where(pos[0]!, head),
      sections: this.#sectionNames(pos[1]!, head),
      comparator: this.#comparator(pos[2]!, head, 'comparator'),
      expected: this.#number(pos[3]!, head, 'COUNT'),
      description: this.#string(pos[4]!, head, 'DESCRIPTION'),
      patterns: this.#patterns(pos[5]!, head),
      ...this.#expires(keys, head),
      loc: this.#loc(line),
    };
    this.#noteIgnoredKeys(line, head, keys, ['type', 'expires']);
    this.#rules.push(Object.freeze(rule));
  }

  #value(line: number, args: readonly Datum[]): void {
    const head = 'expect:value';
    const { pos, keys } = this.#args(line, head, args);
    if (pos.length !== 6) throw this.#arity(line, head, VALUE_ARGS, pos.length);
    const tolArg = this.#evalArg(pos[3]!);
    let tolerance: number | Comparator;
    if (tolArg.t === 'number' && tolArg.v >= 0) tolerance = tolArg.v;
    else if (tolArg.t === 'symbol' && isComparator(tolArg.v)) tolerance = tolArg.v;
    else
      throw this.#fail(
        pos[3]!.line,
        `(expect:value …): the tolerance must be a number of 0 or more, or one of = > < >= <=, not ${describe(pos[3]!)}`,
        `e.g. (expect:value in "LogFileBody" 1.9 0.1 "Voltage" #/V: ([\\d.]+)/) or … 3 < "Mean" …`,
      );
    const matchnum = keys.get('matchnum');
    const group = matchnum === undefined ? 1 : this.#number(matchnum, head, 'matchnum:');
    if (!Number.isInteger(group) || group < 0)
      throw this.#fail(matchnum!.line, `(expect:value …) matchnum: must be a whole number`, 'e.g. matchnum: 2 for the second (…) group');
    const patterns = this.#patterns(pos[5]!, head);
    for (const p of patterns) {
      if (countGroups(p) < group) {
        // logpro only finds out per matching line (and fails the rule); say so once, up front.
        this.#warnings.push(
          `${this.#file}:${line}: ${p.text} has no capture group ${group}: every line it matches fails this value rule; put (…) around the number`,
        );
      }
    }
    const rule: Rule = {
      num: this.#num++,
      kind: 'value',
      where: this.#where(pos[0]!, head),
      sections: this.#sectionNames(pos[1]!, head),
      comparator: '=',
      expected: 0,
      description: this.#string(pos[4]!, head, 'DESCRIPTION'),
      patterns,
      value: Object.freeze({ expected: this.#number(pos[2]!, head, 'EXPECTED'), tolerance, group }),
      ...this.#expires(keys, head),
      loc: this.#loc(line),
    };
    this.#noteIgnoredKeys(line, head, keys, ['matchnum', 'expires']);
    this.#rules.push(Object.freeze(rule));
  }

  #trigger(line: number, head: string, args: readonly Datum[]): void {
    const { pos } = this.#args(line, head, args);
    const withLimit = head === 'trigger-with-limit';
    const min = withLimit ? 3 : 2;
    if (pos.length < min) throw this.#arity(line, head, withLimit ? '"NAME" HITS PATTERN…' : '"NAME" PATTERN…', pos.length);
    const name = this.#string(pos[0]!, head, 'NAME');
    const limit = withLimit ? this.#number(pos[1]!, head, 'HITS') : 1;
    const patterns = pos.slice(min - 1).flatMap((p) => this.#patterns(p, head));
    this.#triggers.push(
      Object.freeze({ name, patterns: Object.freeze(patterns), limit, required: head !== 'trigger:non-required', loc: this.#loc(line) }),
    );
  }

  #section(line: number, args: readonly Datum[]): void {
    const { pos } = this.#args(line, 'section', args);
    if (pos.length !== 3) throw this.#arity(line, 'section', '"NAME" "START-TRIGGER" "END-TRIGGER"', pos.length);
    const [name, start, end] = pos.map((p, i) => this.#string(p, 'section', ['NAME', 'START-TRIGGER', 'END-TRIGGER'][i]!));
    this.#sections.push(Object.freeze({ name: name!, start: start!, end: end! }));
  }

  #define(line: number, args: readonly Datum[]): void {
    const target = args[0];
    if (args.length !== 2 || target?.type !== 'symbol') {
      throw this.#fail(
        line,
        '(define …) of a function or without one value is Scheme code Trellis does not evaluate',
        'define only constants: (define NAME "text"), a number, a #/regex/ or a (list …)',
        'CONFIG_UNSUPPORTED',
      );
    }
    this.#defines.set(target.name, this.#eval(args[1]!));
  }

  #eval(d: Datum): Value {
    switch (d.type) {
      case 'string':
      case 'number':
      case 'bool':
        return { t: d.type, v: d.value } as Value;
      case 'regex':
        return { t: 'pattern', v: compilePattern(d.source, d.flags, this.#loc(d.line)) };
      case 'keyword':
        throw this.#fail(d.line, `keyword ${d.name}: where a value is expected`, 'keyword arguments (expires: …) go after the pattern');
      case 'symbol': {
        const bound = this.#defines.get(d.name);
        if (bound) return bound;
        if (WHERES.includes(d.name) || isComparator(d.name)) return { t: 'symbol', v: d.name };
        throw this.#fail(d.line, `unknown name '${d.name}'`, NAMES_HINT);
      }
      case 'list':
        return this.#call(d);
    }
  }

  #call(d: Extract<Datum, { type: 'list' }>): Value {
    const head = d.items[0];
    const args = d.items.slice(1);
    const name = head?.type === 'symbol' ? head.name : '';
    if (name === 'quote') return quoted(args[0]!, this.#file);
    if (name === 'list') return { t: 'list', v: args.map((a) => this.#eval(a)) };
    if (name === 'regexp') {
      const src = args[0] ? this.#eval(args[0]) : undefined;
      if (src?.t !== 'string')
        throw this.#fail(d.line, '(regexp …) needs a string', 'e.g. (regexp "error" #t) for a case-insensitive match');
      const ci = args[1] ? this.#eval(args[1]) : undefined;
      return { t: 'pattern', v: compilePattern(src.v, ci && !(ci.t === 'bool' && !ci.v) ? 'i' : '', this.#loc(d.line)) };
    }
    if (name === 'conc' || name === 'string-append') {
      const parts = args.map((a) => this.#eval(a));
      if (parts.some((p) => p.t !== 'string' && p.t !== 'number'))
        throw this.#fail(d.line, `(${name} …) joins strings and numbers only`, 'give it strings');
      return { t: 'string', v: parts.map((p) => String(p.v)).join('') };
    }
    throw this.#fail(
      d.line,
      `${describe(d)} is not a value Trellis can read in a logpro file`,
      'use a string, a number, a #/regex/, (list …), (regexp "…") or a defined name',
      'CONFIG_UNSUPPORTED',
    );
  }

  /** Like #eval, but a name that means nothing is returned as a symbol, for the caller to name in its own error. */
  #evalArg(d: Datum): Value {
    if (d.type === 'symbol' && !this.#defines.has(d.name)) return { t: 'symbol', v: d.name };
    return this.#eval(d);
  }

  #where(d: Datum, head: string): Where {
    const v = this.#evalArg(d);
    if (v.t === 'symbol' && WHERES.includes(v.v)) return v.v as Where;
    throw this.#fail(
      d.line,
      `(${head} …): the first argument must be in or not-in, not ${describe(d)}`,
      `e.g. (${head} in "LogFileBody" …)`,
    );
  }

  #sectionNames(d: Datum, head: string): string[] {
    const v = this.#evalArg(d);
    if (v.t === 'string') return [v.v];
    if (v.t === 'list' && v.v.length > 0 && v.v.every((x) => x.t === 'string')) return v.v.map((x) => x.v as string);
    throw this.#fail(
      d.line,
      `(${head} …): the section must be a string or a list of strings, not ${describe(d)}`,
      'e.g. "LogFileBody" (or logfile)',
    );
  }

  #comparator(d: Datum, head: string, what: string): Comparator {
    const v = this.#evalArg(d);
    if (v.t === 'symbol' && isComparator(v.v)) return v.v;
    throw this.#fail(d.line, `(${head} …): ${what} ${describe(d)} is not one of = > < >= <=`, `e.g. (${head} in "LogFileBody" = 0 …)`);
  }

  #number(d: Datum, head: string, what: string): number {
    const v = this.#evalArg(d);
    if (v.t === 'number') return v.v;
    throw this.#fail(d.line, `(${head} …): ${what} must be a number, not ${describe(d)}`, 'write a number such as 0, 1 or 1.5');
  }

  #string(d: Datum, head: string, what: string): string {
    const v = this.#evalArg(d);
    if (v.t === 'string') return v.v;
    throw this.#fail(d.line, `(${head} …): ${what} must be a string, not ${describe(d)}`, 'write it in double quotes');
  }

  #patterns(d: Datum, head: string): LinePattern[] {
    const v = this.#evalArg(d);
    const list = v.t === 'list' ? v.v : [v];
    if (list.length === 0 || list.some((x) => x.t !== 'pattern')) {
      throw this.#fail(d.line, `(${head} …): the pattern must be a #/regex/ or (list #/a/ #/b/), not ${describe(d)}`, 'e.g. #/error/i');
    }
    return list.map((x) => x.v as LinePattern);
  }

  #expires(keys: Map<string, Datum>, head: string): { expires?: number } {
    const d = keys.get('expires');
    if (d === undefined) return {};
    const v = this.#eval(d);
    const m = v.t === 'string' ? /^(\d+)\/(\d+)\/(\d+)$/.exec(v.v) : null;
    if (!m) {
      // logpro warns and applies the rule.
      this.#warnings.push(`${this.#file}:${d.line}: (${head} …) expires: ${describe(d)} is not MM/DD/YYYY; the rule always applies`);
      return {};
    }
    return { expires: new Date(Number(m[3]), Number(m[1]) - 1, Number(m[2])).getTime() / 1000 };
  }

  #noteIgnoredKeys(line: number, head: string, keys: Map<string, Datum>, known: readonly string[]): void {
    for (const k of keys.keys()) {
      if (known.includes(k) || k === 'class') continue;
      this.#warnings.push(`${this.#file}:${line}: (${head} …) ${k}: ignored${k === 'hook' ? ': Trellis does not run logpro hooks' : ''}`);
    }
  }

  #arity(line: number, head: string, shape: string, got: number): TrellisError {
    return this.#fail(
      line,
      `(${head} …) needs ${shape}; got ${got} argument${got === 1 ? '' : 's'}`,
      `e.g. (${head} ${head === 'expect:value' ? 'in "LogFileBody" 1.9 0.1 "Voltage" #/V: ([\\d.]+)/' : head.startsWith('expect') ? 'in "LogFileBody" = 0 "Any error" #/error/i' : head === 'section' ? '"Body" "BodyStart" "BodyEnd"' : '"Start" #/^begin/'})`,
    );
  }
}

/** A quoted datum: lists of strings, numbers, symbols (as symbols), regexes. */
function quoted(d: Datum, file: string): Value {
  switch (d.type) {
    case 'list':
      return { t: 'list', v: d.items.map((x) => quoted(x, file)) };
    case 'symbol':
      return { t: 'symbol', v: d.name };
    case 'keyword':
      return { t: 'symbol', v: `${d.name}:` };
    case 'regex':
      return { t: 'pattern', v: compilePattern(d.source, d.flags, { file, line: d.line }) };
    default:
      return { t: d.type, v: d.value } as Value;
  }
}

/** A datum as it would be written, shortened, for messages. */
function describe(d: Datum): string {
  switch (d.type) {
    case 'list': {
      const head = d.items[0];
      return head?.type === 'symbol' ? `(${head.name} …)` : '(…)';
    }
    case 'string':
      return JSON.stringify(d.value.length > 40 ? `${d.value.slice(0, 40)}…` : d.value);
    case 'number':
      return String(d.value);
    case 'symbol':
      return `'${d.name}'`;
    case 'keyword':
      return `${d.name}:`;
    case 'bool':
      return d.value ? '#t' : '#f';
    case 'regex':
      return `#/${d.source}/${d.flags}`;
  }
}
