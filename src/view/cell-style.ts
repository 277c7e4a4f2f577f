/**
 * How a test's state and status look in a matrix cell: a short word that reads without colour
 * (NO_COLOR, 16-colour terminals, screen readers of captured text) and a colour class on top.
 */
import { statusRank } from '../model/states.js';

/** Colour classes; the widgets map each to terminal colours (or to nothing under NO_COLOR). */
export type Tone = 'pass' | 'fail' | 'warn' | 'waived' | 'skip' | 'running' | 'launched' | 'killed' | 'idle' | 'never' | 'other';

export interface CellLook {
  /** at most CELL_TEXT characters */
  text: string;
  tone: Tone;
}

/** Widest cell text. */
export const CELL_TEXT = 6;

const STATUS_LOOK: Record<string, CellLook> = {
  PASS: { text: 'PASS', tone: 'pass' },
  WARN: { text: 'WARN', tone: 'warn' },
  WAIVED: { text: 'WAIVED', tone: 'waived' },
  SKIP: { text: 'SKIP', tone: 'skip' },
  CHECK: { text: 'CHECK', tone: 'warn' },
  FAIL: { text: 'FAIL', tone: 'fail' },
  ABORT: { text: 'ABORT', tone: 'fail' },
  TIMED_OUT: { text: 'TMOUT', tone: 'fail' },
  DEAD: { text: 'DEAD', tone: 'killed' },
  PREQ_FAIL: { text: 'PREQ', tone: 'never' },
  ZERO_ITEMS: { text: 'ZERO', tone: 'never' },
};

/** The look of a cell; `undefined` state means the run has no such test. */
export function lookOf(state: string, status: string): CellLook {
  switch (state) {
    case 'NOT_STARTED':
      return STATUS_LOOK[status]?.tone === 'never' ? STATUS_LOOK[status]! : { text: 'wait', tone: 'idle' };
    case 'LAUNCHED':
      return { text: 'LAUNCH', tone: 'launched' };
    case 'RUNNING':
      // Items roll up while running: a failure already seen shows as RUN! so it reads without colour.
      return statusRank(status) > statusRank('n/a') ? { text: 'RUN!', tone: 'fail' } : { text: 'RUN', tone: 'running' };
    case 'KILLREQ':
      return { text: 'KILLRQ', tone: 'killed' };
    case 'WAITING':
      // Parked on a manual step: SIGN while its sign-off is due, OK>> once approved.
      return status === 'MANUAL' ? { text: 'SIGN', tone: 'launched' } : { text: 'OK>>', tone: 'launched' };
    case 'KILLED':
      // Killed by its runtime limit reads as such.
      return status === 'TIMED_OUT' ? STATUS_LOOK['TIMED_OUT']! : { text: 'KILLED', tone: 'killed' };
    case 'INCOMPLETE':
      return status === 'DEAD' ? STATUS_LOOK['DEAD']! : { text: 'INCOMP', tone: 'killed' };
    case 'DELETED':
      return { text: 'DEL', tone: 'idle' };
    case 'ARCHIVED':
      return { text: 'ARCH', tone: 'idle' };
    default:
      if (status === 'n/a') return { text: 'done', tone: 'idle' };
      // A user's own status: its first letters, ranked as unknown (bad).
      return STATUS_LOOK[status] ?? { text: status.slice(0, CELL_TEXT), tone: 'other' };
  }
}

/** What the legend explains, in the order it shows. */
export const LEGEND: readonly { text: string; tone: Tone; meaning: string }[] = [
  { text: 'PASS', tone: 'pass', meaning: 'passed' },
  { text: 'FAIL', tone: 'fail', meaning: 'failed (also ABORT, TMOUT = timed out)' },
  { text: 'WARN', tone: 'warn', meaning: 'warning (also CHECK)' },
  { text: 'WAIVED', tone: 'waived', meaning: 'waived' },
  { text: 'SKIP', tone: 'skip', meaning: 'skipped' },
  { text: 'RUN', tone: 'running', meaning: 'running (RUN! = a failure already seen)' },
  { text: 'LAUNCH', tone: 'launched', meaning: 'launched, not yet running' },
  { text: 'SIGN', tone: 'launched', meaning: 'waits for a sign-off: A approves, X rejects (OK>> = approved, goes on)' },
  { text: 'KILLED', tone: 'killed', meaning: 'killed (KILLRQ = kill asked, INCOMP, DEAD = runner died)' },
  { text: 'PREQ', tone: 'never', meaning: 'never ran: a prerequisite failed (ZERO = no items)' },
  { text: 'wait', tone: 'idle', meaning: 'not started yet (done = ended without status)' },
  { text: '.', tone: 'idle', meaning: 'not in this run' },
];
