/**
 * The pages that change something: logging in and out, inviting someone, and the actions on
 * tests and runs. Every action is asked for with a GET that changes nothing and shows what will
 * happen; only the page's POST, with the session's CSRF token and `confirmed=yes`, does it. Each
 * is recorded with who did it (the run's events through the store, and the web view's own log).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { displayName } from '../model/display-name.js';
import type { RunRecord } from '../model/records.js';
import { parseStateStatus } from '../model/states.js';
import type { CellRef } from '../view/actions.js';
import { query } from './html.js';
import { renderConfirmMain, renderInviteMain, renderLoginMain, renderMessageMain, renderStartMain } from './pages/forms.js';
import { param } from './read-routes.js';
import { checkRunForm, type RunFormValues } from './run-form.js';
import type { WebContext } from './web-app.js';

type Action = 'rerun' | 'kill' | 'set';
const ACTIONS: readonly Action[] = ['rerun', 'kill', 'set'];
/** How long an invitation's link works (hours). */
const INVITE_HOURS = 24;
const NAME = /^[A-Za-z0-9_.@+-]{1,64}$/;

export function registerActionRoutes(app: FastifyInstance, ctx: WebContext, checkCsrf: preHandlerHookHandler): void {
  const login = async (req: FastifyRequest, reply: FastifyReply, token: string) => {
    const who = ctx.logins.consume(token);
    if (who === undefined) {
      ctx.audit(`login refused from ${req.ip}: unknown, used or expired token`);
      return ctx.page(
        req,
        reply,
        { title: 'Log in' },
        renderLoginMain('That login link does not work: it was used already, has expired, or was mistyped. Ask for a new one.'),
        401,
      );
    }
    // A new session id on login: a session id known before it (fixation) is worth nothing.
    await req.session.regenerate();
    req.session.who = who;
    ctx.audit(`${who} logged in from ${req.ip}`);
    return reply.code(303).header('location', '/').send();
  };

  app.get('/login', async (req, reply) => {
    const token = param(req.query, 'token');
    if (token !== '') return login(req, reply, token);
    if (req.session.who !== undefined) return reply.code(303).header('location', '/').send();
    return ctx.page(req, reply, { title: 'Log in' }, renderLoginMain(undefined));
  });

  app.post('/login', async (req, reply) => login(req, reply, param(req.body, 'token').trim()));

  app.post('/logout', { preHandler: checkCsrf }, async (req, reply) => {
    ctx.audit(`${req.session.who ?? '-'} logged out`);
    ctx.hub.closeSession(req.session.sessionId);
    await req.session.destroy();
    return reply.code(303).header('location', '/login').send();
  });

  app.get('/invite', async (req, reply) =>
    ctx.page(req, reply, { title: 'Invite', section: 'invite' }, renderInviteMain(ctx.csrfOf(reply))),
  );

  app.post('/invite', { preHandler: checkCsrf }, async (req, reply) => {
    const name = param(req.body, 'name').trim();
    if (!NAME.test(name)) {
      const problem = `'${name}' is not a name this form takes: letters, digits and _ . @ + - (up to 64).`;
      return ctx.page(req, reply, { title: 'Invite', section: 'invite' }, renderInviteMain(ctx.csrfOf(reply), undefined, problem), 400);
    }
    const who = `${name} via web`;
    const token = ctx.logins.issue(who, INVITE_HOURS * 3600 * 1000);
    ctx.audit(`${req.session.who} made a login link for ${who}`);
    const made = { who, url: `${ctx.baseUrl()}/login?token=${token}`, hours: INVITE_HOURS };
    return ctx.page(req, reply, { title: 'Invite', section: 'invite' }, renderInviteMain(ctx.csrfOf(reply), made));
  });

  app.get('/confirm', async (req, reply) => {
    const asked = await readAction(ctx, req.query);
    if ('problem' in asked) return message(ctx, req, reply, asked.problem, asked.status);
    const { action, run, ref, text } = asked;
    const name = displayName(ref);
    if (run.state === 'locked') {
      const line = `The run ${run.target}/${run.runname} is locked (by ${run.lockedBy || 'someone'}): it refuses a ${action}. Unlock it with \`trellis unlock -t ${run.target} -r ${run.runname}\` first.`;
      return message(ctx, req, reply, line, 409);
    }
    const where = `${run.target} ${run.runname}`;
    const who = req.session.who!;
    const details: Record<Action, string[]> = {
      rerun: [
        `This starts trellis run -t ${run.target} -r ${run.runname} -p ${name} --rerun-all on the web host, in the background.`,
        'The test shows again as it runs; you are told here when it ends.',
      ],
      kill: [
        `The run's runner stops ${name} (TERM, then KILL): it shows KILLRQ, then KILLED.`,
        'Without a live runner there is nothing to kill.',
      ],
      set: [`On a test with items the items are set, and the test rolls up.`],
    };
    return ctx.page(
      req,
      reply,
      { title: 'Confirm' },
      renderConfirmMain({
        question:
          action === 'set'
            ? `Set ${name} in ${where} to ${text.split(',').filter(Boolean).join('/')}?`
            : `${action === 'rerun' ? 'Rerun' : 'Kill'} ${name} in ${where}?`,
        details: [...details[action], `Recorded as done by ${who}.`],
        action: '/action',
        fields: { action, run: String(run.id), t: ref.testname, i: ref.itempath, ...(action === 'set' ? { statestatus: text } : {}) },
        csrf: ctx.csrfOf(reply),
        button: action === 'set' ? 'Set it' : action === 'rerun' ? 'Rerun it' : 'Kill it',
        danger: action === 'kill',
        cancelHref: `/test${query({ run: run.id, t: ref.testname, i: ref.itempath })}`,
      }),
    );
  });

  app.post('/action', { preHandler: checkCsrf }, async (req, reply) => {
    const body = req.body;
    const asked = await readAction(ctx, { ...(body as object), state: '', status: '' }, param(body, 'statestatus'));
    if ('problem' in asked) return message(ctx, req, reply, asked.problem, asked.status);
    const { action, run, ref, text } = asked;
    const back = `/test${query({ run: run.id, t: ref.testname, i: ref.itempath })}`;
    if (param(body, 'confirmed') !== 'yes') return reply.code(303).header('location', back).send();
    const who = req.session.who!;
    const session = req.session.sessionId;
    const name = displayName(ref);
    const notify = (m: string) => {
      ctx.audit(`${who}: ${m}`);
      ctx.hub.notify(session, m);
    };
    let outcome: string;
    if (action === 'rerun') outcome = await ctx.actions.rerun(ref, run, notify, who);
    else if (action === 'kill') outcome = await ctx.actions.kill(ref, run, who);
    else outcome = await ctx.actions.setStateStatus(ref, run, text, who);
    ctx.audit(`${who} ${action} ${name} in ${run.target} ${run.runname}: ${outcome}`);
    req.session.notices = [...(req.session.notices ?? []), outcome];
    return reply.code(303).header('location', back).send();
  });

  app.get('/start', async (req, reply) => {
    const spec = ctx.runForm();
    const values = formValues(req.query);
    if (param(req.query, 'review') !== '1')
      return ctx.page(req, reply, { title: 'Start a run', section: 'start' }, renderStartMain(spec, values, []));
    const checked = checkRunForm(spec, values);
    if ('errors' in checked)
      return ctx.page(req, reply, { title: 'Start a run', section: 'start' }, renderStartMain(spec, values, checked.errors), 400);
    const s = checked.start;
    const launcher = spec.launchers.find((l) => l.id === values.launcher)!;
    return ctx.page(
      req,
      reply,
      { title: 'Confirm', section: 'start' },
      renderConfirmMain({
        question: `Start run ${s.target} ${s.runname}?`,
        details: [
          `trellis run -t ${s.target} -r ${s.runname}${s.pattern ? ` -p ${s.pattern}` : ''}${s.launcher ? ` --launcher '${s.launcher}'` : ''}, on the web host, in the background.`,
          `Launcher: ${launcher.label}.`,
          `Recorded as done by ${req.session.who}.`,
        ],
        action: '/start',
        fields: {
          target: values.target,
          runname: values.runname,
          pattern: values.pattern,
          launcher: values.launcher,
          ...paramFields(values.params),
        },
        csrf: ctx.csrfOf(reply),
        button: 'Start it',
        cancelHref: `/start${query({ target: values.target, runname: values.runname, pattern: values.pattern, launcher: values.launcher })}`,
      }),
    );
  });

  app.post('/start', { preHandler: checkCsrf }, async (req, reply) => {
    const spec = ctx.runForm();
    const values = formValues(req.body);
    const checked = checkRunForm(spec, values);
    if ('errors' in checked)
      return ctx.page(req, reply, { title: 'Start a run', section: 'start' }, renderStartMain(spec, values, checked.errors), 400);
    if (param(req.body, 'confirmed') !== 'yes') return reply.code(303).header('location', '/start').send();
    const who = req.session.who!;
    const session = req.session.sessionId;
    const s = checked.start;
    const notify = (m: string) => {
      ctx.audit(`${who}: ${m}`);
      ctx.hub.notify(session, m);
    };
    const outcome = await ctx.actions.startRun(s, notify, who);
    ctx.audit(`${who} started ${s.target} ${s.runname}: ${outcome}`);
    req.session.notices = [...(req.session.notices ?? []), outcome];
    return reply
      .code(303)
      .header('location', `/${query({ t: s.target, r: s.runname })}`)
      .send();
  });
}

/** The form's fields from a query or a body. */
function formValues(source: unknown): RunFormValues {
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries((source ?? {}) as Record<string, unknown>)) {
    if (k.startsWith('param.') && typeof v === 'string') params[k.slice('param.'.length)] = v.slice(0, 2000);
  }
  return {
    target: param(source, 'target'),
    runname: param(source, 'runname').trim(),
    pattern: param(source, 'pattern'),
    launcher: param(source, 'launcher'),
    params,
  };
}

function paramFields(params: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [`param.${k}`, v]));
}

type Asked = { action: Action; run: RunRecord; ref: CellRef; text: string } | { problem: string; status: number };

/** Reads and checks an action request: the action, the run, a test or item it really has, and for set what to set. */
async function readAction(ctx: WebContext, source: unknown, stateStatus?: string): Promise<Asked> {
  const action = param(source, 'action') as Action;
  if (!ACTIONS.includes(action)) return { problem: `'${action}' is not an action: rerun, kill or set.`, status: 400 };
  const runText = param(source, 'run');
  const run = /^[0-9]{1,9}$/.test(runText) ? await ctx.store.getRun(Number(runText)) : undefined;
  if (run === undefined) return { problem: 'There is no such run.', status: 404 };
  const ref: CellRef = { runId: run.id, testname: param(source, 't'), itempath: param(source, 'i') };
  // The names become a test pattern for the action: only a row the run really has is accepted,
  // so no wildcard or list typed into a URL can reach more tests than the one shown.
  if (ref.testname === '' || (await ctx.store.getTest(run.id, ref.testname, ref.itempath)) === undefined) {
    return { problem: `The run ${run.target} ${run.runname} has no test ${displayName(ref)}.`, status: 404 };
  }
  let text = '';
  if (action === 'set') {
    text = stateStatus ?? `${param(source, 'state')},${param(source, 'status')}`;
    try {
      const { state, status } = parseStateStatus(text, 'set');
      text = `${state ?? ''},${status ?? ''}`;
    } catch (err) {
      return { problem: `${(err as Error).message}: choose a state, or type a status (e.g. WAIVED).`, status: 400 };
    }
  }
  return { action, run, ref, text };
}

function message(ctx: WebContext, req: FastifyRequest, reply: FastifyReply, line: string, status: number): FastifyReply {
  const title = status === 409 ? 'Refused' : status === 404 ? 'Not found' : 'Not done';
  return ctx.page(req, reply, { title }, renderMessageMain(title, [line], { href: '/', label: 'the runs' }), status);
}
