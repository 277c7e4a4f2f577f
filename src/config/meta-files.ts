/**
 * The run area's `.meta/` files that servers and clients both read: the token every request
 * carries and the area id a health check compares. Servers create them (server/meta.ts); this
 * module only reads, so both sides import it without the server layer importing the client's.
 */
import { TrellisError } from '../util/errors.js';
import { readSmallFile } from '../util/files.js';
import type { RunAreaPaths } from './paths.js';

function readMetaFile(file: string): string | undefined {
  try {
    const text = readSmallFile(file);
    return text === '' ? undefined : text;
  } catch (err) {
    throw new TrellisError(
      'RUNAREA_UNWRITABLE',
      `cannot read ${file}: ${(err as Error).message}`,
      'you need read access to the run area to use its server; check [setup] runarea or --runarea',
    );
  }
}

/** The area's token, or undefined when no server was ever started here. */
export function readToken(paths: RunAreaPaths): string | undefined {
  return readMetaFile(paths.tokenFile);
}

/** The area id recorded in `.meta/`, or undefined before the first server. */
export function readAreaIdFile(paths: RunAreaPaths): string | undefined {
  return readMetaFile(paths.areaIdFile);
}
