/**
 * Reading the run area's `.meta/` as a client: the packets (defensively: the folder is shared, so
 * any file may be garbage, huge, a symlink or a forgery), the token and the area id.
 */
import { constants, closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import type { RunAreaPaths } from '../config/paths.js';
import { MAX_PACKET_BYTES, PACKET_NAME, sha1, validatePacket, type FoundPacket } from '../model/protocol.js';
import { TrellisError } from '../util/errors.js';
import { readSmallFile } from '../util/files.js';

/**
 * Every packet file in `metaDir` that is a regular file of sane size whose content matches its
 * name and parses as a packet. Others are skipped with a note to `debug`.
 */
export function readPackets(metaDir: string, debug: (message: string) => void): FoundPacket[] {
  let names: string[];
  try {
    names = readdirSync(metaDir);
  } catch {
    return [];
  }
  const found: FoundPacket[] = [];
  for (const name of names) {
    if (!PACKET_NAME.test(name)) continue;
    const file = path.join(metaDir, name);
    const result = readPacketFile(file, name.slice(0, 40));
    if (typeof result === 'string') debug(`ignoring packet ${file}: ${result}`);
    else found.push(result);
  }
  return found;
}

function readPacketFile(file: string, name: string): FoundPacket | string {
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink planted in .meta must not make us read (or trust) another file.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    return `cannot open it (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return 'not a regular file';
    if (st.size === 0) return 'empty';
    if (st.size > MAX_PACKET_BYTES) return `too big (${st.size} bytes)`;
    const buf = Buffer.alloc(st.size);
    const bytes = buf.subarray(0, readSync(fd, buf, 0, st.size, 0));
    if (sha1(bytes) !== name) return 'its content does not match its name';
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch {
      return 'not JSON';
    }
    const packet = validatePacket(value);
    if (typeof packet === 'string') return packet;
    return { file, sha1: name, packet, touched: st.mtimeMs / 1000 };
  } finally {
    closeSync(fd);
  }
}

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
