/**
 * Small files in shared folders (the run area's `.meta/`): read if there, create once, replace
 * atomically, remove if there. Written for network filesystems: no locks, only link and rename.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
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
