/**
 * The matrix screen as data: lines of styled segments, exactly as wide and as tall as the
 * terminal. Pure: the widgets only turn segments into terminal text.
 */
import type { RunRecord } from '../model/records.js';
import { CELL_TEXT, LEGEND, lookOf, type Tone } from '../view/cell-style.js';
import type { MatrixData } from '../view/matrix-data.js';
import type { RowEntry } from '../view/rows.js';
import { countsTone, okCount, orderedCounts } from '../view/run-facts.js';
import { scrollFor, selection, type Grid, type UiState } from './ui-state.js';
import { termLine } from '../util/terminal-text.js';

export interface Segment {
  text: string;
  tone?: Tone;
  inverse?: boolean;
  bold?: boolean;
}
export type Line = Segment[];

/** Narrowest and widest run column: the cell text and a space, up to room for a run name. */
const MIN_COLUMN = Math.max(CELL_TEXT, 'running'.length) + 1;
const MAX_COLUMN = 17;
/** Most header lines for target keys; more keys share the last line. */
const MAX_KEY_LINES = 3;
/** Lines below the body: summary, legend, keys. */
const BOTTOM = 3;
const MATRIX_KEYS =
  'arrows/hjkl move  Enter detail  space fold  / test  t target  r run  s status  u clear  R rerun  K kill  S set  n hosts';

export interface Layout {
  labelWidth: number;
  columnWidth: number;
  /** header lines naming the target, one per key of `[fields]` */
  keyLines: number;
  pageRows: number;
  pageCols: number;
}

/** How wide the test names and the run columns are, and how many rows and runs fit. */
export function computeLayout(width: number, height: number, rows: readonly RowEntry[], runs: readonly RunRecord[]): Layout {
  let longest = 12;
  for (const r of rows) longest = Math.max(longest, labelOf(r).length + 1);
  const labelWidth = Math.max(12, Math.min(longest, 40, Math.floor(width * 0.4)));
  let keyLines = 1;
  let name = 0;
  for (const run of runs.slice(0, 500)) {
    const values = Object.values(run.keys);
    keyLines = Math.max(keyLines, Math.min(values.length, MAX_KEY_LINES));
    name = Math.max(name, run.runname.length, ...values.map((v) => v.length));
  }
  const room = Math.max(0, width - labelWidth);
  let columnWidth = Math.min(MAX_COLUMN, Math.max(MIN_COLUMN, name + 1));
  // Wide columns only while every run fits; with more runs, more of them on screen wins.
  if (runs.length * columnWidth > room) columnWidth = Math.max(MIN_COLUMN, Math.floor(room / Math.max(1, runs.length)));
  const top = 2 + keyLines + 3;
  return {
    labelWidth,
    columnWidth,
    keyLines,
    pageRows: Math.max(1, height - top - BOTTOM),
    pageCols: Math.max(1, Math.floor(room / columnWidth)),
  };
}

/** The header lines' text for one run: its target keys, name, state and counts. */
function headerTexts(run: RunRecord, keyLines: number): string[] {
  const values = Object.values(run.keys);
  if (values.length === 0) values.push(run.target);
  const keys = values.slice(0, keyLines - 1);
  keys.push(values.slice(keyLines - 1).join('/'));
  while (keys.length < keyLines) keys.push('');
  return [...keys, run.runname, run.state, `${okCount(run)}/${run.total}`];
}

export interface FrameInput {
  data: MatrixData;
  ui: UiState;
  grid: Grid;
  layout: Layout;
  width: number;
  height: number;
  /** what the title line says after "trellis dashboard" (the run area, the server) */
  title: string;
  /** shown in place of the run line while something is wrong (server lost) */
  banner?: string;
  /** what to say when there are no runs at all */
  emptyHint: string;
  /** total runs before the target and run name filters */
  allRuns: number;
}

/** Every line of the matrix screen. */
export function buildMatrixFrame(input: FrameInput): Line[] {
  const { ui, grid, layout, width, height, data } = input;
  const { rowTop, colLeft } = scrollFor(ui, grid);
  const { row: selRow, col: selCol } = selection(ui, grid);
  const runs = grid.runs.slice(colLeft, colLeft + layout.pageCols);
  const lines: Line[] = [];
  lines.push(titleLine(input));
  lines.push(input.banner ? [{ text: fit(` ${input.banner}`, width), tone: 'fail', inverse: true }] : runLine(grid.runs[selCol]));
  const labels = [...Array.from({ length: layout.keyLines }, (_, i) => (i === 0 ? 'target' : '')), 'run', 'state', 'ok/tests'];
  const headers = runs.map((run) => headerTexts(run, layout.keyLines));
  labels.forEach((label, h) => {
    const line: Line = [{ text: pad(label, layout.labelWidth), bold: true }];
    for (const [i, run] of runs.entries())
      line.push(headerCell(run, headers[i]![h]!, h - layout.keyLines, colLeft + i === selCol, layout.columnWidth));
    lines.push(line);
  });
  const body = grid.rows.slice(rowTop, rowTop + layout.pageRows);
  if (grid.runs.length === 0 || grid.rows.length === 0) lines.push(...emptyLines(input));
  else {
    body.forEach((row, i) => {
      const selected = rowTop + i === selRow;
      const line: Line = [{ text: pad(labelOf(row), layout.labelWidth), inverse: selected, bold: row.itempath === '' }];
      for (const [j, run] of runs.entries()) line.push(...bodyCell(data, run, row, selected && colLeft + j === selCol, layout.columnWidth));
      lines.push(line);
    });
  }
  while (lines.length < height - BOTTOM) lines.push([]);
  lines.length = Math.max(0, height - BOTTOM);
  lines.push(summaryLine(grid, runs.length, input.allRuns));
  lines.push(legendLine());
  lines.push(keyLine(ui, MATRIX_KEYS));
  return lines.slice(0, height).map((l) => clip(l, width));
}

/** A row's label: a test with a fold mark and its item count, or an indented item. */
export function labelOf(row: RowEntry): string {
  if (row.itempath !== '') return `   ${clean(row.itempath)}`;
  if (row.itemCount === 0) return ` ${clean(row.testname)}`;
  return `${row.folded ? '+' : '-'}${clean(row.testname)} (${row.itemCount})`;
}

function titleLine(input: FrameInput): Line {
  const f = input.ui.filters;
  const filters = [
    f.target && `-t ${f.target}`,
    f.runname && `-r ${f.runname}`,
    f.pattern && `-p ${f.pattern}`,
    f.status && `--status ${f.status}`,
  ].filter(Boolean);
  const plural = input.allRuns === 1 ? 'run' : 'runs';
  const shown =
    input.grid.runs.length === input.allRuns ? `${input.allRuns} ${plural}` : `${input.grid.runs.length} of ${input.allRuns} ${plural}`;
  const left = `trellis dashboard  ${input.title}  ${shown}${filters.length ? `  filter: ${filters.join(' ')}` : ''}`;
  const right = '? help  q quit';
  const gap = Math.max(1, input.width - left.length - right.length);
  return [{ text: clean(left), bold: true }, { text: ' '.repeat(gap) + right }];
}

function runLine(run: RunRecord | undefined): Line {
  if (run === undefined) return [{ text: '' }];
  const counts = orderedCounts(run.counts)
    .map(([s, n]) => `${s === 'n/a' ? 'not ended' : s} ${n}`)
    .join('  ');
  const times = run.started ? `  started ${formatTime(run.started)}${run.ended ? `, ended ${formatTime(run.ended)}` : ''}` : '';
  const locked = run.state === 'locked' && run.lockedBy ? ` by ${run.lockedBy}` : '';
  return [
    { text: clean(` ${run.target} ${run.runname}`), bold: true },
    { text: clean(`  ${run.state}${locked}  ${run.total} tests${counts ? `: ${counts}` : ''}${times}`) },
  ];
}

/** One header cell; `line` counts from the run name (0), state (1), counts (2); keys are below 0. */
function headerCell(run: RunRecord, text: string, line: number, selected: boolean, width: number): Segment {
  const base = { inverse: selected, bold: line < 1, text: `${pad(fitEnd(clean(text), width - 1), width - 1)} ` };
  if (line === 1) return { ...base, tone: run.state === 'running' ? 'running' : undefined };
  if (line === 2) return { ...base, tone: countsTone(run) };
  return base;
}

function bodyCell(data: MatrixData, run: RunRecord, row: RowEntry, selected: boolean, width: number): Segment[] {
  const gap = { text: ' ' };
  if (!data.hasCells(run.id)) return [{ text: pad('..', width - 1), tone: 'idle', inverse: selected }, gap];
  const cell = data.cell(run.id, row.key);
  if (cell === undefined) return [{ text: pad('.', width - 1), tone: 'idle', inverse: selected }, gap];
  const look = lookOf(cell.state, cell.status);
  // The colour covers the cell but not the gap after it, so neighbours read apart.
  return [{ text: pad(look.text, width - 1), tone: look.tone, inverse: selected }, gap];
}

function emptyLines(input: FrameInput): Line[] {
  if (!input.data.loaded) return [[{ text: ' loading...' }]];
  if (input.allRuns === 0) return input.emptyHint.split('\n').map((t) => [{ text: ` ${t}` }]);
  if (input.grid.runs.length === 0) return [[{ text: ' No run matches the target and run name filters; press u to clear the filters.' }]];
  if (input.data.pending().length > 0) return [[{ text: ' loading...' }]];
  return [[{ text: ' No test matches the filters in the runs shown; press u to clear the filters.' }]];
}

function summaryLine(grid: Grid, onScreen: number, allRuns: number): Line {
  const totals: Record<string, number> = {};
  let tests = 0;
  for (const run of grid.runs) {
    tests += run.total;
    for (const [s, n] of Object.entries(run.counts)) totals[s] = (totals[s] ?? 0) + n;
  }
  const line: Line = [{ text: `${grid.runs.length}/${allRuns} runs (${onScreen} on screen), ${tests} tests: `, bold: true }];
  for (const [s, n] of orderedCounts(totals)) {
    const look = lookOf(s === 'n/a' ? 'RUNNING' : 'COMPLETED', s);
    line.push({ text: s === 'n/a' ? 'not ended' : s, tone: s === 'n/a' ? 'running' : look.tone }, { text: ` ${n}  ` });
  }
  return line;
}

function legendLine(): Line {
  const line: Line = [];
  for (const l of LEGEND) line.push({ text: l.text, tone: l.tone }, { text: ' ' });
  return line;
}

/** The bottom line: the prompt being typed, a question, a message, or the key hints. */
export function keyLine(ui: UiState, hints: string): Line {
  if (ui.prompt) return [{ text: `${ui.prompt.label}: `, bold: true }, { text: clean(ui.prompt.text) }, { text: '_', inverse: true }];
  if (ui.confirm) return [{ text: clean(ui.confirm.question), bold: true, tone: 'warn' }];
  if (ui.message) return [{ text: clean(ui.message), bold: true }];
  return [{ text: hints }];
}

/** Local time as HH:MM:SS, with the date when it is not today. */
export function formatTime(seconds: number, now = Date.now() / 1000): string {
  const d = new Date(seconds * 1000);
  const time = d.toTimeString().slice(0, 8);
  return new Date(now * 1000).toDateString() === d.toDateString() ? time : `${d.toISOString().slice(0, 10)} ${time}`;
}

/** Control characters never reach the terminal: the one rule of util/terminal-text.ts. */
export function clean(text: string): string {
  return termLine(text);
}

function pad(text: string, width: number): string {
  return fit(text, width).padEnd(width);
}

/** Cuts the end off, marking the cut. */
export function fit(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? text.slice(0, width) : `${text.slice(0, width - 1)}~`;
}

/** Keeps the end (run names differ at the end: dates, numbers), marking the cut. */
function fitEnd(text: string, width: number): string {
  if (text.length <= width) return text;
  return `~${text.slice(text.length - width + 1)}`;
}

/** Cuts a line to the screen width. */
function clip(line: Line, width: number): Line {
  const out: Line = [];
  let left = width;
  for (const seg of line) {
    if (left <= 0) break;
    const text = seg.text.length > left ? seg.text.slice(0, left) : seg.text;
    out.push({ ...seg, text });
    left -= text.length;
  }
  return out;
}
