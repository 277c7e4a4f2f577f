/** A run database on disk is up to three files: `<id>.db` and its `-wal` and `-shm` companions. */
import { existsSync, renameSync, rmSync } from 'node:fs';

const SUFFIXES = ['', '-wal', '-shm'] as const;

/** Deletes a run database with its WAL and shared-memory files (close it first). */
export function deleteRunDbFiles(file: string): void {
  for (const suffix of SUFFIXES) rmSync(file + suffix, { force: true });
}

/**
 * Moves a run database that is not the run's (left from an earlier main.db) to
 * `<file>.orphan-<stamp>`, keeping its WAL beside it so nothing in it is lost. Returns the new
 * name, or undefined when there was no such file.
 */
export function moveRunDbAside(file: string, stamp: number): string | undefined {
  if (!existsSync(file)) return undefined;
  const aside = `${file}.orphan-${stamp}`;
  for (const suffix of SUFFIXES) {
    if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
  }
  return aside;
}
