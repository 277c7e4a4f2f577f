/** What every front end says about a run in its column header: how many tests are fine, and its tone. Pure. */
import type { RunRecord } from '../model/records.js';
import { isSuccess, statusRank } from '../model/states.js';
import type { Tone } from './cell-style.js';

/** Tests that passed, warned, were waived or skipped. */
export function okCount(run: Pick<RunRecord, 'counts'>): number {
  return Object.entries(run.counts).reduce((n, [s, c]) => (isSuccess(s) ? n + c : n), 0);
}

/** The tone of a run's `ok/tests`: fail when anything went wrong, pass when all is fine, else idle. */
export function countsTone(run: Pick<RunRecord, 'counts' | 'total'>): Tone {
  const bad = Object.entries(run.counts).some(([s, c]) => c > 0 && statusRank(s) > statusRank('n/a'));
  return bad ? 'fail' : run.total > 0 && okCount(run) === run.total ? 'pass' : 'idle';
}

/** Statuses with their counts, best first, `n/a` (not ended) last. */
export function orderedCounts(counts: Record<string, number>): [string, number][] {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => (a === 'n/a' ? 1 : b === 'n/a' ? -1 : statusRank(a) - statusRank(b) || a.localeCompare(b)));
}
