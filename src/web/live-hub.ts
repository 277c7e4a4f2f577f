/**
 * The web view's one window on the run area, shared by every browser: one MatrixData kept current
 * by one LiveSource (the terminal dashboard's data layer), following the runs that open pages
 * show, the runs a page is about to render, and the newest runs (so the front page opens warm).
 *
 * Each feed answer becomes one numbered update: per run, the cells that changed (their word and
 * tone as they are now, read back from MatrixData, so an answer that arrived out of order never
 * shows an older word) and its new header; plus whether runs came or went, or a run's rows were
 * replaced. Each page gets only what concerns its runs, or "reload" when its rows or columns
 * change. The last updates are kept, so a page that connects after it was rendered catches up on
 * what happened in between (or reloads when that is too long ago).
 */
import { displayName } from '../model/display-name.js';
import type { FeedBatch, RunRecord } from '../model/records.js';
import { lookOf } from '../view/cell-style.js';
import { LiveSource, type FeedAccess } from '../view/live-source.js';
import { MatrixData } from '../view/matrix-data.js';
import { countsTone, okCount, orderedCounts } from '../view/run-facts.js';
import { matchList, type Filters } from '../view/run-filters.js';

/** One open page, as its event stream sees it. */
export interface PageView {
  /** the runs it shows, in column order */
  runIds: readonly number[];
  /** rows come and go with cells under a status filter: such a page reloads instead of patching */
  statusFilter: boolean;
  /** the page shows the newest runs (no paging): a new run that passes its filters reloads it */
  front: boolean;
  filters: Pick<Filters, 'target' | 'runname'>;
  /** the rows the page shows (its test pattern, folded items); others' changes are not sent */
  showsRow?: (testname: string, itempath: string) => boolean;
  /** the session it belongs to, for notices */
  session: string;
  /** writes one server-sent event */
  send(event: string, data: string): void;
  close(): void;
}

interface CellChange {
  testname: string;
  itempath: string;
  json: string;
}

/** What one feed answer changed, kept ready to send. */
interface Update {
  seq: number;
  /** run id → changed cells, each with its JSON entry `[runId,key,word,tone]` */
  cells: Map<number, CellChange[]>;
  /** run id → JSON entry `[runId,state,ok,total,tone,title]` */
  headers: Map<number, string>;
  /** runs whose rows were replaced or removed: their pages reload */
  rebuilt: Set<number>;
  added: RunRecord[];
  removed: Set<number>;
}

export interface LiveHubOptions {
  feed: FeedAccess;
  /** how many of the newest runs are always followed (the front page's) */
  frontRuns: number;
  /** looks after runs shown `running` whose runner may have died (as the dashboard does) */
  reapRunning?: (runs: RunRecord[]) => Promise<void>;
  waitMs?: number;
  minIntervalMs?: number;
}

/** Updates kept for pages that connect late. */
const KEEP_UPDATES = 200;
/** How long a run a page was rendered with stays followed without its event stream (ms). */
const HOLD_MS = 60_000;
const REAP_EVERY_MS = 15_000;
const PRUNE_EVERY_MS = 10_000;

export class LiveHub {
  readonly data = new MatrixData();
  readonly #o: LiveHubOptions;
  readonly #source: LiveSource;
  readonly #views = new Set<PageView>();
  /** run id → until when (ms) a rendered page keeps it followed */
  readonly #holds = new Map<number, number>();
  /** feed answers not yet turned into updates */
  #batches: FeedBatch[] = [];
  #updates: Update[] = [];
  #seq = 0;
  /** runs seen so far, to tell a new run from a changed one */
  readonly #known = new Set<number>();
  #trouble: string | undefined;
  #loadWaiters = new Set<() => void>();
  #timers: NodeJS.Timeout[] = [];
  #stopped = false;

  constructor(opts: LiveHubOptions) {
    this.#o = opts;
    const feed: FeedAccess = {
      changes: (c) => opts.feed.changes(c).then((b) => this.#took(b)),
      waitForChanges: (c, ms, signal) => opts.feed.waitForChanges(c, ms, signal).then((b) => this.#took(b)),
    };
    this.#source = new LiveSource({
      feed,
      data: this.data,
      onUpdate: () => this.#onUpdate(),
      onTrouble: (m) => this.setTrouble(m),
      ...(opts.waitMs !== undefined ? { waitMs: opts.waitMs } : {}),
      ...(opts.minIntervalMs !== undefined ? { minIntervalMs: opts.minIntervalMs } : {}),
    });
  }

  /** Loads every run's summary and starts following the newest. */
  async start(): Promise<void> {
    await this.#source.start();
    this.#follow();
    const prune = setInterval(() => this.#prune(), PRUNE_EVERY_MS);
    prune.unref();
    this.#timers.push(prune);
    if (this.#o.reapRunning) {
      const reap = this.#o.reapRunning;
      let busy = false;
      const tick = () => {
        const running = this.data.runs().filter((r) => r.state === 'running');
        if (busy || running.length === 0) return;
        busy = true;
        // A failure (the server restarting) is the banner's business; try again next time.
        void reap(running)
          .catch(() => undefined)
          .finally(() => (busy = false));
      };
      tick();
      const timer = setInterval(tick, REAP_EVERY_MS);
      timer.unref();
      this.#timers.push(timer);
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#source.stop();
    for (const v of [...this.#views]) v.close();
    this.#views.clear();
    for (const w of this.#loadWaiters) w();
  }

  /** The number of the last update: a page rendered now has seen everything up to it. */
  get seq(): number {
    return this.#seq;
  }

  /** Why the run area's server cannot be reached now, if it cannot. */
  get trouble(): string | undefined {
    return this.#trouble;
  }

  /** How many pages are connected. */
  get viewCount(): number {
    return this.#views.size;
  }

  setTrouble(message: string | undefined): void {
    if (message === this.#trouble) return;
    this.#trouble = message;
    const data = JSON.stringify({ message: message ?? null });
    for (const v of this.#views) v.send('trouble', data);
  }

  /**
   * Follows these runs (a page is about to show them) and resolves when their cells are here, or
   * after `timeoutMs` (the page then shows `..` and reloads when they arrive).
   */
  async ensureLoaded(runIds: readonly number[], timeoutMs: number): Promise<void> {
    const until = Date.now() + HOLD_MS;
    for (const id of runIds) this.#holds.set(id, Math.max(until, this.#holds.get(id) ?? 0));
    this.#follow();
    const loaded = () => this.#stopped || runIds.every((id) => this.data.hasCells(id) || this.data.run(id) === undefined);
    if (loaded()) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#loadWaiters.delete(check);
        resolve();
      };
      const check = () => {
        if (loaded()) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#loadWaiters.add(check);
    });
  }

  /**
   * Adds an open page. It gets `hello` (what is loaded now, the trouble), then what changed since
   * `since` (the update its HTML was rendered at), or `reload` when that is no longer kept.
   */
  addView(view: PageView, since: number): () => void {
    this.#views.add(view);
    this.#follow();
    const loaded = view.runIds.filter((id) => this.data.hasCells(id));
    view.send('hello', JSON.stringify({ seq: this.#seq, loaded, trouble: this.#trouble ?? null }));
    if (since < this.#seq) {
      const first = this.#updates[0];
      if (first === undefined || first.seq > since + 1) view.send('reload', JSON.stringify({ seq: this.#seq }));
      else for (const u of this.#updates) if (u.seq > since) this.#sendTo(view, u);
    }
    return () => {
      if (this.#views.delete(view)) this.#follow();
    };
  }

  /** Tells every page of a session something (a run it started has ended). */
  notify(session: string, message: string): void {
    const data = JSON.stringify({ message });
    for (const v of this.#views) if (v.session === session) v.send('notice', data);
  }

  /** Closes the pages of a session (it logged out). */
  closeSession(session: string): void {
    for (const v of [...this.#views]) if (v.session === session) v.close();
  }

  #took(batch: FeedBatch): FeedBatch {
    this.#batches.push(batch);
    return batch;
  }

  #onUpdate(): void {
    const batches = this.#batches;
    this.#batches = [];
    const first = this.#seq === 0;
    const u: Update = { seq: this.#seq + 1, cells: new Map(), headers: new Map(), rebuilt: new Set(), added: [], removed: new Set() };
    for (const batch of batches) {
      for (const run of batch.runs) {
        const now = this.data.run(run.id);
        if (now === undefined) continue;
        // The first answer (every run) is where pages start, not news.
        if (!first && !this.#known.has(run.id)) u.added.push(now);
        this.#known.add(run.id);
        if (!first) u.headers.set(run.id, headerEntry(now));
      }
      for (const id of batch.removedRuns) {
        u.removed.add(id);
        this.#known.delete(id);
      }
      for (const rc of batch.cells) this.#takeCells(u, rc);
    }
    const any = u.cells.size + u.headers.size + u.rebuilt.size + u.added.length + u.removed.size > 0;
    if (any || first) {
      this.#seq = u.seq;
      this.#updates.push(u);
      if (this.#updates.length > KEEP_UPDATES) this.#updates.shift();
      for (const v of this.#views) this.#sendTo(v, u);
    }
    if (u.added.length > 0 || u.removed.size > 0) this.#follow();
    for (const w of [...this.#loadWaiters]) w();
  }

  /** The cells of one run's answer: their words now, or the whole run when its rows were replaced. */
  #takeCells(u: Update, rc: FeedBatch['cells'][number]): void {
    if (rc.full || rc.removed.length > 0) {
      u.rebuilt.add(rc.runId);
      return;
    }
    let list = u.cells.get(rc.runId);
    for (const c of rc.cells) {
      const key = displayName(c);
      const now = this.data.cell(rc.runId, key);
      if (now === undefined) continue;
      const look = lookOf(now.state, now.status);
      if (list === undefined) {
        list = [];
        u.cells.set(rc.runId, list);
      }
      list.push({ testname: c.testname, itempath: c.itempath, json: JSON.stringify([rc.runId, key, look.text, look.tone]) });
    }
  }

  /** Sends a page what the update holds for it. */
  #sendTo(view: PageView, u: Update): void {
    const mine = new Set(view.runIds);
    const reload =
      view.runIds.some((id) => u.rebuilt.has(id) || u.removed.has(id) || (view.statusFilter && u.cells.has(id))) ||
      (view.front && u.added.some((r) => matchList(view.filters.target, r.target) && matchList(view.filters.runname, r.runname)));
    if (reload) {
      view.send('reload', JSON.stringify({ seq: u.seq }));
      return;
    }
    const cells: string[] = [];
    const headers: string[] = [];
    const shows = view.showsRow;
    for (const [id, list] of u.cells) {
      if (!mine.has(id)) continue;
      for (const c of list) if (shows === undefined || shows(c.testname, c.itempath)) cells.push(c.json);
    }
    for (const [id, entry] of u.headers) if (mine.has(id)) headers.push(entry);
    if (cells.length === 0 && headers.length === 0) return;
    // `at`: when it left (ms since the epoch), for a page's trace (bench/web.mjs).
    view.send('update', `{"seq":${u.seq},"at":${Date.now()},"c":[${cells.join(',')}],"h":[${headers.join(',')}]}`);
  }

  /** Follows the runs pages show, then those held for pages being rendered, then the newest. */
  #follow(): void {
    if (this.#stopped || !this.data.loaded) return;
    const ids: number[] = [];
    for (const v of this.#views) ids.push(...v.runIds);
    ids.push(...this.#holds.keys());
    for (const run of this.data.runs().slice(0, this.#o.frontRuns)) ids.push(run.id);
    this.#source.follow(ids.filter((id) => this.data.run(id) !== undefined));
  }

  #prune(): void {
    const now = Date.now();
    let changed = false;
    for (const [id, until] of this.#holds) {
      if (until < now) {
        this.#holds.delete(id);
        changed = true;
      }
    }
    if (changed) this.#follow();
  }
}

/** A run's column header as the page patches it: state, ok/tests, its tone, the counts in words. */
export function headerEntry(run: RunRecord): string {
  const counts = orderedCounts(run.counts)
    .map(([s, n]) => `${s === 'n/a' ? 'not ended' : s} ${n}`)
    .join(', ');
  return JSON.stringify([run.id, run.state, okCount(run), run.total, countsTone(run), counts]);
}
