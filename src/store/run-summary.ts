/**
 * A run's summary in main.db, recomputed from its toplevel tests: status counts, the worst
 * status, and the run state (new → running → done; `locked` is only ever set by a user).
 */
import type { RunSummary } from '../db/main-db.js';
import type { StateCount, TestRows } from '../db/test-rows.js';
import type { RunRecord } from '../model/records.js';
import { ACTIVE_STATES, isFinal, worstStatus, type RunState } from '../model/states.js';

/**
 * Derives the run's state from its toplevel groups and whether a runner holds the run (an open
 * runner agent): docs/runs.md has the table.
 */
export function deriveRunState(groups: readonly StateCount[], runnerActive = false): RunState {
  if (groups.length === 0) return 'new';
  if (groups.some((g) => ACTIVE_STATES.has(g.state))) return 'running';
  if (groups.every((g) => isFinal(g.state, g.status))) return 'done';
  const progressed = groups.some((g) => g.state !== 'NOT_STARTED' || isFinal(g.state, g.status));
  if (!progressed) return 'new';
  // Between launches (some ended, others still waiting) the run is running while its runner is;
  // a runner gone (Ctrl-C, kill -9 and reaped) leaves it done, its queued tests never run.
  return runnerActive ? 'running' : 'done';
}

/** Recomputes the summary of `run` from its toplevel tests at time `now`. */
export function summarizeRun(tests: TestRows, run: RunRecord, now: number, runnerActive = false): RunSummary {
  const groups = tests.countToplevel();
  const counts: Record<string, number> = {};
  let total = 0;
  for (const g of groups) {
    counts[g.status] = (counts[g.status] ?? 0) + g.count;
    total += g.count;
  }
  const state = deriveRunState(groups, runnerActive);
  // Times need a scan of the tests: read them only when the run first starts or is done.
  const needTimes = (state !== 'new' && run.started === null) || state === 'done';
  const times = needTimes ? tests.readToplevelTimes() : { minStart: null, maxEnd: null };
  return {
    state,
    status: total === 0 ? 'n/a' : worstStatus(Object.keys(counts)),
    counts,
    total,
    // A rerun keeps the run's first start; a run that never started has none.
    started: state === 'new' ? null : (run.started ?? times.minStart ?? now),
    ended: state === 'done' ? (times.maxEnd ?? now) : null,
    updated: now,
  };
}
