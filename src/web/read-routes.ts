/**
 * The pages that only read: the matrix (and the part of it the script fetches again), its event
 * stream, a test, a run with its log, and the comparison of two runs.
 */
import { realpathSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isInside } from '../config/paths.js';
import { displayName } from '../model/display-name.js';
import { parseTestPattern, type TestPattern } from '../model/pattern.js';
import type { EventRecord, RunRecord } from '../model/records.js';
import { awaitsSignOff } from '../model/states.js';
import { diffRuns } from '../report/diff.js';
import { DEFAULT_LOG_KINDS, nameEvents, selectEvents } from '../report/run-log.js';
import { readLogTail, type LogTail } from '../view/log-tail.js';
import { flattenRows, parseStatusFilter, treeWithin, type RowEntry } from '../view/rows.js';
import { filterRuns, type Filters } from '../view/run-filters.js';
import { pickLogStep } from '../view/test-facts.js';
import type { PageView } from './live-hub.js';
import { renderDiffMain } from './pages/diff-page.js';
import { renderMessageMain } from './pages/forms.js';
import { DEFAULT_COUNT, MAX_COUNT, renderLiveArea, renderMatrixMain, type MatrixInput, type MatrixView } from './pages/matrix-page.js';
import { renderRunMain } from './pages/run-page.js';
import { renderHostsMain, renderHostsPart } from './pages/hosts-page.js';
import { renderDetail, renderTestMain, isLive, type OtherRun } from './pages/test-page.js';
import type { WebContext } from './web-app.js';

/** How long a page waits for the cells of runs it is about to show before it shows `..` (ms). */
const LOAD_WAIT_MS = 2_000;
/** Most pages with an event stream at once. */
const MAX_STREAMS = 500;
/** A page whose stream has this much unsent is too slow to keep up: it is closed (and reconnects). */
const MAX_UNSENT = 8 * 1024 * 1024;
/** The most events the run page shows (the newest). */
const MAX_EVENTS = 2_000;

type Query = Record<string, string | string[] | undefined>;

/** The first value of a query parameter, or ''. */
export function param(q: unknown, name: string): string {
  const v = (q as Query)[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s.slice(0, 2000) : '';
}

/** A whole number parameter within limits; `fallback` when absent or bad. */
function intParam(q: unknown, name: string, fallback: number, min: number, max: number): number {
  const s = param(q, name);
  if (!/^[0-9]{1,9}$/.test(s)) return fallback;
  return Math.min(max, Math.max(min, Number(s)));
}

/** The matrix view a query asks for; a bad test pattern is said, and ignored. */
function parseView(q: unknown): { view: MatrixView; pattern: TestPattern | undefined; error?: string } {
  const filters: Filters = {
    target: param(q, 't').trim(),
    runname: param(q, 'r').trim(),
    pattern: param(q, 'p').trim(),
    status: param(q, 'status').trim(),
  };
  const foldAll = param(q, 'fold') === 'all';
  const open = param(q, 'open')
    .split(',')
    .filter((s) => s !== '')
    .slice(0, 500);
  const view: MatrixView = {
    filters,
    count: intParam(q, 'n', DEFAULT_COUNT, 1, MAX_COUNT),
    offset: intParam(q, 'o', 0, 0, 1e9),
    foldAll,
    open,
  };
  if (filters.pattern === '') return { view, pattern: undefined };
  try {
    return { view, pattern: parseTestPattern(filters.pattern, 'test pattern') };
  } catch (err) {
    return { view: { ...view, filters: { ...filters, pattern: '' } }, pattern: undefined, error: (err as Error).message };
  }
}

/** Whether a page with this view shows a row: its test pattern, and items not folded away. */
function rowShown(view: MatrixView, pattern: TestPattern | undefined): (testname: string, itempath: string) => boolean {
  const open = new Set(view.open);
  return (testname, itempath) => {
    if (itempath === '') return pattern === undefined || pattern.matchTest(testname);
    if (view.foldAll && !open.has(testname)) return false;
    return pattern === undefined || pattern.matchItem(testname, itempath);
  };
}

/** The log tail of a step, only when the log lies inside the run area (a recorded path is not trusted). */
function readTailInside(runArea: string, file: string): LogTail {
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return readLogTail(file);
  }
  let root = runArea;
  try {
    root = realpathSync(runArea);
  } catch {
    // the run area itself is missing: nothing can be inside it
  }
  if (!isInside(root, real)) return { file, lines: [], error: 'not shown: the log is outside the run area' };
  return readLogTail(real);
}

/** The test's cell in up to 50 other runs, newest first. */
function otherRuns(hub: WebContext['hub'], runId: number, key: string): OtherRun[] {
  const others: OtherRun[] = [];
  for (const r of hub.data.runs()) {
    if (r.id === runId) continue;
    const cell = hub.data.cell(r.id, key);
    if (cell !== undefined) others.push({ run: r, state: cell.state, status: cell.status });
    if (others.length >= 50) break;
  }
  return others;
}

export function registerReadRoutes(app: FastifyInstance, ctx: WebContext): void {
  const { hub } = ctx;

  app.get('/', async (req, reply) => {
    const { view, pattern, error } = parseView(req.query);
    const all = hub.data.runs();
    const matching = filterRuns(all, view.filters);
    const runs = matching.slice(view.offset, view.offset + view.count);
    await hub.ensureLoaded(
      runs.map((r) => r.id),
      LOAD_WAIT_MS,
    );
    const input: MatrixInput = {
      data: hub.data,
      view,
      runs,
      rows: rowsOf(ctx, runs, view, pattern),
      matching,
      allRuns: all.length,
      seq: hub.seq,
      runArea: ctx.runArea,
      ...(error !== undefined ? { filterError: error } : {}),
    };
    if (param(req.query, 'frag') === '1')
      return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(renderLiveArea(input));
    return ctx.page(req, reply, { title: 'Runs', section: 'matrix' }, renderMatrixMain(input));
  });

  app.get('/events', (req, reply) => openStream(ctx, req, reply));

  app.get('/test', async (req, reply) => {
    const runId = intParam(req.query, 'run', 0, 0, 2 ** 31);
    const testname = param(req.query, 't');
    const itempath = param(req.query, 'i');
    const run = hub.data.run(runId) ?? (await ctx.store.getRun(runId));
    if (run === undefined || testname === '') return notFound(ctx, req, reply, 'There is no such run.');
    const detail = await ctx.store.getTest(run.id, testname, itempath);
    const step = detail ? pickLogStep(detail.steps) : undefined;
    const tail = step?.logfile ? readTailInside(ctx.runArea, step.logfile) : undefined;
    const items = itempath === '' ? (hub.data.rowTree().tests.find((x) => x.testname === testname)?.items.length ?? 0) : 0;
    const frag = param(req.query, 'frag') === '1';
    // The live fragment (asked for every second by each open page) does not show other runs.
    const others = frag ? [] : otherRuns(hub, run.id, displayName({ testname, itempath }));
    const input = { run, testname, itempath, detail, tail, items, others, now: ctx.now() };
    if (frag) return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(renderDetail(input).text);
    const title = `${displayName({ testname, itempath })} in ${run.target} ${run.runname}`;
    // A parked test changes only when someone signs it off: no reload that would lose a comment being typed.
    const refresh = isLive(detail) && !awaitsSignOff(detail!);
    return ctx.page(req, reply, { title, ...(refresh ? { refreshSeconds: 5 } : {}) }, renderTestMain(input), detail ? 200 : 404);
  });

  app.get('/hosts', async (req, reply) => {
    const hosts = ctx.listHosts ? await ctx.listHosts().catch(() => undefined) : [];
    const input = { hosts, now: ctx.now() };
    if (param(req.query, 'frag') === '1')
      return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(renderHostsPart(input).text);
    return ctx.page(req, reply, { title: 'Hosts', section: 'hosts', refreshSeconds: 10 }, renderHostsMain(input));
  });

  app.get('/run', async (req, reply) => {
    const runId = intParam(req.query, 'id', 0, 0, 2 ** 31);
    const run = await ctx.store.getRun(runId);
    if (run === undefined) return notFound(ctx, req, reply, 'There is no such run.');
    const all = param(req.query, 'all') === '1';
    const events = await readEvents(ctx, run.id);
    const selected = selectEvents(events, all ? 'all' : DEFAULT_LOG_KINDS);
    const shown = selected.slice(-MAX_EVENTS);
    const rows = shown.some((e) => e.testId !== null) ? await ctx.store.listTests(run.id) : [];
    const previous = hub.data.runs().find((r) => r.target === run.target && r.id !== run.id && r.created <= run.created);
    const main = renderRunMain({ run, entries: nameEvents(shown, rows, events), all, cut: selected.length - shown.length, previous });
    return ctx.page(req, reply, { title: `${run.target} ${run.runname}` }, main);
  });

  app.get('/diff', async (req, reply) => {
    const choices = hub.data.runs().slice(0, 1000);
    const pick = async (name: string): Promise<RunRecord | undefined> => {
      const id = intParam(req.query, name, 0, 0, 2 ** 31);
      return id === 0 ? undefined : (hub.data.run(id) ?? (await ctx.store.getRun(id)));
    };
    const [old, now] = [await pick('old'), await pick('new')];
    const base = { choices, ...(old ? { old } : {}), ...(now ? { new: now } : {}) };
    if (old === undefined || now === undefined) {
      const asked = param(req.query, 'old') !== '' && param(req.query, 'new') !== '';
      return ctx.page(
        req,
        reply,
        { title: 'Compare runs', section: 'diff' },
        renderDiffMain({ ...base, ...(asked ? { error: 'One of those runs is not in the run area (any more).' } : {}) }),
        asked ? 404 : 200,
      );
    }
    const [oldRows, newRows] = await Promise.all([ctx.store.listTests(old.id), ctx.store.listTests(now.id)]);
    const main = renderDiffMain({ ...base, diff: diffRuns(oldRows, newRows) });
    return ctx.page(req, reply, { title: `${old.runname} → ${now.runname}`, section: 'diff' }, main);
  });
}

/** The rows of the runs shown: their tests and items, through the test pattern and status filter. */
function rowsOf(ctx: WebContext, runs: readonly RunRecord[], view: MatrixView, pattern: TestPattern | undefined): RowEntry[] {
  const data = ctx.hub.data;
  const loaded = runs.filter((r) => data.hasCells(r.id));
  const tree = treeWithin(data.rowTree(), (key) => loaded.some((r) => data.hasRow(r.id, key)));
  return flattenRows(tree, {
    foldedByDefault: view.foldAll,
    toggled: new Set(view.open),
    pattern,
    statuses: parseStatusFilter(view.filters.status),
    cellsOf: (key) => loaded.map((r) => data.cell(r.id, key)),
  });
}

/** Every event of a run, oldest first, a page at a time. */
async function readEvents(ctx: WebContext, runId: number): Promise<EventRecord[]> {
  const all: EventRecord[] = [];
  for (;;) {
    const page = await ctx.store.events(runId, all.length === 0 ? 0 : all[all.length - 1]!.seq, 10_000);
    all.push(...page);
    if (page.length < 10_000) return all;
  }
}

function notFound(ctx: WebContext, req: FastifyRequest, reply: FastifyReply, line: string): FastifyReply {
  return ctx.page(req, reply, { title: 'Not found' }, renderMessageMain('Not found', [line], { href: '/', label: 'the runs' }), 404);
}

/**
 * The page's event stream (server-sent events): `hello`, then `update` (cells and headers),
 * `reload`, `trouble` and `notice` as they happen, and a comment every 20 s so that a dead
 * connection is noticed.
 */
function openStream(ctx: WebContext, req: FastifyRequest, reply: FastifyReply): void {
  if (ctx.hub.viewCount >= MAX_STREAMS) {
    void reply.code(503).type('text/plain; charset=utf-8').send('too many open pages; close some\n');
    return;
  }
  const q = req.query;
  const runIds = param(q, 'runs')
    .split(',')
    .filter((s) => /^[0-9]{1,9}$/.test(s))
    .map(Number)
    .slice(0, MAX_COUNT);
  const { view: mv, pattern } = parseView(q);
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
  res.write('retry: 2000\n\n');
  let open = true;
  let remove = () => {};
  let ping: NodeJS.Timeout | undefined;
  const close = () => {
    if (!open) return;
    open = false;
    clearInterval(ping);
    remove();
    res.end();
  };
  const view: PageView = {
    runIds,
    statusFilter: param(q, 'sf') === '1',
    front: param(q, 'front') === '1',
    filters: mv.filters,
    showsRow: rowShown(mv, pattern),
    session: req.session.sessionId,
    send(event, data) {
      if (!open) return;
      if (res.writableLength > MAX_UNSENT) return close();
      res.write(`event: ${event}\ndata: ${data}\n\n`);
    },
    close,
  };
  ping = setInterval(() => open && res.write(': ping\n\n'), 20_000);
  ping.unref();
  remove = ctx.hub.addView(view, intParam(q, 'since', 0, 0, 2 ** 31));
  req.raw.on('close', close);
}
