/**
 * Judging a recorded value against what was expected, one rule for `trellis set-value`, Megatest's
 * `-set-values` and `-load-test-data` (db:csv->test-data), and the value rules of a step's log: a
 * numeric tolerance (`|value - expected| <= tol`, `10%` of expected), or a comparator (`value OP
 * expected` for `>`, `<`, `>=`, `<=`). Without an expected value a value is information (n/a).
 */

/** Comparators a tolerance may be instead of a number. */
export const VALUE_COMPARATORS = ['>', '<', '>=', '<='] as const;
export type ValueComparator = (typeof VALUE_COMPARATORS)[number];

/** True when `tol` is one of the comparators. */
export function isValueComparator(tol: string): tol is ValueComparator {
  return (VALUE_COMPARATORS as readonly string[]).includes(tol);
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** A decimal number as Scheme's string->number reads one (`1.2`, `-3`, `1e9`), else undefined. */
export function parseDecimal(text: string): number | undefined {
  const t = text.trim();
  return NUMBER.test(t) ? Number(t) : undefined;
}

/** The outcome of judging one value: PASS, FAIL or n/a, or what is wrong with the tolerance. */
export interface ValueJudgement {
  status: 'PASS' | 'FAIL' | 'n/a';
  problem?: string;
}

/**
 * Judges `value` against `expected` with `tol` (a number, `N%`, or a comparator; none means equal).
 * Numbers are compared as numbers; when either side is not a number the value passes only when it
 * is the same text (no tolerance applies).
 */
export function judgeValue(value: string, expected?: string | null, tol?: string | null): ValueJudgement {
  if (expected === undefined || expected === null || expected.trim() === '') return { status: 'n/a' };
  const v = parseDecimal(value);
  const e = parseDecimal(expected);
  const t = tol?.trim() ?? '';
  if (isValueComparator(t)) {
    if (v === undefined || e === undefined) return { status: 'FAIL' };
    return { status: compareValues(v, t, e) ? 'PASS' : 'FAIL' };
  }
  if (v === undefined || e === undefined) return { status: value.trim() === expected.trim() ? 'PASS' : 'FAIL' };
  let limit = 0;
  if (t !== '') {
    const relative = t.endsWith('%');
    const n = parseDecimal(relative ? t.slice(0, -1) : t);
    if (n === undefined || n < 0) {
      return { status: 'FAIL', problem: `tolerance '${t}' is not a number, a percentage or one of ${VALUE_COMPARATORS.join(' ')}` };
    }
    limit = relative ? (Math.abs(e) * n) / 100 : n;
  }
  // As Megatest: within [expected - tol, expected + tol], bounds computed first.
  return { status: v >= e - limit && v <= e + limit ? 'PASS' : 'FAIL' };
}

/** `a OP b`. */
export function compareValues(a: number, op: ValueComparator, b: number): boolean {
  switch (op) {
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

/** How an expectation reads for people: `1.9 +/- 0.1`, `> 1.8`, `12`. */
export function describeExpectation(expected: string | null, tol: string | null): string {
  if (expected === null || expected === '') return '-';
  if (tol === null || tol === '') return expected;
  return isValueComparator(tol.trim()) ? `${tol.trim()} ${expected}` : `${expected} +/- ${tol}`;
}
