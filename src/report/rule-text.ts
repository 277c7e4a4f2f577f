/** The per-rule table of `trellis show`. Data in, text out. */
import type { StepRuleRecord } from '../model/records.js';
import { ruleExpectation, ruleFinding } from '../model/rule-text.js';
import { termLine, termLog } from '../util/terminal-text.js';
import { formatTable } from './table.js';

/**
 * The rules of every judged step as a table (STEP RULE KIND EXPECTED FOUND STATUS DESCRIPTION),
 * then the first lines each rule that was not met took: stored text, escaped for a terminal (the
 * log's lines without their colour codes, as `show` prints a log's tail).
 */
export function formatRuleTable(rules: readonly StepRuleRecord[]): string[] {
  const rows = rules.map((r) => [
    r.step,
    `rule-${r.num}`,
    r.kind,
    ruleExpectation(r),
    ruleFinding(r),
    r.expired ? 'expired' : r.status,
    r.description,
  ]);
  const out = [formatTable(['STEP', 'RULE', 'KIND', 'EXPECTED', 'FOUND', 'STATUS', 'DESCRIPTION'], rows)];
  for (const r of rules) {
    if (r.ok || r.expired || r.lines.length === 0) continue;
    out.push(termLine(`${r.step} rule-${r.num} ${JSON.stringify(r.description)}, first lines it took:`));
    for (const l of r.lines) out.push(`  ${l.line}: ${termLine(termLog(l.text))}`);
  }
  return out;
}
