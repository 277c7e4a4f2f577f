/**
 * The dashboard's controller: data (MatrixData, fed by LiveSource) → view-model (rows, UiState,
 * frames) → the screen. It knows no blessed and no server; the CLI passes in the feed, the
 * actions and the screen.
 */
import type { RunRecord, TestDetail } from '../model/records.js';
import { parseTestPattern, type TestPattern } from '../model/pattern.js';
import { buildDetailFrame } from './detail-view.js';
import { buildHostsFrame } from './hosts-view.js';
import type { HostView } from '../model/pool.js';
import { buildMatrixFrame, computeLayout, type Layout, type Line } from './frame.js';
import { buildHelpFrame } from './help-view.js';
import type { TestActions } from '../view/actions.js';
import { HostsReader } from '../view/hosts-reader.js';
import { LiveSource, type FeedAccess } from '../view/live-source.js';
import { readLogTail, type LogTail } from '../view/log-tail.js';
import { MatrixData } from '../view/matrix-data.js';
import { flattenRows, parseStatusFilter } from '../view/rows.js';
import { filterRuns } from '../view/run-filters.js';
import { pickLogStep } from '../view/test-facts.js';
import type { ScreenPort } from './screen.js';
import { handleKey, initialUi, scrollFor, type Effect, type Filters, type Grid, type UiState } from './ui-state.js';

/** What a user can do to a test from the dashboard; each returns the line to show. */
export type DashboardActions = Pick<TestActions, 'rerun' | 'kill' | 'setStateStatus'> & Partial<Pick<TestActions, 'signOff'>>;

export interface DashboardOptions {
  screen: ScreenPort;
  feed: FeedAccess;
  getTest(runId: number, testname: string, itempath: string): Promise<TestDetail | undefined>;
  actions: DashboardActions;
  filters?: Partial<Filters>;
  title: string;
  emptyHint: string;
  /** ends the dashboard like `q` (SIGTERM) */
  signal?: AbortSignal;
  /** hands over the function that shows (message) or clears (undefined) the connection banner */
  subscribeConnection?: (show: (message: string | undefined) => void) => void;
  /**
   * Looks after runs that show `running`: their runner may have died (then their tests are marked
   * and the run ends, through the store, and the feed brings the change). Called now and then.
   */
  reapRunning?: (runs: RunRecord[]) => Promise<void>;
  /** timings for bench/dashboard.mjs: first full paint, each key handled (ms) */
  trace?: (event: string, ms: number) => void;
  /** the clock for trace (ms), e.g. performance.now: time since the process started */
  clockMs?: () => number;
  /** how often the open detail view reads the test and its log again (ms) */
  detailRefreshMs?: number;
  /** the agents of the pool, for the hosts view (`trellis hosts`) */
  listHosts?: () => Promise<HostView[]>;
  /** the longest time between reads of the pool while the hosts view is open (ms); a change in the feed reads at once */
  hostsRefreshMs?: number;
}

/** How often runs shown `running` are checked for a dead runner (ms). */
const REAP_EVERY_MS = 15_000;

/** Heartbeat ages move while nothing is written: the open hosts view reads the pool at least this often (ms). */
const HOSTS_REFRESH_MS = 1000;

/** Runs of the screen on either side of the visible ones whose cells are kept, for quick scrolling. */
const PREFETCH_PAGES = 1;

/** Shows the dashboard until the user quits; rejects if the first load fails. */
export async function runDashboard(opts: DashboardOptions): Promise<void> {
  const dash = new Dashboard(opts);
  try {
    await dash.start();
    await dash.finished;
  } finally {
    dash.stop();
  }
}

class Dashboard {
  readonly #o: DashboardOptions;
  readonly #data = new MatrixData();
  readonly #source: LiveSource;
  #ui: UiState;
  #pattern: TestPattern | undefined;
  #banner: string | undefined;
  #rows: { key: unknown[]; rows: ReturnType<typeof flattenRows> } | undefined;
  #detail: TestDetail | undefined | null;
  #tail: LogTail | undefined;
  #detailTimer: NodeJS.Timeout | undefined;
  readonly #hosts: HostsReader;
  #reapTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** bumped when the detail view closes, so a refresh still under way is dropped */
  #detailToken = 0;
  #renderQueued = false;
  #painted = false;
  #quit!: () => void;
  readonly finished: Promise<void>;

  constructor(opts: DashboardOptions) {
    this.#o = opts;
    this.#ui = initialUi(opts.filters);
    this.#pattern = opts.filters?.pattern ? parseTestPattern(opts.filters.pattern) : undefined;
    this.finished = new Promise((resolve) => (this.#quit = resolve));
    this.#source = new LiveSource({
      feed: opts.feed,
      data: this.#data,
      onUpdate: () => this.#queueRender(),
      onTrouble: (message) => this.setBanner(message === undefined ? undefined : `lost the server: ${message}; reconnecting...`),
      onPoolChange: () => this.#hosts.wake(),
    });
    this.#hosts = new HostsReader({
      list: opts.listHosts ?? (() => Promise.resolve([])),
      onRead: () => this.#queueRender(),
      everyMs: opts.hostsRefreshMs ?? HOSTS_REFRESH_MS,
    });
  }

  async start(): Promise<void> {
    this.#o.screen.onKey((key) => this.#onKey(key));
    this.#o.screen.onResize(() => this.#render());
    this.#o.signal?.addEventListener('abort', () => this.#quit(), { once: true });
    this.#o.subscribeConnection?.((message) => this.setBanner(message));
    this.#render();
    await this.#source.start();
    this.#render();
    this.#scheduleReap(0);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#reapTimer);
    this.#source.stop();
    this.#stopDetail();
    this.#hosts.stop();
  }

  /** Shows (or clears) the banner over the run line: a lost server, a reconnect. */
  setBanner(text: string | undefined): void {
    if (this.#banner === text) return;
    this.#banner = text;
    this.#queueRender();
  }

  #onKey(key: string): void {
    const started = this.#o.clockMs?.();
    const { grid } = this.#view();
    const before = this.#ui;
    const { ui, effect } = handleKey(this.#ui, key, grid);
    this.#ui = ui;
    if (ui.mode === 'detail' && before.mode !== 'detail') this.#startDetail();
    if (ui.mode !== 'detail' && before.mode === 'detail') this.#stopDetail();
    if (ui.mode === 'hosts' && before.mode !== 'hosts') this.#openHosts(true);
    if (ui.mode !== 'hosts' && before.mode === 'hosts') this.#openHosts(false);
    if (effect) this.#apply(effect);
    this.#render();
    if (started !== undefined) this.#o.trace?.(`key ${key}`, this.#o.clockMs!() - started);
  }

  #apply(effect: Effect): void {
    switch (effect.kind) {
      case 'quit':
        this.#quit();
        return;
      case 'filters':
        try {
          this.#pattern = this.#ui.filters.pattern ? parseTestPattern(this.#ui.filters.pattern, 'test filter') : undefined;
        } catch (err) {
          this.#ui = { ...this.#ui, filters: { ...this.#ui.filters, pattern: '' }, message: (err as Error).message };
          this.#pattern = undefined;
        }
        return;
      default: {
        const run = this.#data.run(effect.ref.runId);
        if (run === undefined) {
          this.#say('that run is gone');
          return;
        }
        const a = this.#o.actions;
        const notify = (m: string) => this.#say(m);
        let done: Promise<string>;
        if (effect.kind === 'set') done = a.setStateStatus(effect.ref, run, effect.text);
        else if (effect.kind === 'kill') done = a.kill(effect.ref, run);
        else if (effect.kind === 'approve' || effect.kind === 'reject')
          done = a.signOff ? a.signOff(effect.ref, run, effect.kind) : Promise.resolve('signing off is not available here');
        else done = a.rerun(effect.ref, run, notify);
        this.#say(`${DOING[effect.kind]}...`);
        done.then(notify, (err: Error) => notify(err.message));
      }
    }
  }

  /** Checks the runs shown `running` for a dead runner, then again every REAP_EVERY_MS. */
  #scheduleReap(delayMs: number): void {
    const reap = this.#o.reapRunning;
    if (reap === undefined || this.#stopped) return;
    this.#reapTimer = setTimeout(() => {
      const running = this.#data.runs().filter((r) => r.state === 'running');
      // A failure (server restarting) is the banner's business; try again next time.
      void (running.length > 0 ? reap(running) : Promise.resolve()).catch(() => undefined).finally(() => this.#scheduleReap(REAP_EVERY_MS));
    }, delayMs);
    this.#reapTimer.unref();
  }

  #say(message: string): void {
    this.#ui = { ...this.#ui, message };
    this.#queueRender();
  }

  /** Rows, runs and layout as they are now; rows are recomputed only when their inputs changed. */
  #view(): { grid: Grid; layout: Layout; allRuns: number } {
    const { width, height } = this.#o.screen.size();
    const all = this.#data.runs();
    const f = this.#ui.filters;
    const runs = filterRuns(all, f);
    const key = [this.#data.version, f, this.#ui.toggled, this.#ui.foldedByDefault, this.#pattern, runs.length];
    if (this.#rows === undefined || key.some((k, i) => k !== this.#rows!.key[i])) {
      const statuses = parseStatusFilter(f.status);
      const loaded = runs.filter((r) => this.#data.hasCells(r.id));
      const rows = flattenRows(this.#data.rowTree(), {
        foldedByDefault: this.#ui.foldedByDefault,
        toggled: this.#ui.toggled,
        pattern: this.#pattern,
        statuses,
        cellsOf: (k) => loaded.map((r) => this.#data.cell(r.id, k)),
      });
      this.#rows = { key, rows };
    }
    const rows = this.#rows.rows;
    const layout = computeLayout(width, height, rows, runs);
    return { grid: { rows, runs, pageRows: layout.pageRows, pageCols: layout.pageCols }, layout, allRuns: all.length };
  }

  #queueRender(): void {
    if (this.#renderQueued) return;
    this.#renderQueued = true;
    setImmediate(() => {
      this.#renderQueued = false;
      this.#render();
    });
  }

  #render(): void {
    const { width, height } = this.#o.screen.size();
    const { grid, layout, allRuns } = this.#view();
    this.#followVisible(grid, layout);
    let lines: Line[];
    if (this.#ui.mode === 'help') lines = buildHelpFrame(width, height);
    else if (this.#ui.mode === 'hosts')
      lines = buildHostsFrame({ ui: this.#ui, hosts: this.#hosts.hosts, now: Date.now() / 1000, width, height, banner: this.#banner });
    else if (this.#ui.mode === 'detail') {
      const ref = this.#ui.detail;
      const run = ref ? this.#data.run(ref.runId) : undefined;
      const items = ref?.itempath === '' ? (this.#data.rowTree().tests.find((x) => x.testname === ref.testname)?.items.length ?? 0) : 0;
      lines = buildDetailFrame({ ui: this.#ui, detail: this.#detail, run, tail: this.#tail, items, width, height, banner: this.#banner });
    } else {
      lines = buildMatrixFrame({
        data: this.#data,
        ui: this.#ui,
        grid,
        layout,
        width,
        height,
        title: this.#o.title,
        banner: this.#banner,
        emptyHint: this.#o.emptyHint,
        allRuns,
      });
    }
    this.#o.screen.draw(lines);
    if (!this.#painted && this.#o.clockMs && this.#data.loaded && this.#onScreenLoaded(grid, layout)) {
      this.#painted = true;
      this.#o.trace?.('first-paint', this.#o.clockMs());
    }
  }

  /** True when every run on screen shows its cells (the first full paint). */
  #onScreenLoaded(grid: Grid, layout: Layout): boolean {
    const { colLeft } = scrollFor(this.#ui, grid);
    return grid.runs.slice(colLeft, colLeft + layout.pageCols).every((r) => this.#data.hasCells(r.id));
  }

  /**
   * Follows the runs on screen, then the next page and the page before (for quick scrolling);
   * the others' cells are let go. Counted from the screen's left edge as it is drawn.
   */
  #followVisible(grid: Grid, layout: Layout): void {
    if (!this.#data.loaded) return;
    const { colLeft } = scrollFor(this.#ui, grid);
    const page = layout.pageCols * PREFETCH_PAGES;
    const onScreen = grid.runs.slice(colLeft, colLeft + layout.pageCols);
    const after = grid.runs.slice(colLeft + layout.pageCols, colLeft + layout.pageCols + page);
    const before = grid.runs.slice(Math.max(0, colLeft - page), colLeft);
    this.#source.follow([...onScreen, ...after, ...before.reverse()].map((r) => r.id));
  }

  #startDetail(): void {
    this.#detail = undefined;
    this.#tail = undefined;
    const ref = this.#ui.detail;
    if (ref === undefined) return;
    const token = this.#detailToken;
    const refresh = async () => {
      // A failed read (server restarting) keeps what is shown; the banner says why.
      const detail = await this.#o.getTest(ref.runId, ref.testname, ref.itempath).catch(() => this.#detail);
      const step = detail ? pickLogStep(detail.steps) : undefined;
      const tail = step?.logfile ? readLogTail(step.logfile) : undefined;
      if (token !== this.#detailToken) return;
      this.#detail = detail ?? null;
      this.#tail = tail;
      this.#queueRender();
    };
    const loop = () => {
      void refresh().finally(() => {
        if (token !== this.#detailToken) return;
        this.#detailTimer = setTimeout(loop, this.#o.detailRefreshMs ?? 500);
        this.#detailTimer.unref();
      });
    };
    loop();
  }

  /** The hosts view opened or closed: the pool is read, and followed in the feed, only while it is open. */
  #openHosts(open: boolean): void {
    if (open) this.#hosts.start();
    else this.#hosts.stop();
    this.#source.followPool(open);
  }

  #stopDetail(): void {
    this.#detailToken++;
    if (this.#detailTimer) clearTimeout(this.#detailTimer);
    this.#detailTimer = undefined;
  }
}

/** What the status line says while an action is under way. */
const DOING: Readonly<Record<'set' | 'kill' | 'rerun' | 'approve' | 'reject', string>> = {
  set: 'setting',
  kill: 'killing',
  rerun: 'rerunning',
  approve: 'approving',
  reject: 'rejecting',
};
