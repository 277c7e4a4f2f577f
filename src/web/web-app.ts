/**
 * Builds the web view's fastify app (it never listens: startWeb does). The only code that knows
 * fastify's HTML side: sessions in cookies (HttpOnly, SameSite=Strict), a CSRF token on every
 * form that changes something, security headers, compression, the assets, and pages for errors.
 * Every page but the login page and the assets needs a session; a session is opened only with a
 * one-time login token. The run area's token stays in this process: pages are made from records.
 */
import type { HostView } from '../model/pool.js';
import compress from '@fastify/compress';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import session from '@fastify/session';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Store } from '../store/store.js';
import { isTrellisError } from '../util/errors.js';
import type { TestActions } from '../view/actions.js';
import type { Assets } from './assets.js';
import type { Html } from './html.js';
import type { LiveHub } from './live-hub.js';
import type { LoginTokens } from './login-tokens.js';
import { registerActionRoutes } from './action-routes.js';
import { renderLoginMain, renderMessageMain } from './pages/forms.js';
import { renderPage, type Shell } from './pages/layout.js';
import { registerReadRoutes } from './read-routes.js';
import type { RunFormSpec } from './run-form.js';

declare module 'fastify' {
  interface Session {
    /** who is logged in, as recorded in the runs' events */
    who?: string;
    /** the user name `[setup] approvers` is checked against when this session signs off a step */
    user?: string;
    /** lines to show on the next page (an action's outcome) */
    notices?: string[];
    _csrf?: string;
  }
}

/** What the web view reads through the run area's store (the server's). */
export type WebStore = Pick<Store, 'getRun' | 'getTest' | 'listTests' | 'events'>;

export interface WebDeps {
  hub: LiveHub;
  store: WebStore;
  actions: TestActions;
  runArea: string;
  /** the run form from the area, read again each time (runconfigs change) */
  runForm: () => RunFormSpec;
  logins: LoginTokens;
  assets: Assets;
  /** where people reach this web view (`http://host:port`), for login links */
  baseUrl: () => string;
  /** signs session cookies; random per start, so a restart ends every session */
  sessionSecret: string;
  /** Host headers accepted (DNS rebinding); undefined accepts any */
  allowedHosts?: () => readonly string[];
  /** one line per login, action and refusal: who did what */
  audit: (line: string) => void;
  /** seconds since the epoch */
  now: () => number;
  /** the agents of the pool (`trellis hosts`); without it the hosts page lists none */
  listHosts?: () => Promise<HostView[]>;
}

/** What the route files share: the deps and how to answer with a page. */
export interface WebContext extends WebDeps {
  page(req: FastifyRequest, reply: FastifyReply, shell: Omit<Shell, 'styleUrl' | 'scriptUrl'>, main: Html, status?: number): FastifyReply;
  /** the session's CSRF token for a form */
  csrfOf(reply: FastifyReply): string;
}

/** Paths open without a session. */
const PUBLIC = /^\/(login|assets\/[^/]+|favicon\.ico)$/;

/** Status codes for the errors actions throw (exit-codes.md names them). */
const STATUS_OF: Record<string, number> = {
  RUN_LOCKED: 409,
  RUN_BUSY: 409,
  NO_RUN: 404,
  NO_TEST: 404,
  NO_TESTS: 404,
  NOT_WAITING: 409,
  NO_STEP: 409,
  NOT_APPROVER: 403,
  NOT_ADMIN: 403,
  // the web view's own user may not act for others here: not one of [setup] admins (docs/security.md)
  FORGED_NAME: 403,
  BAD_VALUE: 400,
  BAD_PATTERN: 400,
  USAGE: 400,
};

/** The app, with every route; call `ready()` or `listen()` on it. */
export async function buildWebApp(deps: WebDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, trustProxy: false });
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    // Plain HTTP (an ssh tunnel or a proxy adds TLS): no HSTS, no upgrade of requests.
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(compress, { global: true, threshold: 2048, encodings: ['gzip', 'deflate'] });
  await app.register(formbody);
  await app.register(cookie);
  await app.register(session, {
    secret: deps.sessionSecret,
    cookieName: 'trellis-web',
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'strict', secure: false, path: '/', maxAge: 7 * 24 * 3600 * 1000 },
  });
  await app.register(csrf, { sessionPlugin: '@fastify/session' });

  const ctx: WebContext = {
    ...deps,
    page(req, reply, shell, main, status = 200) {
      const notices = req.session.notices;
      if (notices !== undefined) req.session.notices = undefined;
      const body = renderPage(
        {
          ...shell,
          styleUrl: deps.assets.styleUrl,
          scriptUrl: deps.assets.scriptUrl,
          ...(req.session.who !== undefined ? { who: req.session.who, csrf: ctx.csrfOf(reply) } : {}),
          trouble: deps.hub.trouble,
          notices: [...(shell.notices ?? []), ...(notices ?? [])],
        },
        main,
      );
      return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);
    },
    csrfOf: (reply) => reply.generateCsrf(),
  };

  app.addHook('onRequest', async (req, reply) => {
    const hosts = deps.allowedHosts?.();
    if (hosts !== undefined && !hosts.includes(req.headers.host ?? '')) {
      return reply.code(421).type('text/plain; charset=utf-8').send('This web view answers only at the address it printed.\n');
    }
    const path = req.url.split('?')[0]!;
    if (PUBLIC.test(path) || req.session.who !== undefined) return undefined;
    if (path === '/events') return reply.code(401).type('text/plain; charset=utf-8').send('log in first\n');
    return ctx.page(req, reply, { title: 'Log in' }, renderLoginMain(undefined), 401);
  });

  /** Every form that changes something carries the session's CSRF token (403 without it). */
  const checkCsrf = app.csrfProtection.bind(app);
  registerReadRoutes(app, ctx);
  registerActionRoutes(app, ctx, checkCsrf);

  app.get('/assets/:name', async (req, reply) => {
    const asset = deps.assets.byName.get((req.params as { name: string }).name);
    if (asset === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('no such asset\n');
    reply.header('cache-control', 'public, max-age=31536000, immutable').header('etag', asset.etag);
    if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  });

  app.setNotFoundHandler((req, reply) =>
    ctx.page(
      req,
      reply,
      { title: 'Not found' },
      renderMessageMain('Not found', [`There is no page at ${req.url.split('?')[0]}.`], { href: '/', label: 'the runs' }),
      404,
    ),
  );

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (isTrellisError(err)) {
      deps.audit(`${req.session.who ?? '-'} ${req.method} ${req.url.split('?')[0]}: refused: ${err.message}`);
      const lines = [err.message, ...(err.hint ? [`To go on: ${err.hint}.`] : [])];
      return ctx.page(
        req,
        reply,
        { title: 'Refused' },
        renderMessageMain('Refused', lines, { href: '/', label: 'the runs' }),
        STATUS_OF[err.code] ?? 500,
      );
    }
    if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
      deps.audit(`${req.session.who ?? '-'} ${req.method} ${req.url.split('?')[0]}: refused: no valid CSRF token`);
      const lines = [
        'This form did not come from a page of this web view (its security token is missing or out of date), so nothing was done.',
        'Go back, reload the page and try again.',
      ];
      return ctx.page(req, reply, { title: 'Refused' }, renderMessageMain('Refused', lines, { href: '/', label: 'the runs' }), 403);
    }
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) deps.audit(`internal error on ${req.method} ${req.url.split('?')[0]}: ${err.stack ?? err.message}`);
    const line =
      status === 500 ? 'Something went wrong in the web view; it is in its log.' : `The request was not understood: ${err.message}`;
    return ctx.page(req, reply, { title: 'Error' }, renderMessageMain('Error', [line], { href: '/', label: 'the runs' }), status);
  });
  return app;
}
