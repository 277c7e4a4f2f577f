/**
 * The server's side of signed requests (model/identity-protocol.ts, docs/security.md): the
 * handshake proves a user by their key, registered in `.meta/users/<user>.pub` by that user (the
 * file's owner uid must be theirs and nobody else may write it), and opens a session; each signed
 * write then carries a MAC under the session's key and a sequence number. Times beyond
 * MAX_CLOCK_SKEW_MS, handshake nonces and sequence numbers seen before are refused, so a captured
 * request cannot be sent again.
 */
import { execFile } from 'node:child_process';
import {
  createPublicKey,
  createSecretKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';
import fs from 'node:fs';
import {
  deriveSessionKey,
  keySignedMessage,
  MAX_CLOCK_SKEW_MS,
  SESSION_TTL_MS,
  sessionMacBytes,
  type KeySignature,
  type RequestSignature,
  type SessionAnswer,
} from '../model/identity-protocol.js';
import { TrellisError } from '../util/errors.js';
import { parsePublicKeys, publicKeyObject, userKeyFile } from '../util/id-keys.js';

/** A user's uid by name; undefined when the system has no such user. */
export type UidLookup = (user: string) => Promise<number | undefined>;

export interface IdentityGateOptions {
  metaDir: string;
  areaId: () => string;
  /** the clock in ms */
  now?: () => number;
  lookupUid?: UidLookup;
}

interface Session {
  user: string;
  key: KeyObject;
  expires: number;
  /** the highest sequence number seen */
  top: number;
  /** the sequence number last seen in each slot (seq % SEQ_WINDOW) */
  seen: Float64Array;
}

/**
 * How far out of order a session's requests may arrive (a client's concurrent requests): a
 * sequence number this far behind the highest one seen is refused as a possible replay.
 */
export const SEQ_WINDOW = 1024;

/** Sessions kept at most; the oldest go first (their clients make new ones). */
const MAX_SESSIONS = 20_000;

export class IdentityGate {
  readonly #opts: IdentityGateOptions;
  readonly #now: () => number;
  readonly #lookupUid: UidLookup;
  readonly #sessions = new Map<string, Session>();
  /** nonce → when it may be forgotten (its time is then beyond the skew) */
  readonly #nonces = new Map<string, number>();
  #sincePrune = 0;

  constructor(opts: IdentityGateOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#lookupUid = opts.lookupUid ?? getentUid;
  }

  /** The user a session-signed request proves (throws when it proves nothing). */
  verifySession(s: Extract<RequestSignature, { kind: 'session' }>, method: string, path: string, body: Buffer): string {
    const session = this.#sessions.get(s.session);
    const now = this.#now();
    if (session === undefined || session.expires < now) {
      if (session) this.#sessions.delete(s.session);
      throw new TrellisError('SESSION_UNKNOWN', 'this server has no such session (it restarted, or the session ended)', 'sign in again');
    }
    this.#checkTime(s.time, now);
    const seq = Number(s.nonce);
    if (!Number.isSafeInteger(seq) || seq < 1) {
      throw new TrellisError(
        'BAD_SIGNATURE',
        `a session's requests are numbered 1, 2, 3…, not '${s.nonce.slice(0, 20)}'`,
        'use a Trellis client of this version',
      );
    }
    const expected = sessionMacBytes(session.key, method, path, s.time, s.nonce, body);
    const given = Buffer.from(s.mac, 'base64url');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new TrellisError(
        'BAD_SIGNATURE',
        `the signature of ${method} ${path} does not match its content`,
        'the request was changed on its way, or was not made by a Trellis client',
      );
    }
    useSequence(session, seq);
    return session.user;
  }

  /** The handshake: verifies the user's key signature and opens a session. */
  async openSession(s: KeySignature, method: string, path: string, body: Buffer): Promise<SessionAnswer> {
    const now = this.#now();
    this.#checkTime(s.time, now);
    const key = await this.#registeredKey(s.user, s.key);
    const message = keySignedMessage(this.#opts.areaId(), method, path, s, body);
    if (!verify(null, message, key, Buffer.from(s.sig, 'base64url'))) {
      throw new TrellisError(
        'BAD_SIGNATURE',
        `the signature does not match ${s.user}'s key ${s.key.slice(0, 12)}…`,
        'the request was changed on its way, or was signed for another area',
      );
    }
    this.#useNonce(`key.${s.nonce}`, s.time);
    let clientDh: KeyObject;
    try {
      clientDh = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: s.dh }, format: 'jwk' });
    } catch {
      throw new TrellisError('BAD_SIGNATURE', 'the handshake carries no usable X25519 key', 'use a Trellis client of this version');
    }
    const mine = generateKeyPairSync('x25519');
    const shared = diffieHellman({ privateKey: mine.privateKey, publicKey: clientDh });
    const session = randomBytes(18).toString('base64url');
    this.#sessions.set(session, {
      user: s.user,
      key: createSecretKey(deriveSessionKey(shared, s.nonce, session)),
      expires: now + SESSION_TTL_MS,
      top: 0,
      seen: new Float64Array(SEQ_WINDOW),
    });
    if (this.#sessions.size > MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    const dh = String(mine.publicKey.export({ format: 'jwk' }).x);
    return { session, dh, user: s.user, ttlMs: SESSION_TTL_MS };
  }

  #checkTime(time: number, now: number): void {
    if (Math.abs(time - now) > MAX_CLOCK_SKEW_MS) {
      const off = Math.round((time - now) / 1000);
      throw new TrellisError(
        'CLOCK_SKEW',
        `the request's time is ${Math.abs(off)} s ${off < 0 ? 'behind' : 'ahead of'} this server's clock (at most ${MAX_CLOCK_SKEW_MS / 1000} s allowed)`,
        "set this host's clock right (NTP), or the server's host's",
      );
    }
  }

  #useNonce(nonce: string, time: number): void {
    const now = this.#now();
    if (this.#nonces.has(nonce)) {
      throw new TrellisError('REPLAYED', 'this handshake was sent before (same nonce): replays are refused', 'make a new request');
    }
    this.#nonces.set(nonce, time + MAX_CLOCK_SKEW_MS);
    if (++this.#sincePrune >= 4096) {
      this.#sincePrune = 0;
      for (const [n, until] of this.#nonces) if (until < now) this.#nonces.delete(n);
    }
  }

  /** The user's registered key with this fingerprint, from a file that user owns and only they may write. */
  async #registeredKey(user: string, fingerprint: string): Promise<KeyObject> {
    const file = userKeyFile(this.#opts.metaDir, user);
    const uid = await this.#lookupUid(user);
    if (uid === undefined) {
      throw new TrellisError(
        'NO_USER',
        `there is no user ${user} on the server's host`,
        'users must be known on every host of the area (the same passwd or directory service)',
      );
    }
    let st: fs.Stats;
    let text: string;
    try {
      st = fs.lstatSync(file);
      text = st.isFile() ? fs.readFileSync(file, 'utf8') : '';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      throw new TrellisError('NO_KEY', `${user} has no key registered in ${file}`, 'run `trellis id register` as that user');
    }
    if (!st.isFile() || st.uid !== uid) {
      throw new TrellisError(
        'KEY_NOT_OWNED',
        `${file} belongs to uid ${st.uid}, not to ${user} (uid ${uid}): only a file ${user} wrote is believed`,
        `remove it; ${user} registers their own key with \`trellis id register\``,
      );
    }
    if ((st.mode & 0o022) !== 0) {
      throw new TrellisError(
        'KEY_NOT_OWNED',
        `${file} may be written by others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}): anyone could have added a key`,
        `${user} runs \`chmod 644 ${file}\` and checks the keys in it`,
      );
    }
    const found = parsePublicKeys(text).find((k) => k.fingerprint === fingerprint);
    if (found === undefined) {
      throw new TrellisError(
        'NO_KEY',
        `the key ${fingerprint.slice(0, 12)}… is not registered in ${file}`,
        'run `trellis id register` as that user',
      );
    }
    return publicKeyObject(found.publicKey);
  }
}

/** Marks a session's sequence number used; a number seen before, or too far behind, is a replay. */
function useSequence(session: Session, seq: number): void {
  const slot = seq % SEQ_WINDOW;
  if (seq <= session.top - SEQ_WINDOW || session.seen[slot] === seq) {
    throw new TrellisError(
      'REPLAYED',
      seq <= session.top - SEQ_WINDOW
        ? `this request (number ${seq} of its session) is older than the last ${SEQ_WINDOW}: refused as a possible replay`
        : `this request was sent before (number ${seq} of its session): replays are refused`,
      'make a new request',
    );
  }
  session.seen[slot] = seq;
  if (seq > session.top) session.top = seq;
}

const uidCache = new Map<string, { uid: number | undefined; until: number }>();

/** `getent passwd USER` (every name service the host uses), cached for a minute. */
export async function getentUid(user: string): Promise<number | undefined> {
  const cached = uidCache.get(user);
  if (cached && cached.until > Date.now()) return cached.uid;
  const uid = await new Promise<number | undefined>((resolve) => {
    execFile('getent', ['passwd', user], { timeout: 10_000 }, (err, stdout) => {
      const fields = err ? [] : String(stdout).split('\n')[0]!.split(':');
      const n = Number(fields[2]);
      resolve(fields[0] === user && Number.isSafeInteger(n) ? n : undefined);
    });
  });
  uidCache.set(user, { uid, until: Date.now() + 60_000 });
  return uid;
}
