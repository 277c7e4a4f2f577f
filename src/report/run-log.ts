/**
 * `trellis log`: a run's events as people and scripts read them. By default the events about the
 * run itself (its state, locks, forced writes, runners found dead), not every test's state change.
 * Data in, text out.
 */
import type { EventRecord, TestRecord } from '../model/records.js';
import { displayName } from '../model/display-name.js';
import { formatTable, formatTime, isoTime } from './table.js';

/** Kinds shown without --kind or --all. */
export const DEFAULT_LOG_KINDS: readonly string[] = ['run', 'lock', 'unlock', 'forced', 'agent', 'params', 'approve', 'reject', 'resume'];
/** Every kind the store writes, for help and validation messages. */
export const LOG_KINDS: readonly string[] = [...DEFAULT_LOG_KINDS, 'state', 'removed'];

/** One event with the test it is about named. */
export interface LogEntry {
  seq: number;
  time: number;
  kind: string;
  detail: string;
  /** `user@host`, '' when the store did it on its own */
  who: string;
  /** `test` or `test/itempath` for test events, else null */
  test: string | null;
}

/** Keeps the events of `kinds` (all of them for 'all'). */
export function selectEvents(events: readonly EventRecord[], kinds: readonly string[] | 'all'): EventRecord[] {
  if (kinds === 'all') return [...events];
  const wanted = new Set(kinds);
  return events.filter((e) => wanted.has(e.kind));
}

/**
 * Names each event's test: from the run's rows, or for rows removed since, from the `removed`
 * event that recorded the name (`#id` when neither knows it).
 */
export function nameEvents(events: readonly EventRecord[], rows: readonly TestRecord[], all: readonly EventRecord[]): LogEntry[] {
  const names = new Map<number, string>();
  for (const e of all) if (e.kind === 'removed' && e.testId !== null) names.set(e.testId, e.detail);
  for (const r of rows) names.set(r.id, displayName(r));
  return events.map((e) => ({
    seq: e.seq,
    time: e.time,
    kind: e.kind,
    detail: e.detail,
    who: e.who,
    test: e.testId === null ? null : (names.get(e.testId) ?? `#${e.testId}`),
  }));
}

/** True for the `agent` event of a runner claiming the run; its end or death closes the span. */
const isClaim = (e: LogEntry) => e.kind === 'agent' && e.detail.endsWith('claimed the run');

/**
 * Text for people. While a runner holds the run (between its `claimed` event and its end), the
 * forced writes of one user in a row are one line: a forced `trellis run` writes every few ms.
 */
export function formatLog(entries: readonly LogEntry[]): string {
  const rows: string[][] = [];
  let runner = false;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.kind === 'agent') runner = isClaim(e);
    let detail = e.test === null || e.test === e.detail ? e.detail : `${e.test} ${e.detail}`;
    if (e.kind === 'forced' && runner) {
      let j = i;
      while (entries[j + 1]?.kind === 'forced' && entries[j + 1]!.who === e.who) j++;
      if (j > i) detail += ` (and ${j - i} more forced writes until ${formatTime(entries[j]!.time)})`;
      i = j;
    }
    rows.push([formatTime(e.time), e.kind, e.who || '-', detail]);
  }
  return `${formatTable(['TIME', 'KIND', 'WHO', 'DETAIL'], rows)}\n`;
}

/** `trellis log --json`: every selected event, oldest first. */
export function logJson(entries: readonly LogEntry[]) {
  return entries.map((e) => ({ seq: e.seq, time: isoTime(e.time), kind: e.kind, detail: e.detail, who: e.who, test: e.test }));
}
