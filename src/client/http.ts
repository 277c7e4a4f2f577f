/**
 * JSON over HTTP to a Trellis server, on a keep-alive agent. A request that never got an answer
 * (refused, reset, timed out) throws TransportError, which callers may retry elsewhere: every
 * write is idempotent. An answer, whatever its status, is returned as it came.
 */
import http from 'node:http';
import { bearer } from '../model/protocol.js';

export interface Endpoint {
  address: string;
  port: number;
  token: string;
}

export interface JsonAnswer {
  status: number;
  body: unknown;
}

/** The request got no answer; `refused` when nothing listened there (its server is gone). */
export class TransportError extends Error {
  readonly refused: boolean;
  constructor(message: string, refused: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
    this.refused = refused;
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * Sends one request; resolves with the status and parsed JSON body. `timeoutMs` bounds the whole
 * exchange — connecting, sending, waiting and reading the answer — not just a silence: a listener
 * that trickles bytes (a planted packet may name anything) must not hold a command forever.
 * `signal` abandons it.
 */
export function requestJson(
  ep: Endpoint,
  method: 'GET' | 'POST',
  path: string,
  body: unknown,
  timeoutMs: number,
  signal?: AbortSignal,
  /** instead of the bearer token (the health check proves the token without sending it) */
  authorization?: string,
  /** more headers made from the payload's bytes (a signature: client/signer.ts) */
  sign?: (payload: Buffer) => http.OutgoingHttpHeaders,
): Promise<JsonAnswer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: http.OutgoingHttpHeaders = {
      authorization: authorization ?? bearer(ep.token),
      accept: 'application/json',
      ...sign?.(payload ?? Buffer.alloc(0)),
    };
    if (headers.authorization === '') delete headers.authorization;
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    const host = ep.address.includes(':') ? `[${ep.address}]` : ep.address;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const fail = (message: string, refused: boolean, cause: unknown) =>
      settle(() => reject(new TransportError(`${host}:${ep.port}: ${message}`, refused, { cause })));
    const req = http.request({ agent, host: ep.address, port: ep.port, method, path, headers, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => fail(err.message, false, err));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = text === '' ? undefined : JSON.parse(text);
        } catch {
          parsed = { error: { code: 'SERVER_ERROR', message: `not JSON: ${text.slice(0, 200)}` } };
        }
        settle(() => resolve({ status: res.statusCode ?? 0, body: parsed }));
      });
    });
    const timer = setTimeout(() => {
      const err = Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' });
      fail(err.message, false, err);
      req.destroy(err);
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message, err.code === 'ECONNREFUSED', err));
    req.end(payload);
  });
}
