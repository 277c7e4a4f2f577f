/**
 * The detail screen of one test or item, as lines: state, status, host, times, steps with their
 * status and duration, values, and the live tail of the log that matters (the running step's,
 * else the failing one's, else the last). Pure.
 */
import { describePlacement, displayName } from '../model/display-name.js';
import type { RunRecord, TestDetail } from '../model/records.js';
import { lookOf } from '../view/cell-style.js';
import type { LogTail } from '../view/log-tail.js';
import { formatDuration } from '../view/test-facts.js';
import { clean, fit, formatTime, keyLine, type Line } from './frame.js';
import type { UiState } from './ui-state.js';
import { describeFailedRules, failedRules } from '../model/rule-text.js';
import { describeExpectation } from '../model/value-check.js';

export interface DetailInput {
  ui: UiState;
  /** undefined while loading, null when the test is gone */
  detail: TestDetail | undefined | null;
  run: RunRecord | undefined;
  tail: LogTail | undefined;
  /** how many items the test has (0 for an item or a test without items) */
  items?: number;
  width: number;
  height: number;
  banner?: string;
}

/** Every line of the detail screen. */
export function buildDetailFrame(input: DetailInput, now = Date.now() / 1000): Line[] {
  const { ui, detail, run, width, height } = input;
  const ref = ui.detail!;
  const where = run ? `  in ${run.target} ${run.runname}` : '';
  const head: Line[] = [
    [{ text: clean(`${displayName(ref)}${where}`), bold: true }, { text: '   q back  R rerun  K kill  S set  ? help' }],
    input.banner ? [{ text: ` ${input.banner}`, tone: 'fail', inverse: true }] : [],
  ];
  const body: Line[] = [];
  if (detail === undefined) body.push([{ text: 'loading...' }]);
  else if (detail === null) body.push([{ text: 'This test is no longer in the run (removed); press q to go back.' }]);
  else body.push(...describe(detail, input.items ?? 0, now));
  const tail = input.tail;
  const tailLines: Line[] = [];
  if (tail) {
    tailLines.push([{ text: clean(`Log ${tail.file}${tail.error ? `: ${tail.error}` : ''}`), bold: true }]);
    for (const l of tail.lines) tailLines.push([{ text: clean(l) }]);
  }
  const room = Math.max(0, height - head.length - body.length - 1);
  // The tail follows the end of the log; scrolling moves back from there.
  const end = Math.max(Math.min(tailLines.length, room), tailLines.length - ref.scroll);
  const shownTail = tailLines.length <= room ? tailLines : [tailLines[0]!, ...tailLines.slice(Math.max(1, end - room + 1), end)];
  const lines = [...head, ...body, ...shownTail].slice(0, Math.max(0, height - 1));
  while (lines.length < height - 1) lines.push([]);
  lines.push(keyLine(ui, 'up/down scroll the log  End follow  q back'));
  return lines.map((l) => l.map((s) => ({ ...s, text: fit(s.text, width) })));
}

function describe(d: TestDetail, items: number, now: number): Line[] {
  const look = lookOf(d.state, d.status);
  const lines: Line[] = [
    [
      { text: 'State     ' },
      { text: ` ${d.state} `, tone: look.tone },
      { text: '   Status ' },
      { text: ` ${clean(d.status)} `, tone: look.tone },
    ],
    [{ text: clean(`Host      ${describePlacement(d)}`) }],
    [
      {
        text: `Started   ${d.start ? formatTime(d.start, now) : '-'}   Ended ${d.end ? formatTime(d.end, now) : '-'}   Duration ${formatDuration(d.duration ?? (d.start && !d.end ? now - d.start : null))}`,
      },
    ],
  ];
  if (d.comment) lines.push([{ text: clean(`Comment   ${d.comment}`) }]);
  lines.push([{ text: clean(`Work dir  ${d.rundir || '-'}`) }]);
  lines.push([
    {
      text: `Steps${d.steps.length > 0 ? '' : items > 0 ? ': none of its own; its items have them (unfold with space, select an item)' : ': none yet'}`,
      bold: true,
    },
  ]);
  for (const s of d.steps) {
    const sl = lookOf(s.state === 'RUNNING' ? 'RUNNING' : 'COMPLETED', s.status);
    const dur = formatDuration(s.end !== null ? s.end - s.start : now - s.start);
    lines.push([
      { text: clean(`  ${String(s.seq).padStart(2)} ${s.name.padEnd(16)} `) },
      { text: (s.state === 'RUNNING' ? 'RUN' : s.status).padEnd(7), tone: sl.tone },
      { text: clean(`${` exit ${s.exitCode ?? '-'}`.padEnd(9)} ${dur.padEnd(10)} ${s.logfile}`) },
    ]);
  }
  lines.push(...describeRules(d));
  if (d.data.length > 0) {
    lines.push([{ text: 'Values', bold: true }]);
    for (const v of d.data.slice(0, 8)) {
      const expect = v.expected !== null ? ` (expected ${describeExpectation(v.expected, v.tol)})` : '';
      lines.push([
        { text: clean(`  ${v.name} = ${v.value}${v.units ? ` ${v.units}` : ''}${expect} `) },
        { text: v.status, tone: lookOf('COMPLETED', v.status).tone },
      ]);
    }
    if (d.data.length > 8) lines.push([{ text: `  ... and ${d.data.length - 8} more (trellis show)` }]);
  }
  return lines;
}

/** Per judged step, how many of its log rules were met; each rule not met with its first line. */
function describeRules(d: TestDetail): Line[] {
  if (d.rules.length === 0) return [];
  const lines: Line[] = [[{ text: 'Log rules', bold: true }]];
  const steps = [...new Set(d.rules.map((r) => r.step))];
  for (const step of steps) {
    const all = d.rules.filter((r) => r.step === step);
    const failed = failedRules(all, step);
    lines.push([
      {
        text: clean(
          `  ${step}: ${all.length} rule${all.length === 1 ? '' : 's'}, ${failed.length === 0 ? 'all met' : `${failed.length} not met`}`,
        ),
      },
    ]);
    for (const r of failed.slice(0, 6)) {
      lines.push([
        { text: ` ${r.status.padEnd(7)}`, tone: lookOf('COMPLETED', r.status).tone },
        { text: clean(` rule-${r.num} ${r.kind} ${describeFailedRules([r])}`) },
      ]);
    }
    if (failed.length > 6) lines.push([{ text: `   ... and ${failed.length - 6} more (trellis show)` }]);
  }
  return lines;
}
