/** The help screen (`?`): every key, and what the cells mean. Pure. */
import { LEGEND } from '../view/cell-style.js';
import { fit, type Line } from './frame.js';

const KEYS: readonly [string, string][] = [
  ['arrows, h j k l', 'move between tests (rows) and runs (columns)'],
  ['PgUp PgDn, C-b C-f', 'a page of rows up or down'],
  ['H L', 'a page of runs left or right (newest runs are on the left)'],
  ['Home End, g G', 'first or last row'],
  ['space', 'fold or unfold the items of a test;  c fold all,  e unfold all'],
  ['Enter', 'details of the selected test: steps, times, host, live log tail'],
  ['/', 'filter tests by pattern (% wildcards, comma list, test/item, ~ negates)'],
  ['t  r', 'filter runs by target or run name (% wildcards, comma list)'],
  ['s', 'show only rows with these states or statuses (e.g. FAIL,RUNNING)'],
  ['u', 'clear every filter'],
  ['R', 'rerun the selected test (asks first; starts `trellis run --rerun-all`)'],
  ['K', 'kill the selected test (asks first; its run must be live)'],
  ['A', 'approve the manual step the selected test waits at (asks first)'],
  ['X', 'reject that step: the test fails (asks first)'],
  ['S', 'set STATE,STATUS of the selected test (either may be empty)'],
  ['n', 'the hosts view: the agents of the pool, their slots, load and what they run'],
  ['q', 'quit (in the detail view: back to the matrix);  C-c quits anywhere'],
];

/** Every line of the help screen. */
export function buildHelpFrame(width: number, height: number): Line[] {
  const lines: Line[] = [[{ text: 'trellis dashboard: keys', bold: true }], []];
  for (const [k, what] of KEYS) lines.push([{ text: `  ${k.padEnd(20)}`, bold: true }, { text: what }]);
  lines.push([], [{ text: 'cells', bold: true }]);
  for (const l of LEGEND) lines.push([{ text: '  ' }, { text: l.text.padEnd(6), tone: l.tone }, { text: `  ${l.meaning}` }]);
  lines.push([], [{ text: 'any key: back' }]);
  return lines.slice(0, height).map((l) => l.map((s) => ({ ...s, text: fit(s.text, width) })));
}
