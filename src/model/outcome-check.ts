/**
 * The rules of `trellis check` (docs/monitoring.md): a test needs attention when its last success
 * is older than the maximum age (stale), when it never succeeded (never), or when its latest run
 * took far longer than its recent successes (slow).
 */
import type { OutcomeSummary } from './records.js';
import { displayName } from './display-name.js';

export interface CheckRules {
  /** seconds since the epoch */
  now: number;
  /** seconds: the last success must have ended this recently */
  maxAge: number;
  /** slow: the latest duration is over this many times the mean (0: never slow) */
  slowFactor: number;
  /** seconds: and at least this much over the mean, so a 2 s job taking 5 s is not "slow" */
  slowMin: number;
}

/** Successes a mean must be made of before a duration can be called slow: one is too noisy. */
export const MIN_BASELINE = 2;
/** Defaults of `trellis check`. */
export const DEFAULT_SLOW_FACTOR = 2;
export const DEFAULT_SLOW_MIN = 30;

export type ProblemKind = 'stale' | 'never' | 'slow';

/** One thing `trellis check` reports. `summary` is null for a name given in -p with nothing recorded. */
export interface CheckProblem {
  kind: ProblemKind;
  target: string;
  testname: string;
  itempath: string;
  summary: OutcomeSummary | null;
  /** stale: seconds since the last success ended */
  age: number | null;
}

/** When an outcome ended (or, still running or never started, when it happened). */
export function endedAt(o: { end: number | null; time: number }): number {
  return o.end ?? o.time;
}

/**
 * The problems among the summaries, in their order (a test may be both stale and slow), then a
 * `never` for each name in `expected` (exact names from -p) that has nothing recorded at all.
 */
export function findProblems(summaries: readonly OutcomeSummary[], rules: CheckRules, expected: readonly string[] = []): CheckProblem[] {
  const out: CheckProblem[] = [];
  for (const s of summaries) {
    const key = { target: s.target, testname: s.testname, itempath: s.itempath, summary: s };
    if (s.lastSuccess === null) out.push({ kind: 'never', ...key, age: null });
    else {
      const age = rules.now - endedAt(s.lastSuccess);
      if (age > rules.maxAge) out.push({ kind: 'stale', ...key, age });
    }
    if (isSlow(s, rules)) out.push({ kind: 'slow', ...key, age: null });
  }
  const seen = new Set(summaries.map((s) => displayName(s)));
  for (const name of expected) {
    if (seen.has(name)) continue;
    const [testname = name, itempath = ''] = name.split(/\/(.*)/s);
    out.push({ kind: 'never', target: '', testname, itempath, summary: null, age: null });
  }
  return out;
}

/** True when the latest duration is over `slowFactor` × the mean and `slowMin` above it. */
export function isSlow(s: OutcomeSummary, rules: CheckRules): boolean {
  const d = s.latest.duration;
  if (rules.slowFactor <= 0 || d === null || s.meanDuration === null || s.baselineCount < MIN_BASELINE) return false;
  return d > rules.slowFactor * s.meanDuration && d - s.meanDuration >= rules.slowMin;
}

/** The exact names (no `%`, not negated) of a test pattern: they must have something recorded. */
export function listExactNames(pattern: string | undefined): string[] {
  if (pattern === undefined) return [];
  return pattern
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '' && !e.startsWith('~') && !e.includes('%'));
}

export { checkJobName } from './names.js';
