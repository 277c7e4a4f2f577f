/**
 * The server's side of `.meta/`: it creates the area id (once, by whoever comes first: temp file +
 * link, so racing processes agree) and writes and touches its packet; token-keeper.ts keeps the token.
 */
import { utimesSync } from 'node:fs';
import path from 'node:path';
import { readAreaIdFile } from '../config/meta-files.js';
import type { RunAreaPaths } from '../config/paths.js';
import { encodePacket, type Packet } from '../model/protocol.js';
import { TrellisError } from '../util/errors.js';
import { createFileOnce, makeDirs, writeFileAtomic } from '../util/files.js';

/** Creates `.meta/` and its `logs/`. */
export function ensureMetaDir(paths: RunAreaPaths): void {
  makeDirs(paths.metaDir, paths.logsDir);
}

/**
 * Records main.db's area id in `.meta/` so clients can check a server's /health without opening
 * a database; refuses when `.meta/` belongs to another area (a copied or mixed-up run area).
 */
export function ensureAreaIdFile(paths: RunAreaPaths, areaId: string): void {
  const recorded = readAreaIdFile(paths) ?? createFileOnce(paths.areaIdFile, areaId, 0o640);
  if (recorded !== areaId) {
    throw new TrellisError(
      'AREA_MISMATCH',
      `${paths.areaIdFile} says area ${recorded} but ${paths.mainDb} is area ${areaId}`,
      `the .meta folder belongs to another run area; remove ${paths.metaDir} if this run area is the right one`,
    );
  }
}

/** Writes the packet into `metaDir` (temp file + rename, mode 0640); returns its path. */
export function writePacket(metaDir: string, packet: Packet): string {
  const { text, sha1 } = encodePacket(packet);
  const file = path.join(metaDir, `${sha1}.pkt`);
  writeFileAtomic(file, text, 0o640);
  return file;
}

/** Marks the packet alive; false when it is gone (removed by someone who took it for dead). */
export function touchPacket(file: string, now: number): boolean {
  try {
    utimesSync(file, now, now);
    return true;
  } catch {
    return false;
  }
}
