/**
 * A judgement as plain data for the store: one RuleSummary per rule (no RegExps), and the value
 * rules as the test's values, as Megatest's launch:load-logpro-dat loads the `.dat` (category: the
 * step, one row per value rule, with its measurement, expectation and OK/FAIL).
 */
import type { RuleSummary } from '../model/records.js';
import type { LogJudgement, RuleResult } from './matcher.js';

/** The summary of each rule of a judgement, in rule order. */
export function summarizeRules(j: LogJudgement): RuleSummary[] {
  return j.rules.map(summarizeRule);
}

function summarizeRule(r: RuleResult): RuleSummary {
  const rule = r.rule;
  const value = rule.value;
  const comparator = value ? (typeof value.tolerance === 'number' ? '+/-' : value.tolerance) : rule.comparator;
  const expected = value
    ? typeof value.tolerance === 'number'
      ? `${value.expected} +/- ${value.tolerance}`
      : String(value.expected)
    : String(rule.expected);
  return {
    num: rule.num,
    kind: rule.kind,
    description: rule.description,
    comparator,
    expected,
    count: r.count,
    ok: r.ok,
    status: r.status,
    lines: r.lines.map((l) => ({ line: l.line, text: l.text })),
    measured: r.measured === undefined || r.measured === null ? null : String(r.measured),
    pass: r.pass ?? 0,
    fail: r.fail ?? 0,
    expired: r.expired,
  };
}

/** A value rule's result as a value of the test (what `trellis set-value` records). */
export interface RuleValue {
  name: string;
  value: string;
  expected: string;
  tol: string;
  status: 'PASS' | 'FAIL';
  comment: string;
}

/**
 * The value rules of a step's judgement as values named `STEP/DESCRIPTION` (`STEP/rule-N` when a
 * rule has no description of its own, or shares it with another), PASS when the rule was met.
 */
export function ruleValues(step: string, j: LogJudgement): RuleValue[] {
  const results = j.rules.filter((r) => r.rule.value && !r.expired);
  const seen = new Map<string, number>();
  for (const r of results) seen.set(r.rule.description, (seen.get(r.rule.description) ?? 0) + 1);
  return results.map((r) => {
    const v = r.rule.value!;
    const label = r.rule.description !== '' && seen.get(r.rule.description) === 1 ? r.rule.description : `rule-${r.rule.num}`;
    return {
      // A name is one printable line wherever it is shown.
      name: `${step}/${label}`.replace(/[\x00-\x1f\x7f-\x9f]/g, '?'),
      value: r.measured === undefined || r.measured === null ? '-' : String(r.measured),
      expected: String(v.expected),
      tol: String(v.tolerance),
      status: r.ok ? 'PASS' : 'FAIL',
      comment: `${r.pass ?? 0} measured in range, ${r.fail ?? 0} out of range (rule-${r.rule.num})`,
    };
  });
}
