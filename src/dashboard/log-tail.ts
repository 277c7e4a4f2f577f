/**
 * Reads the end of a step's log for the detail view: the last bytes only (logs can be gigabytes),
 * as lines fit for a terminal (escape sequences and carriage-return redraws removed).
 */
import fs from 'node:fs/promises';
import type { LogTail } from './detail-view.js';

/** Most bytes read from the end of a log. */
const TAIL_BYTES = 64 * 1024;

/** The last `maxLines` lines of `file`; a missing or unreadable file says why instead. */
export async function readLogTail(file: string, maxLines = 200): Promise<LogTail> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const st = await handle.stat();
    if (!st.isFile()) return { file, lines: [], error: 'not a regular file' };
    const start = Math.max(0, st.size - TAIL_BYTES);
    const buf = Buffer.alloc(st.size - start);
    const { bytesRead } = await handle.read(buf, 0, buf.length, start);
    return { file, lines: toLines(buf.subarray(0, bytesRead).toString('utf8'), start > 0, maxLines) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { file, lines: [], error: code === 'ENOENT' ? 'not written yet' : (err as Error).message };
  } finally {
    await handle?.close();
  }
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
