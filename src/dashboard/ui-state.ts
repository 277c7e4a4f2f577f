/**
 * The dashboard's interaction state and what each key does to it. Pure: a key and the current
 * grid in, the next state and at most one effect (quit, an action on a test) out.
 */
import type { RunRecord } from '../model/records.js';
import { displayName } from '../model/display-name.js';
import type { RowEntry } from '../view/rows.js';
import type { CellRef } from '../view/actions.js';
import type { Filters } from '../view/run-filters.js';

export type { CellRef, Filters };

export type Mode = 'matrix' | 'detail' | 'hosts' | 'help';
export type FilterField = 'pattern' | 'target' | 'runname' | 'status';

export interface Prompt {
  field: FilterField | 'set';
  label: string;
  text: string;
  /** the cell `set` applies to */
  ref?: CellRef;
}

export interface Confirm {
  action: 'rerun' | 'kill' | 'approve' | 'reject';
  ref: CellRef;
  question: string;
}

export interface UiState {
  mode: Mode;
  /** where `?` returns to */
  helpFrom: Mode;
  /** selection by key, so it stays on the same test and run as rows and runs come and go */
  rowKey: string | undefined;
  colRunId: number | undefined;
  rowTop: number;
  colLeft: number;
  foldedByDefault: boolean;
  toggled: ReadonlySet<string>;
  filters: Filters;
  prompt?: Prompt;
  confirm?: Confirm;
  detail?: CellRef & { scroll: number };
  message?: string;
}

/** The grid as laid out now: what keys move over. */
export interface Grid {
  rows: readonly RowEntry[];
  runs: readonly RunRecord[];
  pageRows: number;
  pageCols: number;
}

export type Effect =
  | { kind: 'quit' }
  | { kind: 'filters' }
  | { kind: 'rerun' | 'kill' | 'approve' | 'reject'; ref: CellRef }
  | { kind: 'set'; ref: CellRef; text: string };

export interface KeyResult {
  ui: UiState;
  effect?: Effect;
}

/** The state a dashboard opens with. */
export function initialUi(filters: Partial<Filters> = {}): UiState {
  return {
    mode: 'matrix',
    helpFrom: 'matrix',
    rowKey: undefined,
    colRunId: undefined,
    rowTop: 0,
    colLeft: 0,
    foldedByDefault: false,
    toggled: new Set(),
    filters: { pattern: '', target: '', runname: '', status: '', ...filters },
  };
}

/** Index of the selected row and column in the grid (0 when the selection is gone). */
export function selection(ui: UiState, grid: Grid): { row: number; col: number } {
  const row = ui.rowKey === undefined ? 0 : grid.rows.findIndex((r) => r.key === ui.rowKey);
  const col = ui.colRunId === undefined ? 0 : grid.runs.findIndex((r) => r.id === ui.colRunId);
  return { row: Math.max(0, row), col: Math.max(0, col) };
}

/** First row and column to draw so that the selection is on screen. */
export function scrollFor(ui: UiState, grid: Grid): { rowTop: number; colLeft: number } {
  const { row, col } = selection(ui, grid);
  return {
    rowTop: keepVisible(ui.rowTop, row, grid.pageRows, grid.rows.length),
    colLeft: keepVisible(ui.colLeft, col, grid.pageCols, grid.runs.length),
  };
}

function keepVisible(top: number, index: number, page: number, count: number): number {
  const size = Math.max(1, page);
  let t = Math.min(top, Math.max(0, count - size));
  if (index < t) t = index;
  if (index >= t + size) t = index - size + 1;
  return Math.max(0, t);
}

/** The selected cell, when the selection is on a row and a run. */
export function selectedCell(ui: UiState, grid: Grid): CellRef | undefined {
  const { row, col } = selection(ui, grid);
  const r = grid.rows[row];
  const run = grid.runs[col];
  if (r === undefined || run === undefined) return undefined;
  return { runId: run.id, testname: r.testname, itempath: r.itempath };
}

const FILTER_KEYS: Record<string, { field: FilterField; label: string }> = {
  '/': { field: 'pattern', label: 'test pattern (% wildcards, comma list, ~ negates)' },
  t: { field: 'target', label: 'target pattern (% wildcards, comma list)' },
  r: { field: 'runname', label: 'run name pattern (% wildcards, comma list)' },
  s: { field: 'status', label: 'status or state (comma list, e.g. FAIL,RUNNING)' },
};

/** What a key does. Keys are blessed's names (`up`, `pagedown`, `enter`, `C-c`) or the character. */
export function handleKey(ui: UiState, key: string, grid: Grid): KeyResult {
  if (key === 'C-c') return { ui, effect: { kind: 'quit' } };
  if (ui.prompt) return handlePromptKey(ui, ui.prompt, key);
  if (ui.confirm) return handleConfirmKey(ui, ui.confirm, key);
  const next = { ...ui, message: undefined };
  if (ui.mode === 'help') return { ui: { ...next, mode: ui.helpFrom } };
  if (key === '?') return { ui: { ...next, mode: 'help', helpFrom: ui.mode } };
  if (ui.mode === 'hosts') return handleHostsKey(next, key);
  return ui.mode === 'detail' ? handleDetailKey(next, key) : handleMatrixKey(next, key, grid);
}

function handleMatrixKey(ui: UiState, key: string, grid: Grid): KeyResult {
  const { row, col } = selection(ui, grid);
  const moveRow = (to: number): KeyResult => withRow(ui, grid, to);
  const moveCol = (to: number): KeyResult => withCol(ui, grid, to);
  switch (key) {
    case 'q':
      return { ui, effect: { kind: 'quit' } };
    case 'up':
    case 'k':
      return moveRow(row - 1);
    case 'down':
    case 'j':
      return moveRow(row + 1);
    case 'pageup':
    case 'C-b':
      return moveRow(row - grid.pageRows);
    case 'pagedown':
    case 'C-f':
      return moveRow(row + grid.pageRows);
    case 'home':
    case 'g':
      return moveRow(0);
    case 'end':
    case 'G':
      return moveRow(grid.rows.length - 1);
    case 'left':
    case 'h':
      return moveCol(col - 1);
    case 'right':
    case 'l':
      return moveCol(col + 1);
    case 'H':
      return moveCol(col - grid.pageCols);
    case 'L':
      return moveCol(col + grid.pageCols);
    case 'space':
    case ' ':
      return toggleFold(ui, grid.rows[row]);
    case 'c':
      return { ui: { ...ui, foldedByDefault: true, toggled: new Set(), rowKey: parentKey(grid.rows[row]) } };
    case 'e':
      return { ui: { ...ui, foldedByDefault: false, toggled: new Set() } };
    case 'u':
      return { ui: { ...ui, filters: { pattern: '', target: '', runname: '', status: '' } }, effect: { kind: 'filters' } };
    case 'n':
      return { ui: { ...ui, mode: 'hosts' } };
    case 'enter': {
      const ref = selectedCell(ui, grid);
      return ref ? { ui: { ...ui, mode: 'detail', detail: { ...ref, scroll: 0 } } } : { ui };
    }
    case 'R':
    case 'K':
    case 'S':
    case 'A':
    case 'X': {
      const ref = selectedCell(ui, grid);
      return ref ? askAction(ui, key, ref, grid.runs[col]) : { ui: { ...ui, message: 'no test selected' } };
    }
    default: {
      const filter = FILTER_KEYS[key];
      if (filter) return { ui: { ...ui, prompt: { ...filter, text: ui.filters[filter.field] } } };
      return { ui };
    }
  }
}

/** The hosts view: any of these keys goes back to the matrix. */
function handleHostsKey(ui: UiState, key: string): KeyResult {
  if (key === 'q' || key === 'escape' || key === 'enter' || key === 'backspace' || key === 'n') return { ui: { ...ui, mode: 'matrix' } };
  return { ui };
}

function handleDetailKey(ui: UiState, key: string): KeyResult {
  const d = ui.detail;
  if (d === undefined) return { ui: { ...ui, mode: 'matrix' } };
  switch (key) {
    case 'q':
    case 'escape':
    case 'enter':
    case 'backspace':
      return { ui: { ...ui, mode: 'matrix', detail: undefined } };
    case 'up':
    case 'k':
      return { ui: { ...ui, detail: { ...d, scroll: d.scroll + 1 } } };
    case 'down':
    case 'j':
      return { ui: { ...ui, detail: { ...d, scroll: Math.max(0, d.scroll - 1) } } };
    case 'pageup':
      return { ui: { ...ui, detail: { ...d, scroll: d.scroll + 10 } } };
    case 'pagedown':
      return { ui: { ...ui, detail: { ...d, scroll: Math.max(0, d.scroll - 10) } } };
    case 'end':
    case 'G':
      return { ui: { ...ui, detail: { ...d, scroll: 0 } } };
    case 'R':
    case 'K':
    case 'S':
    case 'A':
    case 'X':
      return askAction(ui, key, d, undefined);
    default:
      return { ui };
  }
}

function askAction(ui: UiState, key: string, ref: CellRef, run: RunRecord | undefined): KeyResult {
  const ref0 = { runId: ref.runId, testname: ref.testname, itempath: ref.itempath };
  const where = run ? ` in ${run.target} ${run.runname}` : '';
  if (key === 'S') {
    return {
      ui: {
        ...ui,
        prompt: { field: 'set', label: `set STATE,STATUS of ${displayName(ref)}${where} (e.g. COMPLETED,WAIVED)`, text: '', ref: ref0 },
      },
    };
  }
  const action = ACTION_KEYS[key] ?? 'kill';
  return { ui: { ...ui, confirm: { action, ref: ref0, question: `${action} ${displayName(ref)}${where}? (y/n)` } } };
}

/** The keys that act on a test after a `y/n`: A and X sign off a manual step (approve, reject). */
const ACTION_KEYS: Readonly<Record<string, Confirm['action']>> = { R: 'rerun', K: 'kill', A: 'approve', X: 'reject' };

function handlePromptKey(ui: UiState, prompt: Prompt, key: string): KeyResult {
  switch (key) {
    case 'escape':
      return { ui: { ...ui, prompt: undefined, message: 'cancelled' } };
    case 'enter': {
      const text = prompt.text.trim();
      if (prompt.field === 'set') {
        const done = { ...ui, prompt: undefined };
        return text === '' || prompt.ref === undefined
          ? { ui: { ...done, message: 'cancelled' } }
          : { ui: done, effect: { kind: 'set', ref: prompt.ref, text } };
      }
      return { ui: { ...ui, prompt: undefined, filters: { ...ui.filters, [prompt.field]: text } }, effect: { kind: 'filters' } };
    }
    case 'backspace':
      return { ui: { ...ui, prompt: { ...prompt, text: prompt.text.slice(0, -1) } } };
    case 'C-u':
      return { ui: { ...ui, prompt: { ...prompt, text: '' } } };
    case 'space':
      return { ui: { ...ui, prompt: { ...prompt, text: `${prompt.text} ` } } };
    default:
      // One printable character (blessed names keys like `up`; those are not text).
      if ([...key].length === 1 && key >= ' ' && prompt.text.length < 200) {
        return { ui: { ...ui, prompt: { ...prompt, text: prompt.text + key } } };
      }
      return { ui };
  }
}

function handleConfirmKey(ui: UiState, confirm: Confirm, key: string): KeyResult {
  const done = { ...ui, confirm: undefined };
  if (key === 'y' || key === 'Y') return { ui: done, effect: { kind: confirm.action, ref: confirm.ref } };
  return { ui: { ...done, message: `${confirm.action} cancelled` } };
}

function withRow(ui: UiState, grid: Grid, to: number): KeyResult {
  if (grid.rows.length === 0) return { ui };
  const i = Math.min(grid.rows.length - 1, Math.max(0, to));
  const rowTop = keepVisible(ui.rowTop, i, grid.pageRows, grid.rows.length);
  return { ui: { ...ui, rowKey: grid.rows[i]!.key, rowTop } };
}

function withCol(ui: UiState, grid: Grid, to: number): KeyResult {
  if (grid.runs.length === 0) return { ui };
  const i = Math.min(grid.runs.length - 1, Math.max(0, to));
  const colLeft = keepVisible(ui.colLeft, i, grid.pageCols, grid.runs.length);
  return { ui: { ...ui, colRunId: grid.runs[i]!.id, colLeft } };
}

function parentKey(row: RowEntry | undefined): string | undefined {
  return row?.testname;
}

function toggleFold(ui: UiState, row: RowEntry | undefined): KeyResult {
  if (row === undefined) return { ui };
  if (row.itempath === '' && row.itemCount === 0) return { ui: { ...ui, message: `${row.testname} has no items` } };
  const toggled = new Set(ui.toggled);
  if (toggled.has(row.testname)) toggled.delete(row.testname);
  else toggled.add(row.testname);
  // Folding from an item moves the selection up to its test.
  return { ui: { ...ui, toggled, rowKey: row.testname } };
}
