/**
 * The four filters every view of the matrix takes (test pattern, target, run name, status), and
 * which runs the target and run name filters keep. Pure.
 */
import type { RunRecord } from '../model/records.js';
import { matchPercent } from '../model/pattern.js';

export interface Filters {
  /** test pattern (design §6) */
  pattern: string;
  /** target pattern(s) with `%`, comma list */
  target: string;
  /** run name pattern(s) with `%`, comma list */
  runname: string;
  /** states, statuses or cell words, comma list */
  status: string;
}

/** True when `value` matches one of the comma-separated `%` patterns (or there are none). */
export function matchList(patterns: string, value: string): boolean {
  const list = patterns
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return list.length === 0 || list.some((p) => matchPercent(p, value));
}

/** The runs the target and run name filters keep, in the order given. */
export function filterRuns(runs: RunRecord[], f: Pick<Filters, 'target' | 'runname'>): RunRecord[] {
  return f.target || f.runname ? runs.filter((r) => matchList(f.target, r.target) && matchList(f.runname, r.runname)) : runs;
}
