/**
 * Heartbeat packets (design §5): one small JSON file per live server in the run area's `.meta/`,
 * named by the SHA-1 of its content. A server writes its packet atomically and touches it every
 * 10 s; a client reads them all, drops whatever it cannot trust and takes the left-most in the
 * documented order. Reading is defensive: the folder is shared, so any file may be garbage.
 */
import { createHash } from 'node:crypto';
import { constants, closeSync, fstatSync, openSync, readdirSync, readSync, renameSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';

export const INVOCATIONS = ['dboard', 'runner', 'other', 'exec'] as const;
export type Invocation = (typeof INVOCATIONS)[number];

export interface Packet {
  host: string;
  /** an IP address of the server's host that other hosts can reach */
  address: string;
  port: number;
  pid: number;
  invocation: Invocation;
  /** seconds since the epoch */
  started: number;
  version: string;
  areaId: string;
}

/** A packet as found on disk. */
export interface FoundPacket {
  file: string;
  sha1: string;
  packet: Packet;
  /** last touch, seconds since the epoch */
  touched: number;
}

/** A server touches its packet this often (seconds). */
export const TOUCH_INTERVAL = 10;
/** A packet not touched for this long (seconds) is stale: its server is ignored. */
export const STALE_AFTER = 30;
/** Packets are a few hundred bytes; anything bigger is not one. */
export const MAX_PACKET_BYTES = 4096;

/** Hosts' clocks differ a little; a start time this far (seconds) ahead is still believed. */
const CLOCK_SLACK = 5;

const PACKET_NAME = /^[0-9a-f]{40}\.pkt$/;

/** The bytes of a packet and their SHA-1, which names the file. */
export function encodePacket(packet: Packet): { text: string; sha1: string } {
  const p = packet;
  const ordered: Packet = {
    host: p.host, address: p.address, port: p.port, pid: p.pid, invocation: p.invocation,
    started: p.started, version: p.version, areaId: p.areaId,
  };
  const text = `${JSON.stringify(ordered)}\n`;
  return { text, sha1: createHash('sha1').update(text).digest('hex') };
}

/** Writes the packet into `metaDir` (temp file + rename, mode 0640); returns its path. */
export function writePacket(metaDir: string, packet: Packet): string {
  const { text, sha1 } = encodePacket(packet);
  const file = path.join(metaDir, `${sha1}.pkt`);
  const tmp = path.join(metaDir, `.${sha1}.${process.pid}.tmp`);
  writeFileSync(tmp, text, { mode: 0o640 });
  renameSync(tmp, file);
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

/** Removes a packet file; a file already gone is fine. */
export function removePacket(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

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

function readPacketFile(file: string, sha1: string): FoundPacket | string {
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
    const n = readSync(fd, buf, 0, st.size, 0);
    const bytes = buf.subarray(0, n);
    if (createHash('sha1').update(bytes).digest('hex') !== sha1) return 'its content does not match its name';
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch {
      return 'not JSON';
    }
    const packet = validatePacket(value);
    if (typeof packet === 'string') return packet;
    return { file, sha1, packet, touched: st.mtimeMs / 1000 };
  } finally {
    closeSync(fd);
  }
}

/** Checks the shape of a parsed packet; returns it typed, or what is wrong. */
export function validatePacket(value: unknown): Packet | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const v = value as Record<string, unknown>;
  const str = (k: string, max: number) => typeof v[k] === 'string' && (v[k] as string).length > 0 && (v[k] as string).length <= max;
  const int = (k: string, lo: number, hi: number) => Number.isInteger(v[k]) && (v[k] as number) >= lo && (v[k] as number) <= hi;
  if (!str('host', 255)) return 'bad host';
  if (typeof v['address'] !== 'string' || isIP(v['address']) === 0) return 'bad address';
  if (!int('port', 1, 65535)) return 'bad port';
  if (!int('pid', 1, 2 ** 31)) return 'bad pid';
  if (!INVOCATIONS.includes(v['invocation'] as Invocation)) return 'bad invocation';
  if (typeof v['started'] !== 'number' || !Number.isFinite(v['started']) || v['started'] <= 0) return 'bad started';
  if (!str('version', 64)) return 'bad version';
  if (!str('areaId', 128)) return 'bad areaId';
  return v as unknown as Packet;
}

/**
 * The packets a client should try, best first (design §5): fresh ones only; invocation dboard →
 * runner → other → exec; then the shortest run so far; then SHA-1. A packet claiming to have
 * started in the future cannot be trusted to mean anything and goes last.
 */
export function choosePackets(found: readonly FoundPacket[], now: number): FoundPacket[] {
  const fresh = found.filter((f) => now - f.touched <= STALE_AFTER);
  const key = (f: FoundPacket) => ({
    future: f.packet.started > now + CLOCK_SLACK ? 1 : 0,
    tier: INVOCATIONS.indexOf(f.packet.invocation),
    uptime: now - f.packet.started,
  });
  return fresh
    .map((f) => ({ f, k: key(f) }))
    .sort((a, b) => a.k.future - b.k.future || a.k.tier - b.k.tier || a.k.uptime - b.k.uptime || (a.f.sha1 < b.f.sha1 ? -1 : 1))
    .map((x) => x.f);
}
