/**
 * The head and tail of a log file, reading only those bytes: a step's log may be 50 MB (or still
 * growing), and a report of 10,000 tests must not read whole files into memory.
 */
import fs from 'node:fs';

/** What a report shows of one log. */
export interface LogExcerpt {
  /** the file's size when it was read (bytes) */
  size: number;
  /** the start of the file; the whole file when nothing was cut */
  head: string;
  /** the end of the file when its middle was cut, else '' */
  tail: string;
  /** bytes left out between head and tail (0: the whole file is in head) */
  cut: number;
  /** why the file could not be read (then head and tail are empty) */
  error?: string;
}

/**
 * Reads at most `headBytes` from the start and `tailBytes` from the end of `file`. Cuts fall on
 * line ends where one is near, so no line is shown in part; bytes that are not UTF-8 become U+FFFD.
 */
export function readLogExcerpt(file: string, headBytes: number, tailBytes: number): LogExcerpt {
  let fd: number;
  try {
    // Non-blocking, so a log replaced by a FIFO cannot hang a report or the dashboard.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    return { size: 0, head: '', tail: '', cut: 0, error: describeError(err) };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { size: 0, head: '', tail: '', cut: 0, error: 'not a regular file' };
    const size = st.size;
    if (size <= headBytes + tailBytes) {
      const all = readAt(fd, 0, size);
      return { size, head: all.toString('utf8'), tail: '', cut: 0 };
    }
    const head = trimToLastNewline(readAt(fd, 0, headBytes));
    // One byte more, before the tail: a tail that already starts a line loses nothing.
    const tail = trimToFirstNewline(readAt(fd, size - tailBytes - 1, tailBytes + 1));
    return { size, head: head.toString('utf8'), tail: tail.toString('utf8'), cut: size - head.length - tail.length };
  } catch (err) {
    return { size: 0, head: '', tail: '', cut: 0, error: describeError(err) };
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads up to `length` bytes at `position` (fewer if the file shrank meanwhile). */
function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/** Ends the head after its last newline, when that is in its second half. */
function trimToLastNewline(buf: Buffer): Buffer {
  const nl = buf.lastIndexOf(0x0a);
  return nl >= buf.length / 2 ? buf.subarray(0, nl + 1) : buf;
}

/**
 * Starts the tail after its first newline when that is in its first half; `buf` begins with the
 * byte before the tail, which is dropped in any case.
 */
function trimToFirstNewline(buf: Buffer): Buffer {
  const nl = buf.indexOf(0x0a);
  return nl >= 0 && nl < buf.length / 2 ? buf.subarray(nl + 1) : buf.subarray(1);
}

function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(err);
}
