/**
 * What a person can do to tests from a front end (the terminal dashboard, the web view): rerun,
 * kill, set state and status, start a run. The CLI wires these to the same code as the commands,
 * so locks, the events log and the change feed apply alike; the front ends only call them.
 */
import type { RunRecord } from '../model/records.js';

/** A test or item of one run: what actions and detail views are about. */
export interface CellRef {
  runId: number;
  testname: string;
  /** '' for the test itself */
  itempath: string;
}

/**
 * A `trellis run` to start, detached, on this host. Every word comes from the area (targets,
 * launchers) or is checked by the caller (run name, test pattern): none is a shell line.
 */
export interface RunStart {
  target: string;
  runname: string;
  /** '' for the area's default (runconfigs TESTPATT, else every test) */
  pattern: string;
  /** launcher words from the area's config; undefined for the area's default */
  launcher?: string;
  /** --rerun-all: run the selected tests again even when they ended */
  rerunAll?: boolean;
  /** the run parameters the area declares in [params]: NAME → value (`--param`) */
  params?: Readonly<Record<string, string>>;
}

/** Who signs off, and what with: everything optional. */
export interface SignOffBy {
  /** the person recorded in the run's events (`user@host` when not given) */
  who?: string;
  /**
   * the name checked against `[setup] approvers`: the web view passes its session's user (the
   * name an invitation was made for, or the login name of whoever started `trellis web`); the
   * login name of this process when not given, as for `trellis approve`
   */
  user?: string;
  /** stored as given (control characters too); shown escaped */
  comment?: string;
  /** the step that waits, as the person saw it: a test that moved on to another step refuses (NO_STEP); '' or absent for whichever */
  step?: string;
}

/**
 * Each action returns the line to show. `who` is the person recorded in the run's events
 * (`user@host` when not given); `notify` hears later news of a started run (its end).
 */
export interface TestActions {
  rerun(ref: CellRef, run: RunRecord, notify: (message: string) => void, who?: string): Promise<string>;
  kill(ref: CellRef, run: RunRecord, who?: string): Promise<string>;
  /** `text` as typed: STATE,STATUS with either part empty */
  setStateStatus(ref: CellRef, run: RunRecord, text: string, who?: string): Promise<string>;
  startRun(start: RunStart, notify: (message: string) => void, who?: string): Promise<string>;
  /** signs off (approve) or rejects the manual step the test waits at, as `trellis approve` does */
  signOff(ref: CellRef, run: RunRecord, verdict: 'approve' | 'reject', by?: SignOffBy): Promise<string>;
}
