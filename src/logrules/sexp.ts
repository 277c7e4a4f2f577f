/**
 * Reads the Scheme data a logpro file is written in: lists, strings, numbers, symbols, keywords
 * (`expires:`), booleans, quotes and Chicken's regex literals `#/…/i`, with `;`, `#|…|#` and `#;`
 * comments. Only reading: logpro.ts decides what the forms mean. Hand-written because no Scheme
 * reader on npm knows Chicken's `#/regex/` literals, and every error must name file:line.
 */
import { configError, type SourceLocation } from '../util/errors.js';

export type Datum =
  | { readonly type: 'list'; readonly items: readonly Datum[]; readonly line: number }
  | { readonly type: 'string'; readonly value: string; readonly line: number }
  | { readonly type: 'number'; readonly value: number; readonly line: number }
  | { readonly type: 'symbol'; readonly name: string; readonly line: number }
  | { readonly type: 'keyword'; readonly name: string; readonly line: number }
  | { readonly type: 'bool'; readonly value: boolean; readonly line: number }
  | { readonly type: 'regex'; readonly source: string; readonly flags: string; readonly line: number };

/** Where the text came from: a file, or a testconfig value starting at `line`. */
export interface TextSource {
  file: string;
  /** line number of the text's first line */
  line: number;
  /** the file line of each line of the text, when they are not consecutive (a testconfig value) */
  lines?: readonly number[];
}

const DELIMITER = /[\s()[\]";']/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const OPENERS: Record<string, string> = { '(': ')', '[': ']' };

/** Reads every datum of `text`; syntax errors are CONFIG_SYNTAX naming file:line. */
export function readData(text: string, source: TextSource): Datum[] {
  return new Reader(text, source).readAll();
}

class Reader {
  readonly #text: string;
  readonly #source: TextSource;
  #pos = 0;
  /** 0-based line of the text; #at() turns it into a file line */
  #line = 0;

  constructor(text: string, source: TextSource) {
    this.#text = text;
    this.#source = source;
  }

  readAll(): Datum[] {
    const out: Datum[] = [];
    for (;;) {
      this.#skipSpace();
      if (this.#pos >= this.#text.length) return out;
      const c = this.#text[this.#pos]!;
      if (c === ')' || c === ']') throw this.#error(this.#line, `'${c}' closes nothing`, 'remove it, or add the ( it belongs to');
      out.push(this.#datum());
    }
  }

  /** The file line of a 0-based line of the text. */
  #at(index: number): number {
    return this.#source.lines?.[index] ?? this.#source.line + index;
  }

  #loc(index: number): SourceLocation {
    return { file: this.#source.file, line: this.#at(index) };
  }

  #error(line: number, what: string, hint: string) {
    return configError('CONFIG_SYNTAX', this.#loc(line), what, hint);
  }

  #skipSpace(): void {
    const t = this.#text;
    while (this.#pos < t.length) {
      const c = t[this.#pos]!;
      if (c === '\n') {
        this.#line++;
        this.#pos++;
      } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
        this.#pos++;
      } else if (c === ';') {
        while (this.#pos < t.length && t[this.#pos] !== '\n') this.#pos++;
      } else if (c === '#' && t[this.#pos + 1] === '|') {
        this.#blockComment();
      } else if (c === '#' && t[this.#pos + 1] === ';') {
        this.#pos += 2;
        this.#skipSpace();
        this.#datum();
      } else return;
    }
  }

  #blockComment(): void {
    const start = this.#line;
    let depth = 0;
    const t = this.#text;
    while (this.#pos < t.length) {
      if (t.startsWith('#|', this.#pos)) {
        depth++;
        this.#pos += 2;
      } else if (t.startsWith('|#', this.#pos)) {
        depth--;
        this.#pos += 2;
        if (depth === 0) return;
      } else {
        if (t[this.#pos] === '\n') this.#line++;
        this.#pos++;
      }
    }
    throw this.#error(start, "'#|' comment is never closed", "end it with '|#'");
  }

  /** One datum at the current position (after blanks). */
  #datum(): Datum {
    this.#skipSpace();
    const t = this.#text;
    const line = this.#line;
    if (this.#pos >= t.length) throw this.#error(line, 'the file ends where a value is expected', 'complete the last form');
    const c = t[this.#pos]!;
    if (c in OPENERS) return this.#list(OPENERS[c]!);
    if (c === ')' || c === ']') throw this.#error(line, `'${c}' where a value is expected`, 'check the parentheses');
    if (c === '"') return this.#string();
    if (c === "'") {
      this.#pos++;
      return { type: 'list', items: [{ type: 'symbol', name: 'quote', line: this.#at(line) }, this.#datum()], line: this.#at(line) };
    }
    if (c === '#' && t[this.#pos + 1] === '/') return this.#regex();
    return this.#atom();
  }

  #list(close: string): Datum {
    const line = this.#line;
    this.#pos++;
    const items: Datum[] = [];
    for (;;) {
      this.#skipSpace();
      if (this.#pos >= this.#text.length) {
        throw this.#error(line, `'(' opened here is never closed`, `add the missing '${close}' (the file ended inside this form)`);
      }
      const c = this.#text[this.#pos]!;
      if (c === ')' || c === ']') {
        if (c !== close)
          throw this.#error(
            this.#line,
            `'${c}' closes a form opened with '${close === ')' ? '(' : '['}' at line ${this.#at(line)}`,
            `close it with '${close}'`,
          );
        this.#pos++;
        return { type: 'list', items, line: this.#at(line) };
      }
      items.push(this.#datum());
    }
  }

  #string(): Datum {
    const line = this.#line;
    const t = this.#text;
    let out = '';
    this.#pos++;
    while (this.#pos < t.length) {
      const c = t[this.#pos++]!;
      if (c === '"') return { type: 'string', value: out, line: this.#at(line) };
      if (c === '\n') this.#line++;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = t[this.#pos++];
      if (e === undefined) break;
      if (e === 'n') out += '\n';
      else if (e === 't') out += '\t';
      else if (e === 'r') out += '\r';
      else if (e === '\n')
        this.#line++; // a line continuation
      else out += e;
    }
    throw this.#error(line, 'string is never closed', 'add the closing "');
  }

  #regex(): Datum {
    const line = this.#line;
    const t = this.#text;
    let source = '';
    this.#pos += 2;
    while (this.#pos < t.length) {
      const c = t[this.#pos++]!;
      if (c === '\n')
        throw this.#error(line, 'regular expression #/…/ is not closed on its line', 'end it with /, and write a / inside it as \\/');
      if (c === '/') {
        const flags = /^[a-z]*/.exec(t.slice(this.#pos, this.#pos + 8))![0];
        this.#pos += flags.length;
        return { type: 'regex', source, flags, line: this.#at(line) };
      }
      if (c === '\\' && t[this.#pos] === '/') {
        source += '/';
        this.#pos++;
      } else if (c === '\\' && this.#pos < t.length) {
        source += c + t[this.#pos++]!;
      } else source += c;
    }
    throw this.#error(line, 'regular expression #/…/ is never closed', 'end it with /');
  }

  #atom(): Datum {
    const line = this.#line;
    const t = this.#text;
    const start = this.#pos;
    // `#t`, `#f` and `#:keyword` start with '#', which is not a delimiter.
    while (this.#pos < t.length && !DELIMITER.test(t[this.#pos]!)) this.#pos++;
    const word = t.slice(start, this.#pos);
    if (word === '#t' || word === '#true') return { type: 'bool', value: true, line: this.#at(line) };
    if (word === '#f' || word === '#false') return { type: 'bool', value: false, line: this.#at(line) };
    if (word.startsWith('#:') && word.length > 2) return { type: 'keyword', name: word.slice(2), line: this.#at(line) };
    if (word.startsWith('#'))
      throw this.#error(
        line,
        `'${word}' is not something a logpro file can hold`,
        'write regular expressions as #/…/, strings in double quotes',
      );
    if (NUMBER.test(word)) return { type: 'number', value: Number(word), line: this.#at(line) };
    if (word.length > 1 && word.endsWith(':')) return { type: 'keyword', name: word.slice(0, -1), line: this.#at(line) };
    return { type: 'symbol', name: word, line: this.#at(line) };
  }
}
