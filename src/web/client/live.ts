/**
 * The web view's only script (the pages read without it). On the matrix: live cells from the
 * server's event stream, the rows and columns fetched again when they change, folding, and moving
 * over cells with the keyboard. On a test's page: the page read again every second while the test
 * runs, so its log tail follows. No framework: the DOM is patched in place.
 */

type Update = { seq: number; at?: number; c: [number, string, string, string][]; h: [number, string, number, number, string, string][] };

/** For bench/web.mjs (`?trace=1`): every cell a page patched, with when. */
interface TraceWindow extends Window {
  /** `sent`: when the web view sent the update that carried it */
  __trellisTrace?: { run: number; key: string; word: string; at: number; sent: number | undefined }[];
  __trellisReloads?: number;
}

const tracing = new URLSearchParams(location.search).get('trace') === '1';
const traceWin = window as TraceWindow;
if (tracing) {
  traceWin.__trellisTrace = [];
  traceWin.__trellisReloads = 0;
}

function byId<T extends HTMLElement>(id: string): T | null {
  return document.getElementById(id) as T | null;
}

function showBanner(message: string | null): void {
  const banner = byId('banner');
  if (!banner) return;
  banner.textContent = message ?? '';
  banner.classList.toggle('on', message !== null);
}

function addNotice(message: string): void {
  const box = byId('notices');
  if (!box) return;
  const p = document.createElement('p');
  p.textContent = message;
  box.append(p);
  while (box.childElementCount > 5) box.firstElementChild?.remove();
}

/** The matrix on the page: where each run's column and each row's line is. */
class Matrix {
  table: HTMLTableElement;
  cols = new Map<number, number>();
  rows = new Map<string, HTMLTableRowElement>();

  constructor(table: HTMLTableElement) {
    this.table = table;
    const heads = table.tHead?.rows[0]?.cells ?? [];
    for (let i = 1; i < heads.length; i++) this.cols.set(Number(heads[i]!.dataset['run']), i);
    for (const tr of Array.from(table.tBodies[0]?.rows ?? [])) {
      const key = tr.dataset['k'];
      if (key !== undefined) this.rows.set(key, tr);
    }
  }

  get seq(): number {
    return Number(this.table.dataset['seq'] ?? '0');
  }

  /** Patches what it can; false when a row is missing (the rows changed: fetch them again). */
  apply(u: Update): boolean {
    let complete = true;
    for (const [run, key, word, tone] of u.c) {
      const col = this.cols.get(run);
      const tr = this.rows.get(key);
      if (col === undefined) continue;
      if (tr === undefined) {
        complete = false;
        continue;
      }
      const td = tr.cells[col];
      if (!td) continue;
      if (td.textContent !== word) td.textContent = word;
      if (td.className !== tone) td.className = tone;
      if (tracing) traceWin.__trellisTrace!.push({ run, key, word, at: Date.now(), sent: u.at });
    }
    for (const [run, state, ok, total, tone, counts] of u.h) {
      const col = this.cols.get(run);
      const th = col === undefined ? undefined : this.table.tHead?.rows[0]?.cells[col];
      if (!th) continue;
      const rs = th.querySelector('.rs');
      const okEl = th.querySelector<HTMLElement>('.ok');
      if (rs) rs.textContent = state;
      if (okEl) {
        okEl.textContent = `${ok}/${total}`;
        okEl.className = `ok ${tone}`;
        okEl.title = counts;
      }
    }
    return complete;
  }
}

/** Keeps the matrix live: the event stream, and fetching the rows again when they change. */
class LiveMatrix {
  matrix: Matrix;
  source: EventSource | undefined;
  fetching = false;
  waiting = false;
  again = false;
  lastFetch = 0;
  /** updates that arrived while the rows were being fetched, applied again on top of them */
  held: Update[] = [];

  constructor(table: HTMLTableElement) {
    this.matrix = new Matrix(table);
    this.connect();
    enhance(table);
  }

  connect(): void {
    this.source?.close();
    const t = this.matrix.table;
    const url = `/events?${t.dataset['events'] ?? ''}&since=${this.matrix.seq}`;
    const source = new EventSource(url);
    this.source = source;
    source.addEventListener('hello', (e) => {
      const hello = JSON.parse((e as MessageEvent<string>).data) as { loaded: number[]; trouble: string | null };
      showBanner(hello.trouble === null ? null : `Lost the run area's server: ${hello.trouble}; reconnecting...`);
      const loading = Array.from(t.querySelectorAll<HTMLElement>('thead th[data-loading]')).map((th) => Number(th.dataset['run']));
      if (loading.some((id) => hello.loaded.includes(id))) this.reload();
    });
    source.addEventListener('update', (e) => {
      const u = JSON.parse((e as MessageEvent<string>).data) as Update;
      if (this.fetching) this.held.push(u);
      if (!this.matrix.apply(u)) this.reload();
    });
    source.addEventListener('reload', () => this.reload());
    source.addEventListener('trouble', (e) => {
      const m = (JSON.parse((e as MessageEvent<string>).data) as { message: string | null }).message;
      showBanner(m === null ? null : `Lost the run area's server: ${m}; reconnecting...`);
    });
    source.addEventListener('notice', (e) => addNotice((JSON.parse((e as MessageEvent<string>).data) as { message: string }).message));
    source.addEventListener('error', () => {
      // The browser tries again by itself while the stream is only interrupted; CLOSED means the
      // web view refused it (restarted, or the session ended).
      if (source.readyState === EventSource.CLOSED)
        showBanner("The web view closed this page's updates (it restarted, or you logged out): reload the page.");
      else showBanner('Lost the web view; reconnecting...');
    });
    source.addEventListener('open', () => {
      const banner = byId('banner');
      if (banner?.textContent?.startsWith('Lost the web view')) showBanner(null);
    });
  }

  /**
   * Fetches the matrix again: one fetch at a time, changes meanwhile fetch once more, and at most
   * one a second (a page with a status filter reloads on every change of its runs).
   */
  reload(): void {
    if (this.fetching || this.waiting) {
      this.again = true;
      return;
    }
    const wait = this.lastFetch + 1000 - Date.now();
    if (wait > 0) {
      this.waiting = true;
      window.setTimeout(() => {
        this.waiting = false;
        this.reload();
      }, wait);
      return;
    }
    this.lastFetch = Date.now();
    this.fetching = true;
    this.held = [];
    if (tracing) traceWin.__trellisReloads! += 1;
    const url = new URL(location.href);
    url.searchParams.set('frag', '1');
    fetch(url, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then((res) => (res.ok ? res.text() : Promise.reject(new Error(`HTTP ${res.status}`))))
      .then((text) => this.swap(text))
      .catch(() => undefined)
      .finally(() => {
        this.fetching = false;
        if (this.again) {
          this.again = false;
          this.reload();
        }
      });
  }

  swap(text: string): void {
    const area = byId('live-area');
    if (!area) return;
    const wrap = area.querySelector('.wrap');
    const scroll = wrap ? [wrap.scrollTop, wrap.scrollLeft] : [0, 0];
    const focus = focusedCell();
    const oldEvents = this.matrix.table.dataset['events'];
    const tpl = document.createElement('template');
    tpl.innerHTML = text;
    const fresh = tpl.content.querySelector('#live-area');
    if (!fresh) return;
    area.replaceWith(fresh);
    const table = (fresh as HTMLElement).querySelector<HTMLTableElement>('#matrix');
    const newWrap = fresh.querySelector('.wrap');
    if (newWrap) [newWrap.scrollTop, newWrap.scrollLeft] = scroll as [number, number];
    if (!table) return;
    this.matrix = new Matrix(table);
    enhance(table);
    if (focus) restoreFocus(table, focus);
    for (const u of this.held) if (u.seq > this.matrix.seq) this.matrix.apply(u);
    this.held = [];
    if (table.dataset['events'] !== oldEvents) this.connect();
  }
}

/** Fold buttons, cells that open their test, and moving over cells with the arrow keys. */
function enhance(table: HTMLTableElement): void {
  const body = table.tBodies[0];
  if (!body) return;
  for (const tr of Array.from(body.rows)) {
    if (!tr.classList.contains('t') || !tr.dataset['n'] || tr.dataset['folded'] === '1') continue;
    const th = tr.cells[0]!;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'fold';
    b.textContent = '\u2212';
    b.setAttribute('aria-expanded', 'true');
    b.setAttribute('aria-label', `fold the items of ${tr.dataset['k']}`);
    th.prepend(b);
  }
  const first = body.rows[0]?.cells[1];
  if (first) first.tabIndex = 0;
  table.addEventListener('click', (e) => {
    const target = e.target as HTMLElement;
    const fold = target.closest('button.fold');
    if (fold) return toggleFold(fold as HTMLButtonElement);
    const td = target.closest('td');
    if (td) openCell(table, td as HTMLTableCellElement);
  });
  table.addEventListener('keydown', (e) => onKey(table, e));
}

function toggleFold(button: HTMLButtonElement): void {
  const tr = button.closest('tr')!;
  const open = button.getAttribute('aria-expanded') === 'true';
  button.setAttribute('aria-expanded', String(!open));
  button.textContent = open ? '+' : '\u2212';
  button.setAttribute('aria-label', `${open ? 'unfold' : 'fold'} the items of ${tr.dataset['k']}`);
  for (
    let next = tr.nextElementSibling as HTMLTableRowElement | null;
    next?.classList.contains('i');
    next = next.nextElementSibling as HTMLTableRowElement | null
  ) {
    next.hidden = open;
  }
}

/** The test page of a cell: its row's test and item in its column's run. */
function cellUrl(table: HTMLTableElement, td: HTMLTableCellElement): string | undefined {
  const tr = td.parentElement as HTMLTableRowElement;
  const th = table.tHead?.rows[0]?.cells[td.cellIndex];
  const key = tr.dataset['k'];
  const run = th?.dataset['run'];
  if (key === undefined || run === undefined || td.textContent === '.' || td.textContent === '..') return undefined;
  const slash = key.indexOf('/');
  const q = new URLSearchParams({ run, t: slash < 0 ? key : key.slice(0, slash) });
  if (slash >= 0) q.set('i', key.slice(slash + 1));
  return `/test?${q.toString()}`;
}

function openCell(table: HTMLTableElement, td: HTMLTableCellElement): void {
  const url = cellUrl(table, td);
  if (url) location.assign(url);
}

function onKey(table: HTMLTableElement, e: KeyboardEvent): void {
  const td = (e.target as HTMLElement).closest('td');
  if (!td) return;
  const tr = td.parentElement as HTMLTableRowElement;
  let row: HTMLTableRowElement | null = tr;
  let col = td.cellIndex;
  const step = (dir: 'next' | 'prev'): HTMLTableRowElement | null => {
    let r: Element | null = row;
    do r = dir === 'next' ? r!.nextElementSibling : r!.previousElementSibling;
    while (r && (r as HTMLTableRowElement).hidden);
    return r as HTMLTableRowElement | null;
  };
  switch (e.key) {
    case 'ArrowDown':
      row = step('next') ?? row;
      break;
    case 'ArrowUp':
      row = step('prev') ?? row;
      break;
    case 'ArrowRight':
      col = Math.min(tr.cells.length - 1, col + 1);
      break;
    case 'ArrowLeft':
      col = Math.max(1, col - 1);
      break;
    case 'Enter':
    case ' ':
      e.preventDefault();
      openCell(table, td);
      return;
    default:
      return;
  }
  e.preventDefault();
  const next = row?.cells[col];
  if (!next || next === td) return;
  td.tabIndex = -1;
  next.tabIndex = 0;
  next.focus();
}

function focusedCell(): { key: string; col: number } | undefined {
  const td = document.activeElement?.closest('td');
  const key = (td?.parentElement as HTMLElement | undefined)?.dataset['k'];
  return td && key !== undefined ? { key, col: td.cellIndex } : undefined;
}

function restoreFocus(table: HTMLTableElement, where: { key: string; col: number }): void {
  for (const tr of Array.from(table.tBodies[0]?.rows ?? [])) {
    if (tr.dataset['k'] !== where.key) continue;
    const td = tr.cells[where.col];
    if (!td) return;
    for (const other of Array.from(table.querySelectorAll('td[tabindex="0"]'))) (other as HTMLElement).tabIndex = -1;
    td.tabIndex = 0;
    td.focus();
    return;
  }
}

/** A test's page: read again every second while the test is not over. */
function followDetail(box: HTMLElement): void {
  let timer: number | undefined;
  const tick = () => {
    const url = new URL(location.href);
    url.searchParams.set('frag', '1');
    fetch(url, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then((res) => (res.ok ? res.text() : Promise.reject(new Error(`HTTP ${res.status}`))))
      .then((text) => {
        const tpl = document.createElement('template');
        tpl.innerHTML = text;
        const fresh = tpl.content.querySelector<HTMLElement>('#detail');
        const current = byId('detail');
        if (!fresh || !current) return;
        const log = current.querySelector('pre.log');
        const atEnd = !log || log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        current.replaceWith(fresh);
        const newLog = fresh.querySelector('pre.log');
        if (newLog && atEnd) newLog.scrollTop = newLog.scrollHeight;
        if (fresh.dataset['live'] === '1') timer = window.setTimeout(tick, 1000);
      })
      .catch(() => {
        timer = window.setTimeout(tick, 2000);
      });
  };
  if (box.dataset['live'] === '1') timer = window.setTimeout(tick, 1000);
  window.addEventListener('pagehide', () => window.clearTimeout(timer));
  const log = box.querySelector('pre.log');
  if (log) log.scrollTop = log.scrollHeight;
}

function main(): void {
  const table = byId<HTMLTableElement>('matrix');
  if (table && table.dataset['events'] !== undefined) new LiveMatrix(table);
  const detail = byId('detail');
  if (detail) followDetail(detail);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
else main();
