/**
 * Signed requests (docs/security.md): what a client signs and how it says so, shared by the
 * client and the server. A client proves who it is once per server with its Ed25519 key
 * (`POST /v1/id/session`, key-signed, carrying an X25519 public key); both sides derive a session
 * key from the exchange, and every later write carries an HMAC of method, path, time, nonce and
 * body under that key. One Ed25519 verification costs the server about as much as a whole write;
 * an HMAC costs it a few microseconds.
 */
import { createHash, createHmac, hkdfSync, type KeyObject } from 'node:crypto';

/** The header every signed request carries. */
export const SIGNATURE_HEADER = 'x-trellis-signature';
/** The path of the handshake. */
export const SESSION_PATH = '/v1/id/session';
/** How far a request's time may be from the server's clock (ms). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/** How long a session lasts (ms); the client starts another when the server has forgotten it. */
export const SESSION_TTL_MS = 60 * 60_000;

/** User names as `.meta/users/<name>.pub` and `[setup] admins` hold them (POSIX login names). */
export const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;

/** A request signed with the user's key: the handshake. */
export interface KeySignature {
  kind: 'key';
  user: string;
  /** the key's fingerprint (keyFingerprint) */
  key: string;
  time: number;
  nonce: string;
  /** the client's X25519 public key, base64url of its raw 32 bytes */
  dh: string;
  sig: string;
}

/** A request signed with a session key. */
export interface SessionSignature {
  kind: 'session';
  session: string;
  time: number;
  /** the request's number in its session: 1, 2, 3… (SEQ_WINDOW of server/identity-gate.ts) */
  nonce: string;
  mac: string;
}

export type RequestSignature = KeySignature | SessionSignature;

/** The handshake's answer. */
export interface SessionAnswer {
  session: string;
  /** the server's X25519 public key, base64url */
  dh: string;
  /** the user the server verified */
  user: string;
  ttlMs: number;
}

const B64 = /^[A-Za-z0-9_-]{1,200}$/;

/** The header's text. */
export function formatSignature(s: RequestSignature): string {
  return s.kind === 'key'
    ? `v1 user=${s.user} key=${s.key} t=${s.time} n=${s.nonce} dh=${s.dh} sig=${s.sig}`
    : `v1 session=${s.session} t=${s.time} n=${s.nonce} mac=${s.mac}`;
}

/** Every write carries one: read with one regular expression (a tenth of the general parse's cost). */
const SESSION_FORM = /^v1 session=([A-Za-z0-9_-]{1,200}) t=(\d{1,16}) n=([A-Za-z0-9_-]{1,200}) mac=([A-Za-z0-9_-]{1,200})$/;

/** The header parsed; undefined when it is not one this version writes. */
export function parseSignature(text: string): RequestSignature | undefined {
  if (text.length > 1000) return undefined;
  const m = SESSION_FORM.exec(text);
  if (m !== null) return { kind: 'session', session: m[1]!, time: Number(m[2]), nonce: m[3]!, mac: m[4]! };
  const parts = text.split(' ');
  if (parts[0] !== 'v1') return undefined;
  const f = new Map<string, string>();
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    if (eq <= 0 || f.has(p.slice(0, eq))) return undefined;
    f.set(p.slice(0, eq), p.slice(eq + 1));
  }
  const time = Number(f.get('t'));
  const nonce = f.get('n') ?? '';
  if (!Number.isSafeInteger(time) || !B64.test(nonce)) return undefined;
  const session = f.get('session');
  if (session !== undefined) {
    const mac = f.get('mac') ?? '';
    return f.size === 4 && B64.test(session) && B64.test(mac) ? { kind: 'session', session, time, nonce, mac } : undefined;
  }
  const user = f.get('user') ?? '';
  const key = f.get('key') ?? '';
  const dh = f.get('dh') ?? '';
  const sig = f.get('sig') ?? '';
  if (f.size !== 6 || !USER_NAME.test(user) || !B64.test(key) || !B64.test(dh) || !B64.test(sig)) return undefined;
  return { kind: 'key', user, key, time, nonce, dh, sig };
}

/** What the user's key signs in a handshake: everything of the request, bound to the area. */
export function keySignedMessage(
  areaId: string,
  method: string,
  path: string,
  s: Omit<KeySignature, 'sig' | 'kind'>,
  body: Buffer,
): Buffer {
  const hash = createHash('sha256').update(body).digest('hex');
  return Buffer.from(['trellis-v1 key', areaId, method, path, s.user, s.key, s.time, s.nonce, s.dh, hash].join('\n'));
}

/** The MAC of a session-signed request: method, path, time, nonce, then the body itself (raw bytes). */
export function sessionMacBytes(key: KeyObject | Buffer, method: string, path: string, time: number, nonce: string, body: Buffer): Buffer {
  return createHmac('sha256', key).update(`trellis-v1 mac\n${method}\n${path}\n${time}\n${nonce}\n`).update(body).digest();
}

/** The MAC as the header carries it (base64url). */
export function sessionMac(key: KeyObject | Buffer, method: string, path: string, time: number, nonce: string, body: Buffer): string {
  return sessionMacBytes(key, method, path, time, nonce, body).toString('base64url');
}

/** The session key both sides derive from the X25519 secret, bound to the handshake's nonce and the session id. */
export function deriveSessionKey(shared: Buffer, nonce: string, session: string): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.from(nonce), Buffer.from(`trellis session ${session}`), 32));
}

/**
 * The user a `who` text names: `alice@h1` and `alice via web` name alice. The web view acts for
 * the people logged in to it: its `who` ends with ` via web`.
 */
export function claimedUser(who: string): { user: string; delegated: boolean } {
  let end = 0;
  while (end < who.length && who[end] !== '@' && who[end] !== ' ' && who[end] !== '\t') end++;
  return { user: who.slice(0, end), delegated: who.endsWith(' via web') };
}
