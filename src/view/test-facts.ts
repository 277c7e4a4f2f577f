/** What every front end says about one test: which log matters, and how long things took. Pure. */
import type { StepRecord } from '../model/records.js';
import { statusRank } from '../model/states.js';

/** The step whose log a detail view follows: the running one, else the last failing one, else the last. */
export function pickLogStep(steps: readonly StepRecord[]): StepRecord | undefined {
  return (
    steps.find((s) => s.state === 'RUNNING') ??
    [...steps].reverse().find((s) => statusRank(s.status) > statusRank('n/a')) ??
    steps[steps.length - 1]
  );
}

/** Seconds as `4.2 s`, `3 m 05 s`, `1 h 02 m`. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '-';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} m ${String(Math.round(seconds % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m`;
}
