/**
 * What the log rules found, in words for people: which rules of a step were not met, what each
 * expected and found, and one line for the rules that decided a step's status (`show`, the
 * dashboard, the web view and the JUnit message all say it the same way). The caller escapes for
 * its medium.
 */
import type { StepRuleRecord } from './records.js';

/** The rules of `step` that were not met (expired rules never are), in rule order. */
export function failedRules(rules: readonly StepRuleRecord[], step: string): StepRuleRecord[] {
  return rules.filter((r) => r.step === step && !r.ok && !r.expired);
}

/** What was expected of a rule: `= 0`, `>= 1`, `1.9 +/- 0.1`, `< 3`. */
export function ruleExpectation(r: StepRuleRecord): string {
  if (r.kind !== 'value') return `${r.comparator} ${r.expected}`;
  return r.comparator === '+/-' ? r.expected : `${r.comparator} ${r.expected}`;
}

/** What a rule found: the count, or a value rule's last measurement and tallies. */
export function ruleFinding(r: StepRuleRecord): string {
  if (r.expired) return 'expired';
  if (r.kind !== 'value') return String(r.count);
  return `${r.measured ?? 'nothing'} (${r.pass} in range, ${r.fail} not)`;
}

/**
 * One line for the rules of a step that were not met: `"Any error" = 0 expected, found 3 (line 12:
 * error: x)`, two rules at most and a count of the others.
 */
export function describeFailedRules(failed: readonly StepRuleRecord[]): string {
  const parts = failed.slice(0, 2).map((r) => {
    const what = JSON.stringify(r.description || `rule-${r.num}`);
    if (r.kind === 'value') return `${what} measured ${ruleFinding(r)}, expected ${ruleExpectation(r)}`;
    const first = r.lines[0] ? ` (line ${r.lines[0].line}: ${r.lines[0].text})` : '';
    return `${what} ${ruleExpectation(r)} expected, found ${r.count}${first}`;
  });
  const more = failed.length > 2 ? `; and ${failed.length - 2} more rule${failed.length === 3 ? '' : 's'}` : '';
  return `${parts.join('; ')}${more}`;
}
