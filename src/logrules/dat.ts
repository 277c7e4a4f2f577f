/**
 * The `.dat` file logpro writes beside its HTML report (STEP.html → STEP.dat), which Megatest
 * reads after each ezstep (launch:load-logpro-dat) and other tools read too. logpro writes one
 * `[rule-N]` section per value rule (its other rules never reach the file) and a `[final]`
 * section with the exit code, the exit status and one `message` line per rule that failed.
 */
import path from 'node:path';
import { writeFileAtomic } from '../util/files.js';
import type { LogJudgement, RuleResult } from './matcher.js';

/** logpro's words for its exit codes (4 is WAIVE there, WAIVED as a Trellis status). */
const EXIT_WORDS = ['PASS', 'FAIL', 'WARN', 'CHECK', 'WAIVE', 'ABORT', 'SKIP'] as const;

/** The text of the `.dat` file for a judgement. */
export function formatDat(j: LogJudgement): string {
  const out: string[] = [];
  for (const r of j.rules) if (r.rule.value && !r.expired) out.push(...valueSection(r), '');
  out.push('[final]', `exit-code ${j.exitCode}`, `exit-status ${EXIT_WORDS[j.exitCode] ?? 'FAIL'}`);
  for (const r of j.rules) if (!r.ok) out.push(`message ${oneLine(r.rule.description)}`);
  return `${out.join('\n')}\n`;
}

/** Where the `.dat` of a step's log goes: `STEP.log` → `STEP.dat`, beside it. */
export function datFileFor(logfile: string): string {
  const dir = path.dirname(logfile);
  const base = path.basename(logfile);
  return path.join(dir, `${base.endsWith('.log') ? base.slice(0, -4) : base}.dat`);
}

/** Writes the `.dat` beside `logfile` (atomically, so a reader never sees half of it); returns its path. */
export function writeDatFile(logfile: string, j: LogJudgement): string {
  const file = datFileFor(logfile);
  writeFileAtomic(file, formatDat(j), 0o644);
  return file;
}

function valueSection(r: RuleResult): string[] {
  const v = r.rule.value!;
  const lines = [
    `[rule-${r.rule.num}]`,
    `operator ${r.rule.where}`,
    `section ${oneLine(r.rule.sections[0] ?? '')}`,
    `desc ${oneLine(r.rule.description)}`,
    `status ${r.ok ? 'OK' : 'FAIL'}`,
    `expected ${v.expected}`,
    `measured ${r.measured === null || r.measured === undefined ? '-' : oneLine(String(r.measured))}`,
  ];
  if (typeof v.tolerance === 'number') lines.push('type +/-', `tolerance ${v.tolerance}`);
  else lines.push(`type ${v.tolerance}`);
  lines.push(`pass ${r.pass ?? 0}`, `fail ${r.fail ?? 0}`);
  return lines;
}

/** Config-file values are one line each. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
