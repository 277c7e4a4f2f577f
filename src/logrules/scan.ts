/**
 * Judges a log file against a RuleSet in one streaming pass: a 1 MiB buffer, read ahead and cut
 * into blocks of whole lines of about 64 KiB for the matcher, so a 1 GB log never sits in memory.
 * (V8 makes strings of up to 64 KiB at several GB/s, but 6-20× slower above ~128 KiB, where they
 * go to the large-object space: blocks stay small.) A line longer than the buffer is judged by its
 * first 1 MiB.
 */
import fs from 'node:fs';
import { isAscii } from 'node:buffer';
import { TrellisError } from '../util/errors.js';
import { LogMatcher, type LogJudgement } from './matcher.js';
import type { RuleSet } from './rules.js';

const READ_SIZE = 1 << 20;
const BLOCK_SIZE = 64 << 10;

export interface ScanOptions {
  /** seconds since the epoch: rules past their expires: date are not applied */
  now: number;
  /** stops the pass (the promise rejects with the signal's reason) */
  signal?: AbortSignal;
}

/** Judges the log at `file`; a log that is missing or not a regular file rejects with RUNAREA_UNWRITABLE. */
export async function judgeLogFile(file: string, rules: RuleSet, opts: ScanOptions): Promise<LogJudgement> {
  let fh: fs.promises.FileHandle;
  try {
    // Non-blocking, so a log replaced by a FIFO cannot hang the runner.
    fh = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    throw unreadable(file, (err as NodeJS.ErrnoException).code ?? String(err));
  }
  try {
    if (!(await fh.stat()).isFile()) throw unreadable(file, 'not a regular file');
    const matcher = new LogMatcher(rules, opts.now);
    await scan(fh, matcher, opts.signal);
    return matcher.finish();
  } finally {
    await fh.close();
  }
}

/** Judges a log held in memory (small logs, tests): the same matcher, fed in the same blocks. */
export function judgeText(text: string, rules: RuleSet, now: number): LogJudgement {
  const matcher = new LogMatcher(rules, now);
  feedLines(Buffer.from(text, 'utf8'), 0, matcher);
  return matcher.finish();
}

/**
 * Reads ahead: while one buffer's lines are matched, the next read fills the other, so the disk
 * and the matcher work at the same time (about a fifth of the time was spent waiting on reads).
 * Each buffer holds READ_SIZE of new bytes after the unfinished line carried over from the other.
 */
async function scan(fh: fs.promises.FileHandle, matcher: LogMatcher, signal: AbortSignal | undefined): Promise<void> {
  const bufs = [Buffer.allocUnsafe(2 * READ_SIZE), Buffer.allocUnsafe(2 * READ_SIZE)] as const;
  let cur = 0;
  let filled = 0;
  let skipping = false;
  let pending = fh.read(bufs[0], 0, READ_SIZE, null);
  for (;;) {
    const { bytesRead } = await pending;
    signal?.throwIfAborted();
    const eof = bytesRead === 0;
    filled += bytesRead;
    const view = bufs[cur]!.subarray(0, filled);
    let start = 0;
    if (skipping) {
      // The rest of a line longer than READ_SIZE: counted, not matched.
      const nl = view.indexOf(10);
      start = nl === -1 ? filled : nl + 1;
      skipping = nl === -1;
      matcher.feed('', start);
    }
    let cut: number;
    if (eof) cut = filled;
    else {
      const nl = view.lastIndexOf(10);
      if (nl >= start) cut = nl + 1;
      else if (filled - start >= READ_SIZE) {
        // One line of READ_SIZE bytes or more: judge its first READ_SIZE bytes as the line.
        matcher.feed(`${decode(view, start, start + READ_SIZE)}\n`, filled - start);
        skipping = true;
        start = cut = filled;
      } else cut = start;
    }
    const next = bufs[1 - cur]!;
    const carry = filled - cut;
    view.copy(next, 0, cut, filled);
    if (!eof) pending = fh.read(next, carry, READ_SIZE, null);
    feedLines(view.subarray(0, cut), start, matcher);
    if (eof) return;
    cur = 1 - cur;
    filled = carry;
  }
}

/**
 * Feeds `view` from `start` in blocks of whole lines of about BLOCK_SIZE (a longer line is one
 * block); the last line of `view` may lack its line end (the end of the log).
 */
function feedLines(view: Buffer, start: number, matcher: LogMatcher): void {
  while (start < view.length) {
    const limit = Math.min(start + BLOCK_SIZE, view.length);
    const nl = limit === view.length ? limit - 1 : view.lastIndexOf(10, limit - 1);
    let end: number;
    if (nl >= start) end = nl + 1;
    else {
      const next = view.indexOf(10, limit);
      end = next === -1 ? view.length : next + 1;
    }
    matcher.feed(decode(view, start, end), end - start);
    start = end;
  }
}

/** ASCII (most logs) decodes as latin1, the fastest way; anything else as UTF-8. */
function decode(buf: Buffer, start: number, end: number): string {
  return buf.toString(isAscii(buf.subarray(start, end)) ? 'latin1' : 'utf8', start, end);
}

function unreadable(file: string, why: string): TrellisError {
  return new TrellisError(
    'RUNAREA_UNWRITABLE',
    `cannot read log ${file} to apply its rules (${why})`,
    'check that the step wrote its log there',
  );
}
