/**
 * The web view's app over a real run area: the area's server (found or started, as `trellis web`
 * does), the live hub on its change feed, the real actions, and fastify's inject to call it.
 * Closed at teardown. Also: logging in, and reading the CSRF token out of a page.
 */
import { PassThrough } from 'node:stream';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createTestActions } from '../../src/cli/test-actions.js';
import type { CommandContext } from '../../src/cli/context.js';
import { RemoteStore } from '../../src/client/remote-store.js';
import { RequestSigner } from '../../src/client/signer.js';
import { loadArea } from '../../src/config/area.js';
import type { Area } from '../../src/config/types.js';
import { shortHostname } from '../../src/util/host.js';
import { createLogger } from '../../src/util/log.js';
import { loadAssets } from '../../src/web/assets.js';
import { LiveHub } from '../../src/web/live-hub.js';
import { LoginTokens } from '../../src/web/login-tokens.js';
import { runFormOf } from '../../src/web/run-form.js';
import { buildWebApp } from '../../src/web/web-app.js';
import { closeBeforeServersStop } from './area.js';
import { trellisBin } from './cli.js';

interface Teardownable {
  teardown(fn: () => void | Promise<void>): void;
}

export interface WebFixture {
  app: FastifyInstance;
  hub: LiveHub;
  logins: LoginTokens;
  store: RemoteStore;
  area: Area;
  /** the web view's log lines */
  audit: string[];
}

/** The web app for the area in `areaDir`, as `trellis web` builds it. */
export async function openWebApp(t: Teardownable, areaDir: string): Promise<WebFixture> {
  const env = { ...process.env, NO_COLOR: '1' };
  const area = loadArea(areaDir, { env, cpus: 2 });
  const now = () => Date.now() / 1000;
  // Signed as `trellis web` signs (cli/area-access.ts): its actions for people logged in are its own.
  const signer = new RequestSigner({ runArea: area.runArea, env, host: shortHostname(), debug: () => {} });
  const store = new RemoteStore({
    signer,
    runArea: area.runArea,
    areaDir,
    invocation: 'dboard',
    host: shortHostname(),
    now,
    debug: () => {},
    autoStart: true,
    env,
    trellisJs: trellisBin,
  });
  t.teardown(() => store.close());
  await store.connection();
  const hub = new LiveHub({
    feed: { changes: (c) => store.changes(c), waitForChanges: (c, ms, signal) => store.waitForChanges(c, ms, signal) },
    frontRuns: 40,
    minIntervalMs: 20,
  });
  t.teardown(() => hub.stop());
  // Before the area's servers stop: the hub's long poll would start another one through the store.
  closeBeforeServersStop(areaDir, async () => {
    hub.stop();
    await store.close();
  });
  await hub.start();
  const abort = new AbortController();
  const ctx: CommandContext = {
    cwd: areaDir,
    env,
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    stdin: new PassThrough(),
    now,
    log: createLogger(new PassThrough(), false),
    signal: abort.signal,
    hardSignal: abort.signal,
    binDir: path.dirname(trellisBin),
    pid: process.pid,
    cpus: 2,
  };
  const audit: string[] = [];
  const logins = new LoginTokens();
  const app = await buildWebApp({
    hub,
    store,
    actions: createTestActions({ store, area, ctx, direct: false }),
    runArea: area.runArea,
    runForm: () => runFormOf(area),
    logins,
    assets: loadAssets(),
    baseUrl: () => 'http://127.0.0.1:8420',
    sessionSecret: 'a-test-secret-that-is-long-enough-for-the-session-plugin',
    audit: (line) => audit.push(line),
    now,
    listHosts: () => store.listHosts({ now: now(), deadtime: area.setup.deadtime }),
  });
  t.teardown(() => app.close());
  return { app, hub, logins, store, area, audit };
}

/** The `trellis-web=…` cookie a response sets, as a Cookie header value. */
export function sessionCookie(res: LightMyRequestResponse): string | undefined {
  const set = res.headers['set-cookie'];
  const list = Array.isArray(set) ? set : set === undefined ? [] : [set];
  const c = list.find((s) => s.startsWith('trellis-web='));
  return c?.split(';')[0];
}

/** Logs in with a fresh one-time token; the session's cookie. */
export async function logIn(web: WebFixture, who = 'tester via web'): Promise<string> {
  const res = await web.app.inject({ method: 'GET', url: `/login?token=${web.logins.issue(who)}` });
  const cookie = sessionCookie(res);
  if (res.statusCode !== 303 || cookie === undefined) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return cookie;
}

/** The CSRF token of the first form of a page. */
export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error(`no CSRF token in the page:\n${html.slice(0, 2000)}`);
  return m[1]!;
}

/** A form body. */
export function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}
