/**
 * The server's HTTP API, built by one function so tests can drive it with fastify's inject and
 * the server command can listen with it. Every route wants the area token; every Store method is
 * `POST /v1/store/<method>` (see model/protocol.ts), the change feed's long poll is `POST /v1/feed`;
 * errors are `{"error": {code, message, hint}}`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import { lazyValidators } from './lazy-validators.js';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  bearer,
  FEED_BODY,
  parseProofHeader,
  STORE_API,
  STORE_METHODS,
  SIGNED_METHODS,
  WRITE_METHODS,
  type FeedRequest,
  type HealthInfo,
  type StoreMethod,
} from '../model/protocol.js';
import { givesJsonText, type Store } from '../store/store.js';
import { ExitCode, isTrellisError, TrellisError } from '../util/errors.js';
import { claimedUser, parseSignature, SESSION_PATH, SIGNATURE_HEADER } from '../model/identity-protocol.js';
import { OPEN_POLICY, type AccessPolicy } from '../model/access.js';
import type { CarriedWrites, JobEnd } from '../model/pool.js';
import type { RunQuery, WriteOptions } from '../model/records.js';
import type { IdentityGate } from './identity-gate.js';
import { API_NAME_CHECKS } from './api-names.js';
import { FeedWaiters } from './feed-waiters.js';
import { healthAnswerProof, healthRequestProof, sameProof } from '../util/token-file.js';
import type { TokenSource } from './token-keeper.js';
import { coalesceWrites } from './write-batcher.js';

export interface AppOptions {
  store: Store;
  /** the area token, or a source that follows `.meta/token` (server/token-keeper.ts) */
  token: string | TokenSource;
  health: () => HealthInfo;
  /** every authorized call, for the idle timer */
  onCall: () => void;
  /** POST /v1/shutdown: called after the answer is sent */
  onShutdown: () => void;
  /**
   * The server log (pino): errors the client cannot act on (bugs, storage failures) at error
   * level, every request at debug level, each with its request id; none: nothing is logged
   */
  logger?: FastifyBaseLogger;
  /** the number of feed requests waiting (POST /v1/feed), each time it changes: a watcher is activity */
  onFeedWaiters?: (count: number) => void;
  /** how often waiting feed requests look for changes made around the server (ms; default 250) */
  feedRecheckMs?: number;
  /** signed requests (server/identity-gate.ts); none: every request is unsigned */
  identity?: IdentityGate;
  /** the area's policy: whether unsigned writes are taken, who may act for others */
  access?: { current(): AccessPolicy };
}

/** Largest request body (bytes): a batch of MAX_BATCH registrations fits with room to spare. */
export const BODY_LIMIT = 16 * 1024 * 1024;

const STATUS_BY_EXIT: Record<number, number> = {
  [ExitCode.denied]: 403,
  [ExitCode.usage]: 400,
  [ExitCode.config]: 422,
  [ExitCode.notFound]: 404,
  [ExitCode.conflict]: 409,
};

/** Compile-time check: the API carries every Store method but close. */
type Missing = Exclude<Exclude<keyof Store, 'close'>, (typeof STORE_METHODS)[number]>;
export const API_COVERS_STORE: [Missing] extends [never] ? true : Missing = true;

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The nonce of a request that proved the token for /v1/health; its answer carries the server's proof. */
const proofNonces = new WeakMap<FastifyRequest, string>();
declare module 'fastify' {
  interface FastifyRequest {
    /** the body of a JSON request as it came: a signature covers these bytes */
    rawBody: Buffer | undefined;
    /** the user the request's signature proved */
    provenUser: string | undefined;
  }
}

/** Builds the app (not listening). */
export function buildServerApp(opts: AppOptions): FastifyInstance {
  const app = Fastify({
    ...(opts.logger === undefined ? { logger: false } : { loggerInstance: opts.logger }),
    // One line per request at debug level (below), not fastify's two at info.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, discriminator: true } },
    schemaController: { compilersFactory: { buildValidator: lazyValidators } },
  });
  const access = opts.access ?? { current: () => OPEN_POLICY };
  const tokens: TokenSource = typeof opts.token === 'string' ? fixedToken(opts.token) : opts.token;
  let expected = { token: tokens.current(), bearer: digest(bearer(tokens.current())) };
  /** True when `given` carries the token: the bearer token, or (for /v1/health only) a proof of it. */
  const authorize = (req: FastifyRequest, given: string): boolean => {
    if (expected.token !== tokens.current()) expected = { token: tokens.current(), bearer: digest(bearer(tokens.current())) };
    if (timingSafeEqual(digest(given), expected.bearer)) return true;
    const proof = req.url === '/v1/health' && req.method === 'GET' ? parseProofHeader(given) : undefined;
    if (proof === undefined || !sameProof(proof.mac, healthRequestProof(expected.token, proof.nonce))) return false;
    proofNonces.set(req, proof.nonce);
    return true;
  };

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const given = req.headers.authorization;
    // A failed check looks at .meta/token once more: a token changed or damaged there is followed
    // or repaired (token-keeper.ts), so clients that read the file get in.
    const check = () => typeof given === 'string' && authorize(req, given);
    const ok = check() || (tokens.refresh() && check());
    if (!ok) {
      return reply
        .code(401)
        .send(
          errorBody(
            'UNAUTHORIZED',
            'missing or wrong area token',
            'send `Authorization: Bearer <token>` with the token from <runarea>/.meta/token',
          ),
        );
    }
    opts.onCall();
    return undefined;
  });

  // The body's bytes are kept for the signature check; the parsing is fastify's own (it refuses
  // __proto__ and constructor.prototype keys).
  // Declared up front, so every request object has one shape.
  app.decorateRequest('rawBody', undefined);
  app.decorateRequest('provenUser', undefined);
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    req.rawBody = body as Buffer;
    parseJson(req, (body as Buffer).toString('utf8'), done);
  });

  const gate = opts.identity;
  if (gate !== undefined) {
    // After the body is parsed, before the route: a request that carries a signature must prove it.
    app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
      const header = req.headers[SIGNATURE_HEADER];
      if (header === undefined || req.url === SESSION_PATH) return undefined;
      const sig = typeof header === 'string' ? parseSignature(header) : undefined;
      try {
        if (sig?.kind !== 'session') {
          throw new TrellisError(
            'BAD_SIGNATURE',
            `the ${SIGNATURE_HEADER} header is not a session signature`,
            'sign requests with a Trellis client of this version',
          );
        }
        req.provenUser = gate.verifySession(sig, req.method, req.url, req.rawBody ?? EMPTY);
      } catch (err) {
        return refuseIdentity(reply, err);
      }
      return undefined;
    });
    app.post(SESSION_PATH, async (req, reply) => {
      const header = req.headers[SIGNATURE_HEADER];
      const sig = typeof header === 'string' ? parseSignature(header) : undefined;
      if (sig?.kind !== 'key') {
        return refuseIdentity(
          reply,
          new TrellisError('BAD_SIGNATURE', `${SESSION_PATH} wants a request signed with your key`, 'use a Trellis client of this version'),
        );
      }
      try {
        return { result: await gate.openSession(sig, req.method, req.url, req.rawBody ?? EMPTY) };
      } catch (err) {
        return refuseIdentity(reply, err);
      }
    });
  }

  app.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
    req.log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
  });

  app.setErrorHandler((err: Error & { validation?: unknown; statusCode?: number; code?: string }, req, reply) => {
    if (err.validation) {
      const where = req.url.replace(/^\/v1\/(store\/)?/, '');
      return reply.code(400).send(errorBody('BAD_REQUEST', `${where}: ${err.message}`, 'see docs/http-api.md for the request shapes'));
    }
    if (isTrellisError(err)) {
      const status = STATUS_BY_EXIT[err.exitCode] ?? 500;
      if (status === 500) req.log.error({ url: req.url, code: err.code }, err.message);
      return reply.code(status).send(errorBody(err.code, err.message, err.hint));
    }
    if (typeof err.statusCode === 'number' && err.statusCode < 500) {
      // fastify's own: malformed JSON, body too large, wrong content type
      return reply.code(err.statusCode).send(errorBody('BAD_REQUEST', err.message, 'see docs/http-api.md'));
    }
    req.log.error({ url: req.url, err }, `${req.url} failed: ${err.message}`);
    return reply.code(500).send(errorBody('INTERNAL', `server error: ${err.message}`, 'see the server log in <runarea>/.meta/logs'));
  });

  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send(errorBody('BAD_REQUEST', `no such endpoint: ${req.method} ${req.url}`, 'see docs/http-api.md')),
  );

  app.get('/v1/health', async (req) => {
    const nonce = proofNonces.get(req);
    const health = opts.health();
    return nonce === undefined ? health : { ...health, proof: healthAnswerProof(expected.token, nonce, health.areaId) };
  });

  app.post('/v1/shutdown', async (_req, reply) => {
    reply.raw.once('finish', () => setImmediate(opts.onShutdown));
    return { ok: true };
  });

  // Concurrent writes share one transaction (group commit): see write-batcher.ts.
  const store = coalesceWrites(opts.store);
  const feed = new FeedWaiters({ store, recheckMs: opts.feedRecheckMs, onCount: opts.onFeedWaiters });
  // Before fastify waits for the requests in flight: a waiting feed request would hold it up to 25 s.
  app.addHook('preClose', async () => feed.endAll());

  for (const method of STORE_METHODS) {
    const spec = STORE_API[method];
    const writes = WRITE_METHODS.has(method);
    const signs = SIGNED_METHODS.has(method);
    const checkNames = API_NAME_CHECKS[method];
    const hasOptions = spec.params.includes('options');
    // Sent as the store wrote it (store.ts, JsonTextAnswers).
    const textAnswers = method === 'listRunColumns' && givesJsonText(store) ? store : undefined;
    app.post(`/v1/store/${method}`, { schema: { body: spec.body } }, async (req, reply) => {
      const body = req.body as Record<string, unknown>;
      checkNames?.(body);
      if (hasOptions) body['options'] = provenOptions(body['options'] as WriteOptions | undefined, req.provenUser, access.current());
      else if (signs && access.current().identity === 'required' && req.provenUser === undefined)
        provenOptions(undefined, undefined, access.current());
      // Writes that ride on another request (an agent's last writes of a job on its next claim, a
      // runner's launches on its enqueueJobs) are proven as writes of their own.
      for (const carried of carriedWritesOf(method, body))
        carried.options = provenOptions(carried.options, req.provenUser, access.current());
      if (textAnswers !== undefined) {
        const text = await textAnswers.listRunColumnsJson(body['query'] as RunQuery | undefined);
        return reply.type('application/json').send(`{"result":${text}}`);
      }
      const fn = store[method] as (...args: unknown[]) => Promise<unknown>;
      try {
        const result = await fn.apply(
          store,
          spec.params.map((p) => body[p]),
        );
        return sendAnswer(reply, result === undefined ? {} : { result });
      } finally {
        // Even a failed batch may share a commit with others (group commit): look either way.
        if (writes) feed.notify();
      }
    });
  }

  app.post('/v1/feed', { schema: { body: FEED_BODY } }, async (req, reply) => {
    const { cursor, waitMs } = req.body as FeedRequest;
    // A client that gives up (or dies) closes its socket: stop waiting for it there and then.
    const gone = new AbortController();
    const socket = req.raw.socket as NodeJS.EventEmitter | undefined;
    const onClose = () => gone.abort();
    socket?.once('close', onClose);
    try {
      return sendAnswer(reply, { result: await feed.wait(cursor, waitMs, gone.signal) });
    } finally {
      socket?.off('close', onClose);
    }
  });
  return app;
}

const EMPTY = Buffer.alloc(0);

/** The writes a request of `method` carries besides its own work (see Store: claimQueuedJobs, enqueueJobs). */
function carriedWritesOf(method: StoreMethod, body: Record<string, unknown>): CarriedWrites[] {
  if (method === 'claimQueuedJobs') return ((body['ended'] as JobEnd[] | undefined) ?? []).flatMap((e) => (e.writes ? [e.writes] : []));
  if (method === 'enqueueJobs' && body['launch'] !== undefined) return [body['launch'] as CarriedWrites];
  return [];
}

/** Lists longer than this go out a slice at a time (jsonPieces). */
const CHUNK_ROWS = 1000;
/** How deep in an answer a long list is looked for (the change feed's cells are 4 levels down). */
const LIST_DEPTH = 5;

/**
 * An answer holding a long list as JSON text made as the socket takes it: the listing of a run of
 * 100,000 items was one 38 MB string and a 38 MB buffer of it, held beside the records; two such
 * listings at once (a diff) took the server past 800 MB. Any other answer is one JSON text.
 */
function sendAnswer(reply: FastifyReply, body: object): FastifyReply | object {
  if (!holdsLongList(body, LIST_DEPTH)) return body;
  return reply.type('application/json').send(Readable.from(jsonPieces(body, LIST_DEPTH)));
}

/** True when `value` is, or holds within `depth` levels, a list longer than CHUNK_ROWS. */
function holdsLongList(value: unknown, depth: number): boolean {
  if (Array.isArray(value)) return value.length > CHUNK_ROWS || (depth > 0 && value.some((v) => holdsLongList(v, depth - 1)));
  if (value === null || typeof value !== 'object') return false;
  return depth > 0 && Object.values(value).some((v) => holdsLongList(v, depth - 1));
}

/** The JSON text of `value` in pieces: long lists a slice at a time, what holds one opened up. */
function* jsonPieces(value: unknown, depth: number): Generator<string> {
  if (depth <= 0 || !holdsLongList(value, depth)) {
    yield JSON.stringify(value) ?? 'null';
  } else if (Array.isArray(value) && value.length > CHUNK_ROWS) {
    for (let i = 0; i < value.length; i += CHUNK_ROWS) {
      const text = JSON.stringify(value.slice(i, i + CHUNK_ROWS));
      yield `${i === 0 ? '[' : ','}${text.slice(1, -1)}`;
    }
    yield ']';
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      yield i === 0 ? '[' : ',';
      yield* jsonPieces(value[i], depth - 1);
    }
    yield ']';
  } else {
    let sep = '{';
    for (const [key, v] of Object.entries(value as object)) {
      // as JSON.stringify: such a property is left out
      if (v === undefined || typeof v === 'function') continue;
      yield `${sep}${JSON.stringify(key)}:`;
      sep = ',';
      yield* jsonPieces(v, depth - 1);
    }
    yield sep === '{' ? '{}' : '}';
  }
}

/**
 * The write options the store gets: `user` is the proven one, never the client's; `who` must name
 * that user (the web view, acting for someone logged in to it, may name them: `alice via web`,
 * when the web view's own user is an admin or the area has none). An unsigned write is recorded
 * as unverified, or refused where `[setup] identity required`.
 */
export function provenOptions(given: WriteOptions | undefined, user: string | undefined, policy: AccessPolicy): WriteOptions {
  // One shape for every write (force, who, user), so the store's code stays monomorphic.
  const force = given?.force === true;
  const who = given?.who ?? '';
  const fenced = given?.asAgent;
  if (user === undefined) {
    if (policy.identity === 'required') {
      throw new TrellisError(
        'UNSIGNED',
        'this area takes only signed writes ([setup] identity required), and this one is not signed',
        'the trellis command signs with your key once it has one: run `trellis id init` (its folder, ~/.trellis or $TRELLIS_ID_DIR, must be writable)',
      );
    }
    return { force, who: who === '' ? '(unverified)' : `${who} (unverified)`, user: undefined, asAgent: fenced };
  }
  if (who === '') return { force, who: user, user, asAgent: fenced };
  const claimed = claimedUser(who);
  if (claimed.user === user) return { force, who, user, asAgent: fenced };
  if (claimed.delegated && (policy.admins === null || policy.admins.users.includes(user))) {
    return { force, who: `${who} (by ${user})`, user: claimed.user, asAgent: fenced };
  }
  throw new TrellisError(
    'FORGED_NAME',
    `the request says it comes from ${claimed.user} but is signed by ${user}`,
    claimed.delegated
      ? `only [setup] admins may run a web view that acts for others${policy.admins ? ` (${policy.admins.where})` : ''}`
      : 'a write is recorded as the user who signs it: unset TRELLIS_WHO',
  );
}

/** 401 for what could not be proven, 403 for what was proven and is not allowed. */
function refuseIdentity(reply: FastifyReply, err: unknown) {
  if (!isTrellisError(err)) throw err;
  const status = err.code === 'FORGED_NAME' || err.code === 'NOT_ADMIN' ? 403 : 401;
  return reply.code(status).send(errorBody(err.code, err.message, err.hint));
}

function fixedToken(token: string): TokenSource {
  return { current: () => token, refresh: () => false };
}

function errorBody(code: string, message: string, hint: string | undefined) {
  return { error: hint === undefined ? { code, message } : { code, message, hint } };
}
