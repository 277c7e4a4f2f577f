/**
 * The run area's `.meta/` files that servers and clients both read: the token every request
 * carries and the area id a health check compares. Servers create them (server/meta.ts,
 * server/token-keeper.ts); this module only reads, so both sides import it without the server
 * layer importing the client's.
 */
import { TrellisError } from '../util/errors.js';
import { readSmallFileSafely, type SmallFileRead } from '../util/files.js';
import { readTokenFile, type TokenRead } from '../util/token-file.js';
import type { RunAreaPaths } from './paths.js';

function unreadable(file: string, err: unknown): TrellisError {
  return new TrellisError(
    'RUNAREA_UNWRITABLE',
    `cannot read ${file}: ${(err as Error).message}`,
    'you need read access to the run area to use its server; check [setup] runarea or --runarea',
  );
}

/** What the area's token file holds: a token, nothing yet, or something damaged (never sent anywhere). */
export function readToken(paths: RunAreaPaths): TokenRead {
  try {
    return readTokenFile(paths.tokenFile);
  } catch (err) {
    throw unreadable(paths.tokenFile, err);
  }
}

/** The area's token when the file holds a valid one, else undefined. */
export function validToken(paths: RunAreaPaths): string | undefined {
  const read = readToken(paths);
  return read.kind === 'ok' ? read.token : undefined;
}

/** What an area id looks like (main.db makes it: 16 random bytes in hex). */
const AREA_ID = /^[0-9a-f]{32}$/;

/** What `.meta/area-id` holds: an id, nothing yet, or something that is not one. */
export function readAreaIdState(paths: RunAreaPaths): SmallFileRead {
  let read: SmallFileRead;
  try {
    read = readSmallFileSafely(paths.areaIdFile, 4096);
  } catch (err) {
    throw unreadable(paths.areaIdFile, err);
  }
  if (read.kind === 'ok' && !AREA_ID.test(read.text)) return { kind: 'damaged', why: 'it does not hold a 32-digit hex area id' };
  return read;
}

/** The area id recorded in `.meta/`; undefined before the first server, or when the file is damaged. */
export function readAreaIdFile(paths: RunAreaPaths): string | undefined {
  const read = readAreaIdState(paths);
  return read.kind === 'ok' ? read.text : undefined;
}

/** The test area folder `.meta/area-dir` records (server/meta.ts writes it), if any. */
export function readAreaDirFile(paths: RunAreaPaths): string | undefined {
  try {
    const read = readSmallFileSafely(paths.areaDirFile, 4096);
    return read.kind === 'ok' ? Buffer.from(read.text, 'latin1').toString('utf8') : undefined;
  } catch {
    return undefined;
  }
}
