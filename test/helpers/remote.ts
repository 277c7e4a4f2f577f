/**
 * Talking to a server in tests without discovery: a remote store on a fixed connection, and a raw
 * POST with the area token (for what the remote store would never send).
 */
import http from 'node:http';
import path from 'node:path';
import { RemoteStore } from '../../src/client/remote-store.js';
import type { RequestSigner } from '../../src/client/signer.js';

/** A remote store bound to the server at 127.0.0.1:`port` (pid 1, area `areaId`); it never starts or finds another. */
export function storeOnPort(port: number, opts: { token: string; runArea?: string; areaId?: string; signer?: RequestSigner }): RemoteStore {
  const runArea = opts.runArea ?? '/nonexistent';
  const packet = {
    host: 'h',
    address: '127.0.0.1',
    port,
    pid: 1,
    invocation: 'other' as const,
    started: 0,
    version: '0',
    areaId: opts.areaId ?? 'a',
  };
  return new RemoteStore({
    runArea,
    areaDir: undefined,
    invocation: 'other',
    host: 'h',
    now: () => Date.now() / 1000,
    debug: () => undefined,
    autoStart: false,
    env: {},
    trellisJs: '/nonexistent/trellis.js',
    ...(opts.signer ? { signer: opts.signer } : {}),
    connection: {
      endpoint: { address: '127.0.0.1', port, token: opts.token },
      found: { file: path.join(runArea, 'x.pkt'), sha1: 'x', packet, touched: 0 },
      health: { ...packet, uptime: 0 },
    },
  });
}

export interface RawAnswer {
  status: number;
  text: string;
  body: { result?: unknown; error?: { code: string; message: string; hint?: string } };
}

/** POSTs `body` (sent as it is) to 127.0.0.1:`port` with the token and any more headers. */
export function postRaw(
  port: number,
  token: string,
  pathname: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: pathname,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          let parsed: RawAnswer['body'] = {};
          try {
            parsed = JSON.parse(text || '{}') as RawAnswer['body'];
          } catch {
            // not JSON: the text says what came
          }
          resolve({ status: res.statusCode ?? 0, text, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
