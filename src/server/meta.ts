/**
 * The run area's `.meta/` folder: the access token and the area id. Both are created once, by
 * whoever needs them first, without a lock: each is written to a temp file and linked into place,
 * so racing processes agree on the first one written.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunAreaPaths } from '../config/paths.js';
import { makeUnwritableError } from '../db/open.js';
import { TrellisError } from '../util/errors.js';

/** Creates `.meta/` (0750: for the group that shares the run area, not for everyone). */
export function ensureMetaDir(paths: RunAreaPaths): void {
  try {
    mkdirSync(paths.metaDir, { recursive: true, mode: 0o750 });
    mkdirSync(path.dirname(paths.serverLog('h', 1)), { recursive: true, mode: 0o750 });
  } catch (err) {
    throw makeUnwritableError(paths.metaDir, err);
  }
}

/** Reads a small text file; undefined when it does not exist. */
function readSmall(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TrellisError(
      'RUNAREA_UNWRITABLE',
      `cannot read ${file}: ${(err as Error).message}`,
      'you need read access to the run area to use its server; check [setup] runarea or --runarea',
    );
  }
}

/** Writes `text` to `file` unless it exists (mode 0640); returns what the file holds after. */
function createOnce(file: string, text: string): string {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${text}\n`, { mode: 0o640 });
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return readSmall(file) ?? text;
}

/** The area's token, or undefined when no server was ever started here. */
export function readToken(paths: RunAreaPaths): string | undefined {
  const token = readSmall(paths.tokenFile);
  return token === '' ? undefined : token;
}

/** The area's token, created on first use. */
export function ensureToken(paths: RunAreaPaths): string {
  ensureMetaDir(paths);
  return readToken(paths) ?? createOnce(paths.tokenFile, randomBytes(32).toString('hex'));
}

/** The area id recorded in `.meta/`, or undefined before the first server. */
export function readAreaIdFile(paths: RunAreaPaths): string | undefined {
  const id = readSmall(paths.areaIdFile);
  return id === '' ? undefined : id;
}

/**
 * Records main.db's area id in `.meta/` so clients can check a server's /health without opening
 * a database; refuses when `.meta/` belongs to another area (a copied or mixed-up run area).
 */
export function ensureAreaIdFile(paths: RunAreaPaths, areaId: string): void {
  const recorded = readAreaIdFile(paths) ?? createOnce(paths.areaIdFile, areaId);
  if (recorded !== areaId) {
    throw new TrellisError(
      'AREA_MISMATCH',
      `${paths.areaIdFile} says area ${recorded} but ${paths.mainDb} is area ${areaId}`,
      `the .meta folder belongs to another run area; remove ${paths.metaDir} if this run area is the right one`,
    );
  }
}
