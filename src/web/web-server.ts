/**
 * Starts the web view: the live hub on the run area's change feed, the app, listening on the given
 * address (127.0.0.1 unless told otherwise), and the first one-time login link. Stopping ends the
 * pages' event streams, the hub's polls and the listener, in that order.
 */
import type { HostView } from '../model/pool.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { RunRecord } from '../model/records.js';
import type { TestActions } from '../view/actions.js';
import type { FeedAccess } from '../view/live-source.js';
import { loadAssets } from './assets.js';
import { LiveHub } from './live-hub.js';
import { LoginTokens } from './login-tokens.js';
import type { RunFormSpec } from './run-form.js';
import { buildWebApp, type WebStore } from './web-app.js';

export interface WebOptions {
  feed: FeedAccess;
  store: WebStore;
  actions: TestActions;
  runArea: string;
  runForm: () => RunFormSpec;
  reapRunning?: (runs: RunRecord[]) => Promise<void>;
  /** 0: any free port */
  port: number;
  bind: string;
  /** who the first login link is for: the person who started the web view */
  who: string;
  /** their user name, checked against `[setup] approvers` when they sign off a step (their login name) */
  user: string;
  audit: (line: string) => void;
  now: () => number;
  /** the agents of the pool, for the hosts page */
  listHosts?: () => Promise<HostView[]>;
  /** how many of the newest runs stay followed (the front page's) */
  frontRuns?: number;
  /** the change feed's pacing, for tests */
  minIntervalMs?: number;
}

export interface WebServer {
  /** `http://address:port` */
  url: string;
  /** A new one-time login link for the person who started the web view. */
  newLoginUrl(): string;
  app: FastifyInstance;
  hub: LiveHub;
  logins: LoginTokens;
  close(): Promise<void>;
}

/** True for addresses only this host reaches. */
export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\./.test(address);
}

/** Serves the web view until close(); rejects when the run area cannot be read or the port taken. */
export async function startWeb(o: WebOptions): Promise<WebServer> {
  const hub = new LiveHub({
    feed: o.feed,
    frontRuns: o.frontRuns ?? 40,
    ...(o.reapRunning ? { reapRunning: o.reapRunning } : {}),
    ...(o.minIntervalMs !== undefined ? { minIntervalMs: o.minIntervalMs } : {}),
  });
  await hub.start();
  const logins = new LoginTokens();
  let port = o.port;
  const host = o.bind.includes(':') ? `[${o.bind}]` : o.bind;
  const shownHost = () => (o.bind === '0.0.0.0' || o.bind === '::' ? hostname() : host);
  const baseUrl = () => `http://${shownHost()}:${port}`;
  const loopback = isLoopback(o.bind);
  const app = await buildWebApp({
    hub,
    store: o.store,
    actions: o.actions,
    runArea: o.runArea,
    runForm: o.runForm,
    logins,
    assets: loadAssets(),
    baseUrl,
    sessionSecret: randomBytes(32).toString('hex'),
    // Bound to this host only: answer only to its own names, so a page of another site that
    // makes its name resolve here (DNS rebinding) gets nothing.
    ...(loopback ? { allowedHosts: () => [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${host}:${port}`] } : {}),
    audit: o.audit,
    now: o.now,
    ...(o.listHosts ? { listHosts: o.listHosts } : {}),
  });
  try {
    await app.listen({ port: o.port, host: o.bind });
  } catch (err) {
    hub.stop();
    await app.close();
    throw err;
  }
  const address = app.server.address();
  if (address !== null && typeof address === 'object') port = address.port;
  return {
    url: baseUrl(),
    newLoginUrl: () => `${baseUrl()}/login?token=${logins.issue(o.who, undefined, o.user)}`,
    app,
    hub,
    logins,
    async close() {
      hub.stop();
      await app.close();
    },
  };
}
