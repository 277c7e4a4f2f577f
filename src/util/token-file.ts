/**
 * The run area's token file (`.meta/token`), read defensively: the folder is shared, so the file
 * may be empty, huge, garbage, a symlink or a FIFO. A token is exactly 64 lowercase hex digits
 * (32 random bytes); anything else is damaged and is never sent anywhere — not as a header (100
 * random bytes make Node refuse the request, 6 MB make the server reset the connection) and not
 * as a key. Servers replace a damaged token with their own (server/token-keeper.ts).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { renameSync } from 'node:fs';
import { readSmallFileSafely, writeFileAtomic } from './files.js';

/** What a token looks like. */
const TOKEN_PATTERN = /^[0-9a-f]{64}$/;
/** More than a token and its newline is not a token; nothing past this is read. */
const MAX_TOKEN_FILE = 4096;

/** What the token file holds. */
export type TokenRead =
  | { kind: 'ok'; token: string }
  | { kind: 'missing' }
  /** there, but not a token: says what is wrong with it */
  | { kind: 'damaged'; why: string };

/** A new random token. */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** True when `text` is a well-formed token. */
export function isToken(text: string): boolean {
  return TOKEN_PATTERN.test(text);
}

/**
 * Reads the token file: never more than 4 KiB, never through a symlink, never waiting on a FIFO.
 * Errors other than "not there" (a folder the user cannot read) are thrown.
 */
export function readTokenFile(file: string): TokenRead {
  const read = readSmallFileSafely(file, MAX_TOKEN_FILE);
  if (read.kind !== 'ok')
    return read.kind === 'damaged' && /bytes$/.test(read.why) ? { kind: 'damaged', why: `${read.why}, not a 64-digit token` } : read;
  if (!isToken(read.text)) return { kind: 'damaged', why: 'it does not hold a 64-digit hex token' };
  return { kind: 'ok', token: read.text };
}

/** Writes `token` to `file` in one step; a folder in the way is moved aside (kept, not deleted). */
export function writeTokenOver(file: string, token: string): void {
  try {
    writeFileAtomic(file, `${token}\n`, 0o640);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    renameSync(file, `${file}.damaged-${Date.now()}`);
    writeFileAtomic(file, `${token}\n`, 0o640);
  }
}

// ---- the health check's proofs: each side shows it knows the token without sending it ----

const mac = (token: string, text: string) => createHmac('sha256', token).update(text).digest('hex');

/** A fresh nonce for one health check. */
export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** The client's proof for `GET /v1/health`, bound to its nonce. */
export function healthRequestProof(token: string, nonce: string): string {
  return mac(token, `trellis health request\n${nonce}`);
}

/** The server's proof in its answer, bound to the client's nonce and the area it serves. */
export function healthAnswerProof(token: string, nonce: string, areaId: string): string {
  return mac(token, `trellis health answer\n${nonce}\n${areaId}`);
}

/** Compares two hex proofs in constant time. */
export function sameProof(a: string, b: string): boolean {
  const x = Buffer.from(a, 'latin1');
  const y = Buffer.from(b, 'latin1');
  return x.length === y.length && timingSafeEqual(x, y);
}
