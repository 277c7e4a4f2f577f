/**
 * The table of `trellis list runs`, straight from RunColumns: the same text as formatTable over the
 * runs' cells, without making a row of cells per run first, in pieces the caller writes as they
 * come. Over 10,000 runs, the cells, a Map per run for its counts, a Date per time and the whole
 * text held until the end cost about as much as everything else the command does.
 */
import type { RunColumns } from '../model/records.js';
import { hasTerminalControls, termLine } from '../util/terminal-text.js';
import { LocalTimes } from './local-time.js';
import { formatCountRecord } from './summary.js';
import { formatTime } from './table.js';

const HEADER = ['TARGET', 'RUNNAME', 'STATE', 'STATUS', 'TESTS', 'CREATED', 'CHANGED', 'CLOSED', 'COUNTS'] as const;
/** Lines per piece. */
const PIECE_LINES = 500;
const TRAILING_SPACE = /\s$/;

/**
 * `trellis list runs`'s table of the runs, newest first as given, a header line first, in pieces
 * of PIECE_LINES lines, each ending in a newline: a piece is garbage once written, where the text
 * of 10,000 lines held to the end was copied by every young-generation collection meanwhile.
 */
export function* formatRunsTable(runs: RunColumns): Generator<string> {
  const { target, runname, state, status, total, created, updated, closedAt, counts } = runs;
  const count = runs.id.length;
  const times = new LocalTimes();
  // One pass for the widths. It keeps nothing for the second: what lives on is copied by each
  // young-generation collection, and that was most of the formatting's cost.
  const widths: number[] = HEADER.map((h) => h.length);
  const text = [target, runname, state, status];
  for (let c = 0; c < text.length; c++) {
    for (const cell of text[c]!) {
      // termLine changes only text with controls, which is rare: its length then.
      const width = hasTerminalControls(cell) ? termLine(cell).length : cell.length;
      if (width > widths[c]!) widths[c] = width;
    }
  }
  for (const n of total) widths[4] = Math.max(widths[4]!, digitCount(n));
  for (const [c, list] of [created, updated, closedAt].entries()) {
    for (const t of list) if (t !== null) widths[5 + c] = Math.max(widths[5 + c]!, timeWidth(t));
  }

  let out = `${HEADER.map((h, i) => (i < HEADER.length - 1 ? h.padEnd(widths[i]!) : h)).join('  ')}\n`;
  for (let r = 0; r < count; r++) {
    const countsText = termLine(formatCountRecord(counts[r]!));
    let row =
      `${termLine(target[r]!).padEnd(widths[0]!)}  ${termLine(runname[r]!).padEnd(widths[1]!)}  ` +
      `${termLine(state[r]!).padEnd(widths[2]!)}  ${termLine(status[r]!).padEnd(widths[3]!)}  ${String(total[r]).padEnd(widths[4]!)}  ` +
      `${times.format(created[r]!).padEnd(widths[5]!)}  ${times.format(updated[r]!).padEnd(widths[6]!)}  ` +
      `${times.format(closedAt[r] ?? null).padEnd(widths[7]!)}  ${countsText}`;
    // As formatTable: no trailing blanks (a run without counts ends at its CLOSED column).
    if (countsText === '' || TRAILING_SPACE.test(countsText)) row = row.trimEnd();
    out += `${row}\n`;
    if ((r + 1) % PIECE_LINES === 0) {
      yield out;
      out = '';
    }
  }
  if (out !== '') yield out;
}

/** String(n).length, without the string. */
function digitCount(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) return String(n).length;
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

/** formatTime(t).length, without the text: 19 from year 1000 to 9999. */
function timeWidth(t: number): number {
  return t > -30_000_000_000 && t < 253_000_000_000 ? 19 : formatTime(t).length;
}
