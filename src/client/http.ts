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

/** Sends one request; resolves with the status and parsed JSON body. `signal` abandons it. */
export function requestJson(
  ep: Endpoint,
  method: 'GET' | 'POST',
  path: string,
  body: unknown,
  timeoutMs: number,
  signal?: AbortSignal,
  /** instead of the bearer token (the health check proves the token without sending it) */
  authorization?: string,
): Promise<JsonAnswer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: http.OutgoingHttpHeaders = { authorization: authorization ?? bearer(ep.token), accept: 'application/json' };
    if (headers.authorization === '') delete headers.authorization;
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    const host = ep.address.includes(':') ? `[${ep.address}]` : ep.address;
    const req = http.request({ agent, host: ep.address, port: ep.port, method, path, headers, timeout: timeoutMs, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(new TransportError(`${host}:${ep.port}: ${err.message}`, false, { cause: err })));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = text === '' ? undefined : JSON.parse(text);
        } catch {
          parsed = { error: { code: 'SERVER_ERROR', message: `not JSON: ${text.slice(0, 200)}` } };
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      reject(new TransportError(`${host}:${ep.port}: ${err.code ?? err.message}`, err.code === 'ECONNREFUSED', { cause: err }));
    });
    req.end(payload);
  });
}
