/**
 * Small files in shared folders (the run area's `.meta/`): read if there, create once, replace
 * atomically, remove if there. Written for network filesystems: no locks, only link and rename.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { runAreaUnwritable } from './errors.js';

/** The trimmed content of a small text file, or undefined when it does not exist. */
export function readSmallFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes `text` to `file` unless the file exists; returns what the file holds afterwards. */
export function createFileOnce(file: string, text: string, mode: number): string {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${text}\n`, { mode });
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return readSmallFile(file) ?? text;
}

/** Replaces `file` with `text` in one step (temp file + rename); no temp file is left on failure. */
export function writeFileAtomic(file: string, text: string, mode: number): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, text, { mode });
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never made, or already gone
    }
    throw err;
  }
}

/** Removes a file; one already gone is fine. */
export function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Creates folders (0750: for the group that shares the run area, not for everyone). */
export function makeDirs(...dirs: string[]): void {
  for (const dir of dirs) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o750 });
    } catch (err) {
      throw runAreaUnwritable(dir, err);
    }
  }
}

/** A file that is there but is not a regular file (a FIFO, a folder, a device): reading it would hang or fail. */
export class NotARegularFileError extends Error {
  readonly code = 'ENOTREG';
  /** what it is instead: `a FIFO`, `a folder`, … */
  readonly kind: string;
  constructor(file: string, kind: string) {
    super(`${file} is ${kind}, not a regular file`);
    this.kind = kind;
    this.name = 'NotARegularFileError';
  }
}

/**
 * Reads a whole text file that must be a regular file. Opened without blocking and checked before
 * reading: a FIFO put where a config file belongs would otherwise block the process for good (and,
 * since the read is synchronous, deaf to SIGTERM).
 */
export function readRegularFile(file: string): string {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      const kind = st.isFIFO() ? 'a FIFO' : st.isDirectory() ? 'a folder' : st.isSocket() ? 'a socket' : 'a device';
      throw new NotARegularFileError(file, kind);
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** What a small file holds: its trimmed text, nothing, or something that cannot be it. */
export type SmallFileRead = { kind: 'ok'; text: string } | { kind: 'missing' } | { kind: 'damaged'; why: string };

/**
 * Reads a small text file of a shared folder defensively: at most `maxBytes`, never through a
 * symlink, never waiting on a FIFO. Errors other than "not there" (a folder the user cannot read)
 * are thrown.
 */
export function readSmallFileSafely(file: string, maxBytes: number): SmallFileRead {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    if (code === 'ELOOP') return { kind: 'damaged', why: 'it is a symbolic link' };
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: 'damaged', why: 'it is not a regular file' };
    if (st.size === 0) return { kind: 'damaged', why: 'it is empty' };
    if (st.size > maxBytes) return { kind: 'damaged', why: `it is ${st.size} bytes` };
    const buf = Buffer.alloc(st.size);
    const text = buf
      .subarray(0, readSync(fd, buf, 0, st.size, 0))
      .toString('latin1')
      .trim();
    return text === '' ? { kind: 'damaged', why: 'it holds only blanks' } : { kind: 'ok', text };
  } finally {
    closeSync(fd);
  }
}
