/**
 * A run's summary in main.db, recomputed from its toplevel tests: status counts, the worst
 * status, and the run state (new → running → done; `locked` is only ever set by a user).
 */
import type { RunSummary } from '../db/main-db.js';
import type { StateCount, TestRows } from '../db/test-rows.js';
import type { RunRecord } from '../model/records.js';
import { ACTIVE_STATES, isFinal, worstStatus, type RunState } from '../model/states.js';

/** What besides its toplevel groups decides a run's state. */
export interface RunActivity {
  /** a runner holds the run (an open runner agent) */
  runnerActive: boolean;
  /**
   * a test without items or an item is LAUNCHED, RUNNING or KILLREQ (a test with items shows
   * RUNNING while some have ended and others wait, even after its runner is gone)
   */
  leafActive: boolean;
}

/** Derives the run's state from its toplevel groups and activity: docs/runs.md has the table. */
export function deriveRunState(groups: readonly StateCount[], activity: RunActivity): RunState {
  if (groups.length === 0) return 'new';
  if (activity.leafActive) return 'running';
  if (groups.every((g) => isFinal(g.state, g.status))) return 'done';
  const progressed = groups.some((g) => g.state !== 'NOT_STARTED' || isFinal(g.state, g.status));
  if (!progressed) return 'new';
  // Between launches (some ended, others still waiting) the run is running while its runner is;
  // a runner gone (Ctrl-C, kill -9 and reaped) leaves it done, its queued tests never run.
  return activity.runnerActive ? 'running' : 'done';
}

/** True when a test without items, or an item, is active (read only when a toplevel row is). */
function isLeafActive(tests: TestRows, groups: readonly StateCount[]): boolean {
  if (!groups.some((g) => ACTIVE_STATES.has(g.state))) return false;
  return tests.hasActiveLeaf();
}

/** The run's state from its tests as they are (cheap: counts kept by triggers, active rows). */
export function readRunState(tests: TestRows, runnerActive: boolean): RunState {
  const groups = tests.countToplevel();
  return deriveRunState(groups, { runnerActive, leafActive: isLeafActive(tests, groups) });
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
  const state = deriveRunState(groups, { runnerActive, leafActive: isLeafActive(tests, groups) });
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
