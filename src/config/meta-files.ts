/**
 * The run area's `.meta/` files that servers and clients both read: the token every request
 * carries and the area id a health check compares. Servers create them (server/meta.ts,
 * server/token-keeper.ts); this module only reads, so both sides import it without the server
 * layer importing the client's.
 */
import { TrellisError } from '../util/errors.js';
import { readSmallFile } from '../util/files.js';
import { readTokenFile, type TokenRead } from '../util/token-file.js';
import type { RunAreaPaths } from './paths.js';

function unreadable(file: string, err: unknown): TrellisError {
  return new TrellisError(
    'RUNAREA_UNWRITABLE',
    `cannot read ${file}: ${(err as Error).message}`,
    'you need read access to the run area to use its server; check [setup] runarea or --runarea',
  );
}

function readMetaFile(file: string): string | undefined {
  try {
    const text = readSmallFile(file);
    return text === '' ? undefined : text;
  } catch (err) {
    throw unreadable(file, err);
  }
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

/** The area id recorded in `.meta/`, or undefined before the first server. */
export function readAreaIdFile(paths: RunAreaPaths): string | undefined {
  return readMetaFile(paths.areaIdFile);
}
