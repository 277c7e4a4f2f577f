/**
 * The server's side of `.meta/`: it creates the area id (once, by whoever comes first: temp file +
 * link, so racing processes agree) and writes and touches its packet; token-keeper.ts keeps the token.
 */
import { closeSync, constants, fstatSync, openSync, readSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { readAreaDirFile, readAreaIdState } from '../config/meta-files.js';
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
 * a database; refuses when `.meta/` belongs to another area (a copied or mixed-up run area). A
 * damaged file (empty, garbled) is written again.
 */
export function ensureAreaIdFile(paths: RunAreaPaths, areaId: string): void {
  const read = readAreaIdState(paths);
  if (read.kind === 'damaged') writeFileAtomic(paths.areaIdFile, `${areaId}\n`, 0o640);
  const recorded = read.kind === 'ok' ? read.text : read.kind === 'missing' ? createFileOnce(paths.areaIdFile, areaId, 0o640) : areaId;
  if (recorded !== areaId) {
    throw new TrellisError(
      'AREA_MISMATCH',
      `${paths.areaIdFile} says area ${recorded} but ${paths.mainDb} is area ${areaId}`,
      `the .meta folder belongs to another run area; remove ${paths.metaDir} if this run area is the right one`,
    );
  }
}

/**
 * While a server runs, `.meta/area-id` must say what its main.db says, or clients take it for
 * another area's server: written again when it does not. Returns what was wrong, if anything.
 */
export function keepAreaIdFile(paths: RunAreaPaths, areaId: string): string | undefined {
  const read = readAreaIdState(paths);
  if (read.kind === 'ok' && read.text === areaId) return undefined;
  writeFileAtomic(paths.areaIdFile, `${areaId}\n`, 0o640);
  return read.kind === 'ok' ? `it said ${read.text}` : read.kind === 'missing' ? 'it was removed' : read.why;
}

/**
 * The test area whose [setup] a server obeys: the one it was started with, recorded in
 * `.meta/area-dir` for servers started with --runarea alone; else the one recorded there.
 */
export function followAreaDir(paths: RunAreaPaths, areaDir: string | undefined, warn: (line: string) => void): string | undefined {
  const recorded = readAreaDirFile(paths);
  if (areaDir === undefined) return recorded;
  if (recorded !== areaDir) {
    try {
      writeFileAtomic(paths.areaDirFile, `${areaDir}\n`, 0o644);
    } catch (err) {
      warn(`cannot record the area folder in ${paths.areaDirFile}: ${(err as Error).message}`);
    }
  }
  return areaDir;
}

/** Writes the packet into `metaDir` (temp file + rename, mode 0640); returns its path. */
export function writePacket(metaDir: string, packet: Packet): string {
  const { text, sha1 } = encodePacket(packet);
  const file = path.join(metaDir, `${sha1}.pkt`);
  writeFileAtomic(file, text, 0o640);
  return file;
}

/**
 * Marks the packet alive; false when it is gone (removed by someone who took it for dead) or, when
 * `expected` is given, no longer holds those bytes (garbled, truncated or replaced: clients would
 * skip it and start a server that can only wait for this one's lease). The caller writes it again.
 */
export function touchPacket(file: string, now: number, expected?: string): boolean {
  try {
    if (expected !== undefined && !holds(file, expected)) return false;
    utimesSync(file, now, now);
    return true;
  } catch {
    return false;
  }
}

function holds(file: string, expected: string): boolean {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const want = Buffer.from(expected);
    const st = fstatSync(fd);
    if (!st.isFile() || st.size !== want.length) return false;
    const got = Buffer.alloc(want.length);
    return readSync(fd, got, 0, got.length, 0) === got.length && got.equals(want);
  } finally {
    closeSync(fd);
  }
}
