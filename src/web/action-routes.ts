/**
 * The pages that change something: logging in and out, inviting someone, and the actions on
 * tests and runs. Every action is asked for with a GET that changes nothing and shows what will
 * happen; only the page's POST, with the session's CSRF token and `confirmed=yes`, does it. Each
 * is recorded with who did it (the run's events through the store, and the web view's own log).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { displayName } from '../model/display-name.js';
import type { RunRecord, TestDetail, TestRecord } from '../model/records.js';
import { awaitsSignOff, MAX_SIGN_OFF_COMMENT, parseStateStatus } from '../model/states.js';
import type { CellRef } from '../view/actions.js';
import { query } from './html.js';
import { renderConfirmMain, renderInviteMain, renderLoginMain, renderMessageMain, renderStartMain } from './pages/forms.js';
import { param } from './read-routes.js';
import { checkRunForm, type RunFormValues } from './run-form.js';
import type { WebContext } from './web-app.js';

type Action = 'rerun' | 'kill' | 'set' | 'approve' | 'reject';
const ACTIONS: readonly Action[] = ['rerun', 'kill', 'set', 'approve', 'reject'];
const A_ACTION: Record<Action, string> = { rerun: 'a rerun', kill: 'a kill', set: 'a set', approve: 'an approval', reject: 'a rejection' };
/** Longest sign-off comment read from a form (the sign-off itself refuses one over MAX_SIGN_OFF_COMMENT). */
const MAX_COMMENT_READ = 8192;
/** How long an invitation's link works (hours). */
const INVITE_HOURS = 24;
const NAME = /^[A-Za-z0-9_.@+-]{1,64}$/;

export function registerActionRoutes(app: FastifyInstance, ctx: WebContext, checkCsrf: preHandlerHookHandler): void {
  const login = async (req: FastifyRequest, reply: FastifyReply, token: string) => {
    const entry = ctx.logins.consume(token);
    if (entry === undefined) {
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
    req.session.who = entry.who;
    req.session.user = entry.user;
    ctx.audit(`${entry.who} logged in from ${req.ip}`);
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
    // The name typed is the user `[setup] approvers` is checked against when they sign off a step.
    const token = ctx.logins.issue(who, INVITE_HOURS * 3600 * 1000, name);
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
      const line = `The run ${run.target}/${run.runname} is locked (by ${run.lockedBy || 'someone'}): it refuses ${A_ACTION[action]}. Unlock it with \`trellis unlock -t ${run.target} -r ${run.runname}\` first.`;
      return message(ctx, req, reply, line, 409);
    }
    if (action === 'approve' || action === 'reject') return confirmSignOff(ctx, req, reply, asked);
    const where = `${run.target} ${run.runname}`;
    const who = req.session.who!;
    const details: Record<Exclude<Action, 'approve' | 'reject'>, string[]> = {
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
    const { action, run, ref, text, step, comment } = asked;
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
    else if (action === 'set') outcome = await ctx.actions.setStateStatus(ref, run, text, who);
    else outcome = await ctx.actions.signOff(ref, run, action, { who, user: sessionUser(req), comment, step });
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
    const paramWords = Object.entries(s.params ?? {})
      .map(([k, v]) => ` --param '${k}=${v}'`)
      .join('');
    return ctx.page(
      req,
      reply,
      { title: 'Confirm', section: 'start' },
      renderConfirmMain({
        question: `Start run ${s.target} ${s.runname}?`,
        details: [
          `trellis run -t ${s.target} -r ${s.runname}${s.pattern ? ` -p ${s.pattern}` : ''}${s.launcher ? ` --launcher '${s.launcher}'` : ''}${paramWords}, on the web host, in the background.`,
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

type Asked =
  | {
      action: Action;
      run: RunRecord;
      ref: CellRef;
      /** the row itself */
      row: TestDetail;
      /** for set: STATE,STATUS */
      text: string;
      /** for approve and reject: the step the person saw waiting ('' for whichever), and their comment as given */
      step: string;
      comment: string;
    }
  | { problem: string; status: number };

/** Reads and checks an action request: the action, the run, a test or item it really has, and for set what to set. */
async function readAction(ctx: WebContext, source: unknown, stateStatus?: string): Promise<Asked> {
  const action = param(source, 'action') as Action;
  if (!ACTIONS.includes(action)) return { problem: `'${action}' is not an action: rerun, kill, set, approve or reject.`, status: 400 };
  const runText = param(source, 'run');
  const run = /^[0-9]{1,9}$/.test(runText) ? await ctx.store.getRun(Number(runText)) : undefined;
  if (run === undefined) return { problem: 'There is no such run.', status: 404 };
  const ref: CellRef = { runId: run.id, testname: param(source, 't'), itempath: param(source, 'i') };
  // The names become a test pattern for the action: only a row the run really has is accepted,
  // so no wildcard or list typed into a URL can reach more tests than the one shown.
  const row = ref.testname === '' ? undefined : await ctx.store.getTest(run.id, ref.testname, ref.itempath);
  if (row === undefined) {
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
  const signOff = action === 'approve' || action === 'reject';
  const step = signOff ? param(source, 'step') : '';
  const comment = signOff ? rawParam(source, 'comment', MAX_COMMENT_READ) : '';
  return { action, run, ref, row, text, step, comment };
}

/** A form value as it came (not cut at 2,000 characters like `param`), up to `max`. */
function rawParam(source: unknown, name: string, max: number): string {
  const v = (source as Record<string, unknown> | undefined)?.[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s.slice(0, max) : '';
}

/**
 * The name `[setup] approvers` is checked against: the session's user (the name an invitation was
 * made for; for the login link `trellis web` prints, the login name of whoever started it).
 */
function sessionUser(req: FastifyRequest): string {
  return req.session.user ?? req.session.who!.replace(/ via web$/, '');
}

/** Asks before a sign-off: the step and its prompt, what follows, and the comment, still editable. */
async function confirmSignOff(
  ctx: WebContext,
  req: FastifyRequest,
  reply: FastifyReply,
  asked: Extract<Asked, { action: Action }>,
): Promise<FastifyReply> {
  const { action, run, ref, row } = asked;
  const name = displayName(ref);
  const waitingStep = row.steps.find((s) => s.state === 'WAITING');
  let items: TestRecord[] = [];
  if (ref.itempath === '' && waitingStep === undefined) {
    items = (await ctx.store.listTests(run.id)).filter((r) => r.testname === ref.testname && r.itempath !== '' && awaitsSignOff(r));
  }
  if (waitingStep === undefined && items.length === 0) {
    return message(
      ctx,
      req,
      reply,
      `${name} is not waiting for a sign-off (it is ${row.state}/${row.status}): only a test parked on a {manual} step can be approved or rejected.`,
      409,
    );
  }
  const step = asked.step || waitingStep?.name || '';
  if (waitingStep !== undefined && step !== waitingStep.name) {
    return message(
      ctx,
      req,
      reply,
      `${name} waits at step ${waitingStep.name}, not at step ${step}: go back to its page and look again.`,
      409,
    );
  }
  const approve = action === 'approve';
  const what = waitingStep ? `step ${waitingStep.name} of ${name}` : `the ${items.length} waiting item(s) of ${name}`;
  const asks = waitingStep ? [`It asks: ${waitingStep.comment || '(no prompt)'}`] : items.map((i) => `${displayName(i)}: ${i.comment}`);
  return ctx.page(
    req,
    reply,
    { title: 'Confirm' },
    renderConfirmMain({
      question: `${approve ? 'Approve' : 'Reject'} ${what} in ${run.target} ${run.runname}?`,
      details: [
        ...asks,
        approve
          ? `The step passes; the run's runner goes on with the next step within a second, and if none is running, the next trellis run -t ${run.target} -r ${run.runname} does.`
          : 'The step and the test become FAIL; tests that wait on it end PREQ_FAIL.',
        `Checked against [setup] approvers as ${sessionUser(req)}; recorded as done by ${req.session.who}.`,
      ],
      action: '/action',
      fields: { action, run: String(run.id), t: ref.testname, i: ref.itempath, step },
      csrf: ctx.csrfOf(reply),
      button: approve ? 'Approve it' : 'Reject it',
      danger: !approve,
      cancelHref: `/test${query({ run: run.id, t: ref.testname, i: ref.itempath })}`,
      text: { name: 'comment', label: 'Comment (optional, kept with the sign-off)', value: asked.comment, maxlength: MAX_SIGN_OFF_COMMENT },
    }),
  );
}

function message(ctx: WebContext, req: FastifyRequest, reply: FastifyReply, line: string, status: number): FastifyReply {
  const title = status === 409 ? 'Refused' : status === 404 ? 'Not found' : 'Not done';
  return ctx.page(req, reply, { title }, renderMessageMain(title, [line], { href: '/', label: 'the runs' }), status);
}
