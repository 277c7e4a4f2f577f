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

/** How many log files `readLogExcerpts` has open at once: enough to overlap NFS round trips, few fds. */
export const LOG_READS_AT_ONCE = 16;

/**
 * Mean time per log (ms) above which `readLogExcerpts` stops reading one by one: a local disk reads
 * a cached log in about 0.02 ms, a network filesystem needs a round trip or more for each.
 */
export const SLOW_LOG_MS = 0.5;

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
    return failed(err);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return failed('not a regular file');
    const plan = planReads(st.size, headBytes, tailBytes);
    return excerptOf(st.size, readAt(fd, 0, plan.head), plan.tail ? readAt(fd, plan.tail.at, plan.tail.length) : undefined);
  } catch (err) {
    return failed(err);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The excerpts of many logs (a report of a whole run). Read one by one while that is fast (a local
 * disk: each read is a few microseconds, and a thread-pool round trip would cost five times more);
 * once the logs read so far took more than `slowMs` each on average (a network filesystem, where each
 * open and read waits for the server), the rest are read `LOG_READS_AT_ONCE` at a time.
 */
export async function readLogExcerpts(
  files: readonly string[],
  headBytes: number,
  tailBytes: number,
  slowMs = SLOW_LOG_MS,
): Promise<Map<string, LogExcerpt>> {
  const out = new Map<string, LogExcerpt>();
  const t0 = performance.now();
  let next = 0;
  // The first few set the pace (a negative slowMs: read everything in parallel).
  while (next < files.length && ((slowMs >= 0 && next < 8) || performance.now() - t0 <= slowMs * next)) {
    const file = files[next++]!;
    out.set(file, readLogExcerpt(file, headBytes, tailBytes));
  }
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++]!;
      out.set(file, await readLogExcerptAsync(file, headBytes, tailBytes));
    }
  };
  if (next === files.length) return out;
  await Promise.all(Array.from({ length: Math.min(LOG_READS_AT_ONCE, files.length - next) }, worker));
  // In the order asked for, whatever order the reads finished in.
  return new Map(files.map((f) => [f, out.get(f)!]));
}

async function readLogExcerptAsync(file: string, headBytes: number, tailBytes: number): Promise<LogExcerpt> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    return failed(err);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return failed('not a regular file');
    const plan = planReads(st.size, headBytes, tailBytes);
    const head = await readAtAsync(fh, 0, plan.head);
    return excerptOf(st.size, head, plan.tail ? await readAtAsync(fh, plan.tail.at, plan.tail.length) : undefined);
  } catch (err) {
    return failed(err);
  } finally {
    await fh.close();
  }
}

/** What to read of a file of `size` bytes: the whole of it as the head, or a head and a tail. */
function planReads(size: number, headBytes: number, tailBytes: number): { head: number; tail?: { at: number; length: number } } {
  if (size <= headBytes + tailBytes) return { head: size };
  // One byte more, before the tail: a tail that already starts a line loses nothing.
  return { head: headBytes, tail: { at: size - tailBytes - 1, length: tailBytes + 1 } };
}

/** The excerpt from what was read: the whole file (no tail read), or head and tail cut at line ends. */
function excerptOf(size: number, head: Buffer, tail: Buffer | undefined): LogExcerpt {
  if (tail === undefined) return { size, head: head.toString('utf8'), tail: '', cut: 0 };
  const h = trimToLastNewline(head);
  const tl = trimToFirstNewline(tail);
  return { size, head: h.toString('utf8'), tail: tl.toString('utf8'), cut: size - h.length - tl.length };
}

function failed(err: unknown): LogExcerpt {
  return { size: 0, head: '', tail: '', cut: 0, error: typeof err === 'string' ? err : describeError(err) };
}

/** As `readAt`, through a file handle. */
async function readAtAsync(fh: fs.promises.FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
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
