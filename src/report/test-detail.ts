/** `trellis show` as text: one test's record, steps, values and the tail of its bad step's log. */
import type { TestDetail, TestRecord } from '../model/records.js';
import { describePlacement, displayName } from '../model/display-name.js';
import { describeParams } from '../model/run-params.js';
import { formatSeconds } from './summary.js';
import { formatRuleTable } from './rule-text.js';
import { formatTable, formatTime } from './table.js';
import { termLine, termLog } from '../util/terminal-text.js';
import type { TestResources } from '../model/resources.js';
import { formatTestResources } from './resources-text.js';

export interface DetailExtras {
  tail?: { step: string; text: string };
  /** the run's parameters ([params]) */
  params?: Readonly<Record<string, string>>;
  items: readonly TestRecord[];
  /** the shared resources it holds or waits for */
  resources?: TestResources | undefined;
}

/** Formats a test for people. */
export function formatTestDetail(t: TestDetail, extras: DetailExtras): string {
  const name = displayName(t);
  const out: string[] = [
    termLine(`${name}: ${t.state} ${t.status}${t.comment ? ` - ${t.comment}` : ''}`),
    termLine(`  host      ${describePlacement(t)}`),
    `  started   ${formatTime(t.start)}`,
    `  ended     ${formatTime(t.end)}${t.duration !== null ? `  (${formatSeconds(t.duration)})` : ''}`,
    termLine(`  folder    ${t.rundir || '-'}`),
  ];
  if (t.external) out.push('  source    appended from outside the area (trellis result): never launched or rerun');
  if (extras.params && Object.keys(extras.params).length > 0) out.push(termLine(`  params    ${describeParams(extras.params)}`));
  if (t.description) out.push(termLine(`  about     ${t.description}`));
  if (t.owner) out.push(termLine(`  owner     ${t.owner}`));
  if (extras.resources) out.push(...formatTestResources(extras.resources).map((l) => termLine(`  ${l}`)));
  if (t.steps.length > 0) {
    out.push('', 'Steps:');
    const rows = t.steps.map((s) => [
      String(s.seq),
      s.name,
      s.state,
      s.status,
      s.exitCode === null ? '-' : String(s.exitCode),
      s.end === null ? '-' : formatSeconds(s.end - s.start),
      s.logfile,
    ]);
    out.push(indent(formatTable(['#', 'STEP', 'STATE', 'STATUS', 'EXIT', 'TIME', 'LOG'], rows)));
  }
  if (t.rules.length > 0) {
    out.push('', 'Log rules:');
    out.push(...formatRuleTable(t.rules).map(indent));
  }
  if (t.data.length > 0) {
    out.push('', 'Values:');
    const rows = t.data.map((d) => [d.name, d.value, d.expected ?? '-', d.tol ?? '-', d.units ?? '', d.status]);
    out.push(indent(formatTable(['NAME', 'VALUE', 'EXPECTED', 'TOL', 'UNITS', 'STATUS'], rows)));
  }
  if (extras.items.length > 0) {
    out.push('', 'Items:');
    const rows = extras.items.map((i) => [i.itempath, i.state, i.status, i.duration === null ? '-' : formatSeconds(i.duration)]);
    out.push(indent(formatTable(['ITEM', 'STATE', 'STATUS', 'TIME'], rows)));
  }
  if (extras.tail) {
    out.push('', termLine(`Last lines of step ${extras.tail.step}:`), indent(termLog(extras.tail.text).trimEnd()));
  }
  return out.join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
