/**
 * Reads the end of a step's log for the detail view: the last bytes only (logs can be gigabytes,
 * see readLogExcerpt), as lines fit for a terminal (escape sequences and carriage-return redraws
 * removed).
 */
import { readLogExcerpt } from '../util/log-excerpt.js';

/** The end of one log, as display lines. */
export interface LogTail {
  file: string;
  lines: string[];
  /** why the log could not be read */
  error?: string;
}

/** Most bytes read from the end of a log. */
const TAIL_BYTES = 64 * 1024;

/** The last `maxLines` lines of `file`; a missing or unreadable file says why instead. */
export function readLogTail(file: string, maxLines = 200): LogTail {
  const excerpt = readLogExcerpt(file, 0, TAIL_BYTES);
  if (excerpt.error !== undefined) return { file, lines: [], error: excerpt.error === 'ENOENT' ? 'not written yet' : excerpt.error };
  // The excerpt already starts the tail at a line's start.
  return { file, lines: toLines(excerpt.cut > 0 ? excerpt.tail : excerpt.head, false, maxLines) };
}

/** Splits log text into display lines; a partial first line (cut by the byte window) is dropped. */
export function toLines(text: string, cut: boolean, maxLines: number): string[] {
  const lines = text
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '')
    .replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, '')
    .split('\n');
  if (cut) lines.shift();
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-maxLines).map((l) => {
    // A progress bar redraws with \r: show what the terminal would.
    const cr = l.replace(/\r+$/, '').lastIndexOf('\r');
    return (cr >= 0 ? l.slice(cr + 1) : l).replace(/\t/g, '    ');
  });
}
