/**
 * The records that cross the store interface, shared by the direct store, the runner, the CLI and
 * (later) the HTTP protocol. Plain JSON-able data: numbers for times (seconds since the epoch).
 */
import type { RunState, TestState } from './states.js';

/** One run: a (target, run name) pair. */
export interface RunRecord {
  id: number;
  /** key values joined by `/`, e.g. `linux/x86_64` */
  target: string;
  /** key name → value, in `[fields]` order */
  keys: Record<string, string>;
  runname: string;
  state: RunState;
  /** rolled up from the run's tests: the worst status, `n/a` while nothing has ended */
  status: string;
  /** status → count over the run's tests (items counted through their test) */
  counts: Record<string, number>;
  /** number of tests (toplevel rows) */
  total: number;
  created: number;
  started: number | null;
  ended: number | null;
  updated: number;
  /** who locked it and when, while state is `locked` */
  lockedBy: string | null;
  lockedAt: number | null;
  /** the run parameters ([params]) its last `trellis run` was given, defaults filled in: NAME → value */
  params: Record<string, string>;
  /** when `trellis close` closed it (it is then also locked); absent while it is open */
  closedAt?: number;
}

/**
 * One result appended to a run from outside the area (`trellis result`, the API's appendResult):
 * a script of the daily build, not a test of the area. Sending the same one again changes nothing.
 */
export interface ExternalResult {
  testname: string;
  /** '' for a row without items */
  itempath: string;
  /** COMPLETED unless said (RUNNING: it has begun and will be appended to again) */
  state: 'RUNNING' | 'COMPLETED' | 'KILLED' | 'INCOMPLETE';
  status: string;
  /** seconds since the epoch; null: when it was appended */
  start: number | null;
  end: number | null;
  host: string;
  comment: string;
  /** values as `trellis set-value` records them without an expected value: information */
  values: Array<{ name: string; value: string }>;
  /** the text of its log, kept in the row's work folder as `result.log` and shown by show and the web view */
  log?: string;
  /** the name is a test of the area (the CLI knows): a row made for it is not marked external */
  areaTest?: boolean;
}

/** What a runner registers before launching anything. */
export interface TestRegistration {
  testname: string;
  /** '' for the test itself; item values joined by `/` for an item */
  itempath: string;
  priority: number;
  rundir: string;
  /** item variable → value (empty for a toplevel test) */
  itemVars?: Record<string, string>;
  owner?: string;
  description?: string;
  tags?: string;
  /** a row appended from outside the area (`trellis result`): made so only when it is created */
  external?: boolean;
}

/** One test or item row. */
export interface TestRecord {
  id: number;
  runId: number;
  testname: string;
  itempath: string;
  state: TestState;
  status: string;
  comment: string;
  host: string;
  pid: number | null;
  rundir: string;
  priority: number;
  start: number | null;
  end: number | null;
  /** seconds, null until ended */
  duration: number | null;
  /** agent (runner or exec process) that owns it while active */
  agentId: number | null;
  /** how it was started: `local`, `slurm`, `ssh`, `command` ('' before its first launch) */
  launcher: string;
  /** the launcher's id of the job: a Slurm job id, the ssh host, a command's pid ('' when none) */
  jobId: string;
  /** names one launch: `trellis exec` runs a job spec only while the row carries its launch id */
  launchId: string;
  itemVars: Record<string, string>;
  owner: string;
  description: string;
  tags: string;
  updated: number;
  /** true for a row appended from outside the area (`trellis result`); absent otherwise */
  external?: boolean;
}

export interface StepRecord {
  testId: number;
  name: string;
  /** order within the test, from 1 */
  seq: number;
  /** WAITING: a manual step whose sign-off is due (status MANUAL, its prompt as comment) */
  state: 'RUNNING' | 'COMPLETED' | 'KILLED' | 'WAITING';
  status: string;
  exitCode: number | null;
  start: number;
  end: number | null;
  logfile: string;
  comment: string;
  /** the step's process group (its shell's pid) while it may run; null when not recorded */
  pid: number | null;
  /** that process's start time (/proc), so a reused pid is never taken for the step */
  procStart: number | null;
}

export interface DataRecord {
  testId: number;
  name: string;
  value: string;
  expected: string | null;
  tol: string | null;
  units: string | null;
  status: string;
  comment: string;
  time: number;
}

/**
 * What one log rule found in one step's log (docs/log-rules.md): plain data, stored per step and
 * replaced each time the step's log is judged.
 */
export interface RuleSummary {
  /** logpro's rule number (`rule-N`) */
  num: number;
  /** error, warning, required, required-warn, ignore, note, waive, check, abort, skip, value */
  kind: string;
  description: string;
  /** a count rule's comparator (`=`, `>`, …); a value rule's `+/-` or its comparator */
  comparator: string;
  /** a count rule's expected count; a value rule's expected value (`1.9 +/- 0.1`, `3`) */
  expected: string;
  /** lines the rule took */
  count: number;
  /** the rule was met */
  ok: boolean;
  /** the status it gives the step: PASS when met (or an ignore/note rule), else by its kind */
  status: string;
  /** the first lines it took (at most 5, each cut at 240 characters) */
  lines: Array<{ line: number; text: string }>;
  /** value rules: the last value measured (null when none), and how many passed and failed */
  measured: string | null;
  pass: number;
  fail: number;
  /** past its expires: date, so not applied */
  expired: boolean;
}

/** A rule's summary as stored with its test and step. */
export interface StepRuleRecord extends RuleSummary {
  testId: number;
  step: string;
}

/** A test with everything recorded about it. */
export interface TestDetail extends TestRecord {
  steps: StepRecord[];
  data: DataRecord[];
  /** what the log rules found in each judged step's log, by step then rule number */
  rules: StepRuleRecord[];
}

/** A process that runs tests and keeps a heartbeat: a runner, or `trellis exec` on a remote host. */
export interface AgentRecord {
  id: number;
  kind: 'runner' | 'exec' | 'helper';
  host: string;
  pid: number;
  /** process start time from /proc, to tell a reused pid apart; null when unknown */
  procStart: number | null;
  started: number;
  heartbeat: number;
  ended: number | null;
}

/** Fields a write may set on a test row. */
export interface TestFields {
  state?: TestState;
  status?: string;
  comment?: string;
  host?: string;
  pid?: number | null;
  start?: number | null;
  end?: number | null;
  agentId?: number | null;
  rundir?: string;
  launcher?: string;
  jobId?: string;
  launchId?: string;
}

/**
 * One write. Every write carries an `opId` so that a retried batch is applied exactly once.
 * `testId` names the row; the store rolls items up into their test and the run up into main.db.
 */
export type WriteOp =
  | {
      kind: 'test';
      opId: string;
      testId: number;
      set: TestFields;
      time: number;
      /** applied only while the row is in this state (a Slurm job seen running must not undo a kill request) */
      ifState?: TestState;
    }
  | {
      kind: 'step';
      opId: string;
      testId: number;
      name: string;
      state: StepRecord['state'];
      status: string;
      exitCode?: number | null;
      logfile?: string;
      comment?: string;
      /** the step's process group and its start time, when it starts */
      pid?: number | null;
      procStart?: number | null;
      time: number;
    }
  | {
      kind: 'data';
      opId: string;
      testId: number;
      name: string;
      value: string;
      expected?: string | null;
      tol?: string | null;
      units?: string | null;
      status: string;
      comment?: string;
      time: number;
    }
  /** Replaces what the log rules found in one step's log (its summary). */
  | { kind: 'rules'; opId: string; testId: number; step: string; rules: RuleSummary[]; time: number }
  /** Resets a test for a rerun: NOT_STARTED, n/a, no steps, no data, no rule summaries, no times. */
  | { kind: 'reset'; opId: string; testId: number; time: number }
  /**
   * Resets a test for a resume (`trellis run --resume`): as `reset`, but the steps recorded before
   * `fromStep` (and the test's data) stay; the run's log says which were kept.
   */
  | { kind: 'resume'; opId: string; testId: number; fromStep: string; time: number }
  /**
   * A sign-off (`trellis approve`): the test's waiting manual step passes (`approve`) or fails
   * (`reject`, which ends the test COMPLETED/FAIL). Refused (NOT_WAITING, NO_STEP) unless the test
   * waits, at `step` when it is not ''. Who and when go to the run's log.
   */
  | { kind: 'approve'; opId: string; testId: number; step: string; verdict: 'approve' | 'reject'; comment: string; time: number };

/** Options that go with a batch of writes. */
export interface WriteOptions {
  /** write even though the run is locked; recorded in the run's events with the user */
  force?: boolean;
  /** who asks, for the events log (user@host) */
  who?: string;
  /**
   * The user proven to ask (model/access.ts): set by the server from the request's signature, or
   * by the direct store; never taken from a client (the API refuses it)
   */
  user?: string;
  /**
   * The exec agent writing its job's results: ops on a row it no longer owns (its job was requeued
   * to another agent) are dropped
   */
  asAgent?: number;
}

/** Filters for listing tests. */
export interface TestQuery {
  /** design §6 test pattern: `%` wildcards, comma-separated, `test/itempath`, `~` negation */
  pattern?: string;
  state?: string[];
  status?: string[];
  /** only toplevel rows (itempath '') */
  toplevelOnly?: boolean;
  /** only these rows (by id) */
  ids?: number[];
}

/**
 * The runs as `trellis list runs` shows them, column by column: entry i of each list is the i-th
 * run, newest first. Over 10,000 runs a list of RunRecords was 2.7 MB of JSON, with three JSON
 * columns parsed per run in the server; as columns it is 0.9 MB, and a client parsing it makes ten
 * arrays (the times in them unboxed) where rows made an array and two or three numbers per run.
 */
export interface RunColumns {
  id: number[];
  target: string[];
  runname: string[];
  state: RunState[];
  status: string[];
  total: number[];
  created: number[];
  updated: number[];
  /** null while the run is open */
  closedAt: Array<number | null>;
  counts: Array<Record<string, number>>;
}

export interface RunQuery {
  /** run name pattern with `%` wildcards */
  runname?: string;
  /** target pattern with `%` wildcards */
  target?: string;
}

/** One change in a run, for the change feed and the forced-write log. */
export interface EventRecord {
  seq: number;
  time: number;
  testId: number | null;
  kind: string;
  detail: string;
  who: string;
}

/** One cell of the dashboard matrix: a test or item row with its outcome, nothing more. */
export interface CellRecord {
  id: number;
  testname: string;
  /** '' for the test itself */
  itempath: string;
  state: TestState;
  status: string;
}

/**
 * Where a reader of the change feed is: main.db's change number for the runs index, and the last
 * event seq seen of each run whose cells it follows.
 */
export interface FeedCursor {
  /** runs created or changed after this change number; 0 gives every run */
  runsSeq: number;
  /** run id → last event seq seen; 0 gives the run's whole set of cells */
  runs: Record<string, number>;
  /** the shared resources' claims change number last seen; absent: resources are not followed */
  resourcesSeq?: number;
  /** the agent pool's change number last seen (jobs queued, taken, ended; agents joining or leaving); absent: not followed */
  poolSeq?: number;
  /** true: changed cells that ended come with their whole rows too (RunCellChanges.ended) */
  endedRows?: boolean;
}

/** What changed in one followed run. */
export interface RunCellChanges {
  runId: number;
  /** the event seq these changes reach (the run's next cursor) */
  seq: number;
  /** true when `cells` is every row of the run (cursor 0, or too far behind): replace, don't merge */
  full: boolean;
  /** rows added or changed since the cursor */
  cells: CellRecord[];
  /** ids of rows removed since the cursor */
  removed: number[];
  /**
   * With a cursor that asks (`endedRows`) and when not `full`: the whole rows of `cells` that are
   * in a final state or WAITING, read with them (a runner learns how its remote jobs ended
   * without reading their rows back)
   */
  ended?: TestRecord[];
}

/** One answer of the change feed: empty lists (and an unchanged cursor) when nothing changed. */
export interface FeedBatch {
  cursor: FeedCursor;
  /** runs created or changed since `runsSeq`, newest first (every run when it was 0) */
  runs: RunRecord[];
  /** ids of runs removed since `runsSeq` (followed runs that are gone are listed here too) */
  removedRuns: number[];
  /** one entry per followed run that changed */
  cells: RunCellChanges[];
  /** following resources: true when a share was taken or given back, or a wait began or ended, since the cursor */
  resourcesChanged?: boolean;
  /** following the pool: true when a job was queued, taken or ended, or an agent joined, drained or left */
  poolChanged?: boolean;
}

/** Where an outcome in the history index came from: a test of a run, `trellis wrap` or `trellis record`. */
export type OutcomeKind = 'run' | 'wrap' | 'record';

/**
 * One entry of the history index (main.db `outcomes`): a test or item of a run in a final state,
 * or a job recorded by wrap/record (no run; `runname` '' and `target` '' unless one was given).
 */
export interface OutcomeRecord {
  kind: OutcomeKind;
  runId: number | null;
  target: string;
  runname: string;
  testname: string;
  /** '' for a test itself (or a job name without '/') */
  itempath: string;
  state: string;
  status: string;
  /** COMPLETED with PASS, WARN, WAIVED or SKIP */
  success: boolean;
  host: string;
  start: number | null;
  end: number | null;
  duration: number | null;
  comment: string;
  /** when it happened, the history order: the start, else the end, else when it was recorded */
  time: number;
}

/** Which outcomes `Store.history` returns: one test or item, newest first. */
export interface HistoryQuery {
  testname: string;
  /** '' (the default) for the test itself */
  itempath?: string;
  /** target pattern with `%` wildcards */
  target?: string;
  /** only successes (for last-success) */
  successOnly?: boolean;
  /** at most this many (default 20) */
  limit?: number;
}

/** Which tests `Store.historySummary` summarizes. */
export interface OutcomeSummaryQuery {
  /** test pattern (design §6); items of run tests only when an element names items (`unit/%`) */
  pattern?: string;
  /** target pattern with `%` wildcards */
  target?: string;
  /** how many successes before the latest outcome make the mean duration (default 5) */
  baseline?: number;
}

/** What `trellis check` needs to know of one test (or job) on one target. */
export interface OutcomeSummary {
  target: string;
  testname: string;
  itempath: string;
  /** outcomes recorded */
  count: number;
  latest: OutcomeRecord;
  lastSuccess: OutcomeRecord | null;
  /** mean duration of up to `baseline` successes before the latest outcome; null without any */
  meanDuration: number | null;
  /** how many successes the mean is made of */
  baselineCount: number;
}

/** A job recorded by `trellis wrap` (at its start, then at its end) or `trellis record`. */
export interface OutcomeJob {
  /** the caller's id for the job: a second call with it (the end, or a retry) updates the same row */
  key: string;
  kind: 'wrap' | 'record';
  testname: string;
  itempath?: string;
  /** a label for grouping ('' when none) */
  target?: string;
  host: string;
  state: 'RUNNING' | 'COMPLETED' | 'KILLED';
  status: string;
  start: number;
  end: number | null;
  comment?: string;
}
