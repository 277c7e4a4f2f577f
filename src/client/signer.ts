/**
 * The client's side of signed requests (model/identity-protocol.ts, docs/security.md): the user's
 * key (made under their home on first use, like ssh's), registered in the run area on first use
 * (`.meta/users/<user>.pub`, a file of their own), one handshake per server, then each write
 * signed with the session's key.
 */
import { createPublicKey, createSecretKey, diffieHellman, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import { runAreaPaths } from '../config/paths.js';
import {
  deriveSessionKey,
  formatSignature,
  keySignedMessage,
  SESSION_PATH,
  sessionMac,
  SIGNATURE_HEADER,
  type SessionAnswer,
} from '../model/identity-protocol.js';
import { TrellisError } from '../util/errors.js';
import { loginName } from '../util/host.js';
import { createUserKey, idDir, readUserKey, registerUserKey, type UserKey } from '../util/id-keys.js';
import type { Connection } from './discovery.js';
import { requestJson } from './http.js';
import { answerCode, decodeAnswer } from './answers.js';

export interface SignerOptions {
  runArea: string;
  env: Readonly<Record<string, string | undefined>>;
  /** this host's name, for the key's comment */
  host: string;
  debug: (message: string) => void;
  /** the clock in ms */
  now?: () => number;
}

/** A session with one server: signs requests to it. */
export interface ClientSession {
  user: string;
  /** the signature header for a request with this payload */
  headers(method: string, path: string, payload: Buffer): OutgoingHttpHeaders;
}

const HANDSHAKE_TIMEOUT_MS = 30_000;

export class RequestSigner {
  readonly #opts: SignerOptions;
  readonly #now: () => number;
  /** null: this user has no key and none can be made (an unwritable home): requests go unsigned */
  #key: UserKey | null | undefined;
  readonly #sessions = new Map<string, Promise<ClientSession | undefined>>();

  constructor(opts: SignerOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** The session with the connection's server (one handshake per server); undefined: unsigned. */
  session(conn: Connection): Promise<ClientSession | undefined> {
    const id = sessionId(conn);
    let session = this.#sessions.get(id);
    if (session === undefined) {
      session = this.#open(conn);
      this.#sessions.set(id, session);
      // A failed handshake is tried again by the next request.
      session.catch(() => this.#sessions.get(id) === session && this.#sessions.delete(id));
    }
    return session;
  }

  /** Forgets the session with that server (it said it has none: it restarted, or it expired). */
  forget(conn: Connection): void {
    this.#sessions.delete(sessionId(conn));
  }

  /** The user's key, made on first use. */
  key(): UserKey | undefined {
    if (this.#key === undefined) {
      const dir = idDir(this.#opts.env);
      try {
        this.#key = readUserKey(dir) ?? createUserKey(dir, `${loginName(this.#opts.env)}@${this.#opts.host}`).key;
      } catch (err) {
        if (err instanceof TrellisError) throw err;
        this.#opts.debug(`no key in ${dir} and none could be made (${(err as Error).message}): requests go unsigned`);
        this.#key = null;
      }
    }
    return this.#key ?? undefined;
  }

  async #open(conn: Connection): Promise<ClientSession | undefined> {
    const key = this.key();
    if (key === undefined) return undefined;
    const user = loginName(this.#opts.env);
    let answer = await this.#handshake(conn, key, user);
    if (answer.status === 401 && answerCode(answer.body) === 'NO_KEY') {
      // First use of this key in this run area: register it (a file of this user's own), then again.
      const metaDir = runAreaPaths(this.#opts.runArea).metaDir;
      const added = registerUserKey(metaDir, user, key, `${user}@${this.#opts.host}`);
      this.#opts.debug(
        `key ${key.fingerprint.slice(0, 12)}… ${added === 'added' ? 'registered' : 'already'} in ${metaDir}/users/${user}.pub`,
      );
      answer = await this.#handshake(conn, key, user);
    }
    return this.#sessionFrom(decodeAnswer<SessionAnswer>(answer.status, answer.body, 'sign in'), answer.secret);
  }

  async #handshake(conn: Connection, key: UserKey, user: string) {
    const dh = generateKeyPairSync('x25519');
    const fields = {
      user,
      key: key.fingerprint,
      time: Math.round(this.#now()),
      nonce: randomBytes(16).toString('base64url'),
      dh: String(dh.publicKey.export({ format: 'jwk' }).x),
    };
    const body = Buffer.from('{}');
    const sig = sign(null, keySignedMessage(conn.health.areaId, 'POST', SESSION_PATH, fields, body), key.privateKey).toString('base64url');
    const headers = { [SIGNATURE_HEADER]: formatSignature({ kind: 'key', ...fields, sig }) };
    const answer = await requestJson(conn.endpoint, 'POST', SESSION_PATH, {}, HANDSHAKE_TIMEOUT_MS, undefined, undefined, () => headers);
    return { ...answer, secret: { privateKey: dh.privateKey, nonce: fields.nonce } };
  }

  #sessionFrom(answer: SessionAnswer, secret: { privateKey: KeyObject; nonce: string }): ClientSession {
    const serverDh = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: answer.dh }, format: 'jwk' });
    const shared = diffieHellman({ privateKey: secret.privateKey, publicKey: serverDh });
    const sessionKey = createSecretKey(deriveSessionKey(shared, secret.nonce, answer.session));
    const now = this.#now;
    let seq = 0;
    return {
      user: answer.user,
      headers: (method, path, payload) => {
        const time = Math.round(now());
        // Numbered, so the server remembers a window of numbers rather than every nonce.
        const nonce = String(++seq);
        const mac = sessionMac(sessionKey, method, path, time, nonce, payload);
        return { [SIGNATURE_HEADER]: formatSignature({ kind: 'session', session: answer.session, time, nonce, mac }) };
      },
    };
  }
}

const sessionId = (conn: Connection) => `${conn.endpoint.address}:${conn.endpoint.port}:${conn.found.packet.pid}`;
