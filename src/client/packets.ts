/**
 * Reading the run area's `.meta/` packets as a client, defensively: the folder is shared, so any
 * file may be garbage, huge, a symlink or a forgery. The token and the area id, which servers
 * read too, are in config/meta-files.ts.
 */
import { constants, closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import { MAX_PACKET_BYTES, PACKET_NAME, sha1, validatePacket, type FoundPacket } from '../model/protocol.js';

/**
 * Every packet file in `metaDir` that is a regular file of sane size whose content matches its
 * name and parses as a packet. Others are skipped with a note to `debug`.
 */
export function readPackets(metaDir: string, debug: (message: string) => void): FoundPacket[] {
  const found: FoundPacket[] = [];
  for (const entry of inspectPackets(metaDir)) {
    if (entry.found) found.push(entry.found);
    else debug(`ignoring packet ${entry.file}: ${entry.problem}`);
  }
  return found;
}

/** Every file in `metaDir` named like a packet, with the packet it holds or what is wrong with it. */
export function inspectPackets(metaDir: string): Array<{ file: string; found?: FoundPacket; problem?: string }> {
  let names: string[];
  try {
    names = readdirSync(metaDir);
  } catch {
    return [];
  }
  return names
    .filter((name) => PACKET_NAME.test(name))
    .map((name) => {
      const file = path.join(metaDir, name);
      const result = readPacketFile(file, name.slice(0, 40));
      return typeof result === 'string' ? { file, problem: result } : { file, found: result };
    });
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
