/**
 * States, statuses and the rules between them: exit codes to statuses, the total ranking used to
 * roll items up into their test, and which outcomes count as success.
 */
import { TrellisError } from '../util/errors.js';

export const TEST_STATES = [
  'NOT_STARTED',
  'LAUNCHED',
  'RUNNING',
  'COMPLETED',
  'KILLREQ',
  'KILLED',
  'INCOMPLETE',
  'WAITING',
  'DELETED',
  'ARCHIVED',
] as const;
export type TestState = (typeof TEST_STATES)[number];

/** Statuses Trellis itself assigns; users may set others, which rank as unknown (bad). */
export const KNOWN_STATUSES = [
  'n/a',
  'PASS',
  'WARN',
  'WAIVED',
  'SKIP',
  'CHECK',
  'FAIL',
  'ABORT',
  'PREQ_FAIL',
  'ZERO_ITEMS',
  'TIMED_OUT',
  'DEAD',
  'MANUAL',
] as const;
export type KnownStatus = (typeof KNOWN_STATUSES)[number];
/** A status is a string: Megatest users set their own, which rank as unknown. */
export type TestStatus = string;

export const RUN_STATES = ['new', 'running', 'done', 'locked'] as const;
export type RunState = (typeof RUN_STATES)[number];

/** Statuses with which a selected test counts as a success (exit code 0 of `trellis run`). */
export const SUCCESS_STATUSES: ReadonlySet<string> = new Set(['PASS', 'WARN', 'WAIVED', 'SKIP']);

/** States in which a test is doing or about to do work. */
export const ACTIVE_STATES: ReadonlySet<TestState> = new Set(['LAUNCHED', 'RUNNING', 'KILLREQ']);

/**
 * A test parked on a manual step (state WAITING): it holds no job slot and no runner; status MANUAL
 * while its sign-off is due, n/a once approved and waiting for a runner to go on with it.
 */
export const WAITING_STATE: TestState = 'WAITING';
/** The status of a test whose manual step waits for `trellis approve`. */
export const MANUAL_STATUS = 'MANUAL';

/** States after which nothing more happens to a test until it is rerun. */
export const FINAL_STATES: ReadonlySet<TestState> = new Set(['COMPLETED', 'KILLED', 'INCOMPLETE']);

/** Maps a step's exit code (or a signal) to a status, as design §6 says. */
export function statusFromExit(code: number | null, signal: string | null): KnownStatus {
  if (signal !== null || code === null) return 'FAIL';
  switch (code) {
    case 0:
      return 'PASS';
    case 1:
      return 'FAIL';
    case 2:
      return 'WARN';
    case 3:
      return 'CHECK';
    case 4:
      return 'WAIVED';
    case 5:
      return 'ABORT';
    case 6:
      return 'SKIP';
    default:
      return 'FAIL';
  }
}

/**
 * Total ranking, best first. Anything not listed (a user's own status) ranks between CHECK and the
 * never-ran reasons: unknown counts as bad, never as good.
 */
const STATUS_ORDER: readonly string[] = [
  'PASS',
  'WAIVED',
  'SKIP',
  'WARN',
  'CHECK',
  'n/a',
  'MANUAL',
  '\u0000unknown',
  'ZERO_ITEMS',
  'PREQ_FAIL',
  'TIMED_OUT',
  'DEAD',
  'FAIL',
  'ABORT',
];
const STATUS_RANK = new Map(STATUS_ORDER.map((s, i) => [s, i]));
const UNKNOWN_RANK = STATUS_RANK.get('\u0000unknown')!;

/** Rank of a status: higher is worse. */
export function statusRank(status: string): number {
  return STATUS_RANK.get(status) ?? UNKNOWN_RANK;
}

/** The worse of two statuses under the total ranking. */
export function worseStatus(a: string, b: string): string {
  return statusRank(b) > statusRank(a) ? b : a;
}

/** The worst of many statuses; `n/a` for none. */
export function worstStatus(statuses: Iterable<string>): string {
  let worst: string | undefined;
  for (const s of statuses) worst = worst === undefined ? s : worseStatus(worst, s);
  return worst ?? 'n/a';
}

/** True when a test that ended with `status` lets its dependents run in normal mode. */
export function isSuccess(status: string): boolean {
  return SUCCESS_STATUSES.has(status);
}

/** True when an outcome counts as a success for history and monitoring (last-success, check). */
export function isSuccessfulOutcome(state: string, status: string): boolean {
  return state === 'COMPLETED' && isSuccess(status);
}

/** True when a test in `state` will not change again in this run. */
export function isFinal(state: string, status: string): boolean {
  if (FINAL_STATES.has(state as TestState)) return true;
  // Never-ran reasons are final while the state stays NOT_STARTED.
  return state === 'NOT_STARTED' && (status === 'PREQ_FAIL' || status === 'ZERO_ITEMS');
}

/** Rolls a test's items into the test: its state, and the worst status under the ranking. */
export function rollUp(items: Iterable<{ state: string; status: string }>): {
  state: TestState;
  status: string;
} {
  const list = [...items];
  if (list.length === 0) return { state: 'NOT_STARTED', status: 'n/a' };
  // While items are pending, n/a ranks above PASS, and a failure already seen still shows.
  const status = worstStatus(list.map((i) => i.status));
  return { state: rollUpState(list), status };
}

function rollUpState(list: readonly { state: string; status: string }[]): TestState {
  const has = (state: string): boolean => list.some((i) => i.state === state);
  if (has('KILLREQ')) return 'KILLREQ';
  if (has('LAUNCHED') || has('RUNNING')) return 'RUNNING';
  // Items parked on a sign-off, nothing else active: the test waits for it.
  if (has('WAITING') && list.every((i) => i.state === 'WAITING' || isFinal(i.state, i.status) || i.state === 'NOT_STARTED'))
    return 'WAITING';
  const allNotStarted = list.every((i) => i.state === 'NOT_STARTED');
  if (!list.every((i) => isFinal(i.state, i.status))) return allNotStarted ? 'NOT_STARTED' : 'RUNNING';
  if (has('INCOMPLETE')) return 'INCOMPLETE';
  if (has('KILLED')) return 'KILLED';
  return allNotStarted ? 'NOT_STARTED' : 'COMPLETED';
}

/**
 * Parses `STATE,STATUS` as people type it (either part may be empty; the status is upper-cased,
 * `n/a` kept as is). `where` names the command or screen for the error.
 */
export function parseStateStatus(text: string, where: string): { state?: TestState; status?: string } {
  const [stateText = '', statusText = '', extra] = text.split(',');
  if (extra !== undefined || (stateText.trim() === '' && statusText.trim() === '')) {
    throw new TrellisError(
      'BAD_VALUE',
      `${where} '${text}': expected STATE,STATUS`,
      'e.g. COMPLETED,PASS or ,WAIVED to change only the status',
    );
  }
  let state: TestState | undefined;
  if (stateText.trim() !== '') {
    state = parseState(stateText.trim());
    if (!state) {
      throw new TrellisError(
        'BAD_VALUE',
        `${where}: '${stateText}' is not a state`,
        'use one of NOT_STARTED, LAUNCHED, RUNNING, COMPLETED, KILLREQ, KILLED, INCOMPLETE',
      );
    }
  }
  const st = statusText.trim();
  const status = st === '' ? undefined : st.toUpperCase() === 'N/A' ? 'n/a' : st.toUpperCase();
  return { ...(state ? { state } : {}), ...(status ? { status } : {}) };
}

/** Checks a state name; undefined when it is not one. */
export function parseState(s: string): TestState | undefined {
  const up = s.toUpperCase();
  return (TEST_STATES as readonly string[]).includes(up) ? (up as TestState) : undefined;
}

/** Longest comment a sign-off keeps (`trellis approve --comment`, the web view's field). */
export const MAX_SIGN_OFF_COMMENT = 4096;

/** True while a test's manual step still waits for `trellis approve` (WAITING/MANUAL). */
export function awaitsSignOff(test: { state: string; status: string }): boolean {
  return test.state === 'WAITING' && test.status === MANUAL_STATUS;
}
