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

const HEADER = ['TARGET', 'RUNNAME', 'STATE', 'STATUS', 'TESTS', 'CREATED', 'CHANGED', 'CLOSED', 'COUNTS'] as const;
/** Lines per piece. */
const PIECE_LINES = 500;
/** Between two columns. */
const SEP = '  ';
/** The width of formatTime's text. */
const TIME_WIDTH = 19;

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
    let last = '';
    for (const cell of text[c]!) {
      // Most columns repeat the value before (one target, state, status); termLine changes only
      // text with controls, which is rare: its length then.
      if (cell === last) continue;
      last = cell;
      const width = hasTerminalControls(cell) ? termLine(cell).length : cell.length;
      if (width > widths[c]!) widths[c] = width;
    }
  }
  const timeWidth = (t: number) => (timeFits(t) ? TIME_WIDTH : times.format(t).length);
  for (let r = 0; r < count; r++) {
    const tests = digitCount(total[r]!);
    if (tests > widths[4]!) widths[4] = tests;
    widths[5] = Math.max(widths[5]!, timeWidth(created[r]!));
    widths[6] = Math.max(widths[6]!, timeWidth(updated[r]!));
    const closed = closedAt[r] ?? null;
    if (closed !== null) widths[7] = Math.max(widths[7]!, timeWidth(closed));
  }
  // The lines as parts joined a piece at a time (no string made per concatenation), with the
  // padded cell of a value that recurs (a target, a state, a status, a count of tests, no close
  // time) made once: over 10,000 runs this took the formatting from about 80 to 50 ms of CPU.
  const padded = new PaddedCells(widths);
  const parts: string[] = [HEADER.map((h, i) => (i < HEADER.length - 1 ? h.padEnd(widths[i]!) : h)).join(SEP), '\n'];
  for (let r = 0; r < count; r++) {
    const countsText = termLine(formatCountRecord(counts[r]!));
    const first = parts.length;
    const closed = closedAt[r] ?? null;
    parts.push(
      padded.cell(0, target[r]!),
      termLine(runname[r]!).padEnd(widths[1]!),
      SEP,
      padded.cell(2, state[r]!),
      padded.cell(3, status[r]!),
      padded.cell(4, total[r]!),
      times.format(created[r]!).padEnd(widths[5]!),
      SEP,
      times.format(updated[r]!).padEnd(widths[6]!),
      SEP,
      closed === null ? padded.cell(7, '-') : `${times.format(closed).padEnd(widths[7]!)}${SEP}`,
      countsText,
    );
    // As formatTable: no trailing blanks. Counts end in a number; without any (a run with no
    // tests) the line ends at its CLOSED column.
    if (countsText === '') parts.push(parts.splice(first).join('').trimEnd());
    parts.push('\n');
    if ((r + 1) % PIECE_LINES === 0) {
      yield parts.join('');
      parts.length = 0;
    }
  }
  if (parts.length > 0) yield parts.join('');
}

/** Cells escaped, padded to their column's width and followed by the separator, made once per value. */
class PaddedCells {
  readonly #widths: readonly number[];
  readonly #made: Array<Map<string | number, string>>;

  constructor(widths: readonly number[]) {
    this.#widths = widths;
    this.#made = widths.map(() => new Map());
  }

  cell(column: number, value: string | number): string {
    const made = this.#made[column]!;
    let text = made.get(value);
    if (text === undefined) {
      text = `${termLine(String(value)).padEnd(this.#widths[column]!)}${SEP}`;
      made.set(value, text);
    }
    return text;
  }
}

/** String(n).length, without the string. */
function digitCount(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) return String(n).length;
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

/** True when formatTime(t) has TIME_WIDTH characters (years 1000 to 9999, whatever the zone). */
function timeFits(t: number): boolean {
  return t > -30_000_000_000 && t < 253_000_000_000;
}
