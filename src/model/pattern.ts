/**
 * Patterns: `%` is a wildcard (every `%`, not only the first). Test patterns (design §6) are
 * comma-separated elements, each `test` or `test/itempath`, where `~` negates an element.
 */
import { TrellisError } from '../util/errors.js';

/** A `%` pattern as an anchored RegExp. */
export function percentToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('%')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

/** True when `name` matches the `%` pattern. */
export function matchPercent(pattern: string, name: string): boolean {
  return pattern.includes('%') ? percentToRegExp(pattern).test(name) : pattern === name;
}

/** matchPercent with the pattern compiled once, for a list of names; undefined matches all. */
export function percentMatcher(pattern: string | undefined): (name: string) => boolean {
  if (pattern === undefined) return () => true;
  if (!pattern.includes('%')) return (name) => name === pattern;
  const re = percentToRegExp(pattern);
  return (name) => re.test(name);
}

interface Element {
  test: RegExp;
  /** null: the element names a whole test (all its items) */
  item: RegExp | null;
}

/** A parsed test pattern. */
export interface TestPattern {
  readonly source: string;
  /** True when the test (its toplevel row) is selected. */
  matchTest(testname: string): boolean;
  /** True when the test or item is selected; itempath '' is the toplevel row. */
  matchItem(testname: string, itempath: string): boolean;
}

/** Parses `smoke%,unit/a%,~slow%`; an empty pattern selects everything. */
export function parseTestPattern(source: string, where = '-p'): TestPattern {
  const positives: Element[] = [];
  const negatives: Element[] = [];
  for (const raw of source.split(',')) {
    let text = raw.trim();
    if (text === '') continue;
    const negate = text.startsWith('~');
    if (negate) text = text.slice(1).trim();
    if (text === '') {
      throw new TrellisError(
        'BAD_PATTERN',
        `${where}: '~' must be followed by a test name in pattern '${source}'`,
        "write e.g. '%,~slow%'",
      );
    }
    const slash = text.indexOf('/');
    const element: Element =
      slash < 0
        ? { test: percentToRegExp(text), item: null }
        : { test: percentToRegExp(text.slice(0, slash)), item: percentToRegExp(text.slice(slash + 1)) };
    (negate ? negatives : positives).push(element);
  }
  const includesTest = (name: string) => positives.length === 0 || positives.some((e) => e.test.test(name));
  return {
    source,
    matchTest(testname) {
      if (!includesTest(testname)) return false;
      return !negatives.some((e) => e.item === null && e.test.test(testname));
    },
    matchItem(testname, itempath) {
      if (itempath === '') return this.matchTest(testname);
      const hit = (e: Element) => e.test.test(testname) && (e.item === null || e.item.test(itempath));
      const included = positives.length === 0 || positives.some(hit);
      return included && !negatives.some(hit);
    },
  };
}
