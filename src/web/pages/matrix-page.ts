/**
 * The runs × tests matrix as HTML that reads without the script: runs as columns (newest on the
 * left), tests as rows with their items below them, a word in every cell and its colour as a
 * class. Pure: data in, text out. The table is written with plain concatenation (no per-cell
 * template): 50 runs × 2,000 rows are 100,000 cells.
 */
import type { RunRecord } from '../../model/records.js';
import { LEGEND, lookOf } from '../../view/cell-style.js';
import type { MatrixData } from '../../view/matrix-data.js';
import { countsTone, okCount, orderedCounts } from '../../view/run-facts.js';
import type { Filters } from '../../view/run-filters.js';
import type { RowEntry } from '../../view/rows.js';
import { esc, html, query, raw, type Html } from '../html.js';

export interface MatrixView {
  filters: Filters;
  /** runs per page */
  count: number;
  /** runs skipped (newer ones) */
  offset: number;
  /** items hidden under their tests (`fold=all`), except the tests in `open` */
  foldAll: boolean;
  open: readonly string[];
}

export interface MatrixInput {
  data: MatrixData;
  view: MatrixView;
  /** the runs shown, in column order */
  runs: readonly RunRecord[];
  rows: readonly RowEntry[];
  /** runs that pass the target and run name filters, and all runs */
  matching: readonly RunRecord[];
  allRuns: number;
  /** the update of the live feed this page shows (its event stream carries on from there) */
  seq: number;
  /** what is wrong with the filters, if anything */
  filterError?: string;
  runArea: string;
}

/** The link parameters that keep this view. */
export function viewQuery(v: MatrixView, change: Partial<MatrixView> = {}): Record<string, string | number | undefined> {
  const n = { ...v, ...change };
  return {
    t: n.filters.target,
    r: n.filters.runname,
    p: n.filters.pattern,
    status: n.filters.status,
    n: n.count === DEFAULT_COUNT ? undefined : n.count,
    o: n.offset === 0 ? undefined : n.offset,
    fold: n.foldAll ? 'all' : undefined,
    open: n.foldAll && n.open.length > 0 ? n.open.join(',') : undefined,
  };
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 100;

/** The page's main part: filters, legend, and the live area (summary, paging, table). */
export function renderMatrixMain(input: MatrixInput): Html {
  const f = input.view.filters;
  return html`<h1>Runs <span class="note">of ${input.runArea}</span></h1>
<form class="filters" method="get" action="/" role="search" aria-label="filters">
<label>Target <input type="text" name="t" value="${f.target}" placeholder="linux/%" aria-describedby="filter-help"></label>
<label>Run name <input type="text" name="r" value="${f.runname}" placeholder="nightly%"></label>
<label>Test pattern <input type="text" name="p" value="${f.pattern}" placeholder="unit%,~slow"></label>
<label>Status <input type="text" name="status" value="${f.status}" placeholder="FAIL,RUNNING"></label>
<label>Runs per page <input type="number" name="n" min="1" max="${MAX_COUNT}" value="${input.view.count}"></label>
<label><span>Items</span><select name="fold"><option value="">shown</option><option value="all"${raw(input.view.foldAll ? ' selected' : '')}>folded</option></select></label>
<button type="submit" class="primary">Apply</button> <a class="button" href="/">Clear</a>
</form>
<p id="filter-help" class="note">% matches anything; commas separate patterns; ~ before a test pattern excludes it. Status takes states, statuses or cell words.</p>
${input.filterError ? html`<p class="error" role="alert">${input.filterError}</p>` : ''}
<ul class="legend" aria-label="what the cells say">${LEGEND.map((l) => html`<li><span class="${l.tone}">${l.text}</span> ${l.meaning}</li>`)}</ul>
${raw(renderLiveArea(input))}`;
}

/** The part the script fetches again when rows or runs change: summary, paging and the table. */
export function renderLiveArea(input: MatrixInput): string {
  const { runs, rows, view } = input;
  let out = '<div id="live-area">';
  out += `<p class="summary">${esc(summaryText(input))}</p>`;
  out += renderPaging(input);
  if (input.allRuns === 0) {
    out +=
      '<p>No runs yet. <a href="/start">Start one</a>, or run <code>trellis run -t TARGET -r RUNNAME</code>; it shows here as soon as it starts.</p>';
  } else if (runs.length === 0) {
    out += '<p>No run matches the target and run name filters. <a href="/">Clear the filters</a>.</p>';
  } else if (rows.length === 0 && runs.every((r) => input.data.hasCells(r.id))) {
    out += '<p>No test matches the filters in the runs shown. <a href="/">Clear the filters</a>.</p>';
  }
  out += '<div class="wrap">';
  out += renderTable(input.data, runs, rows, view, input.seq);
  out += '</div></div>';
  return out;
}

function summaryText(input: MatrixInput): string {
  const totals: Record<string, number> = {};
  let tests = 0;
  for (const run of input.matching) {
    tests += run.total;
    for (const [s, n] of Object.entries(run.counts)) totals[s] = (totals[s] ?? 0) + n;
  }
  const counts = orderedCounts(totals)
    .map(([s, n]) => `${s === 'n/a' ? 'not ended' : s} ${n}`)
    .join(', ');
  const runs =
    input.matching.length === input.allRuns ? `${input.allRuns} runs` : `${input.matching.length} of ${input.allRuns} runs match`;
  return `${runs}, ${tests} tests${counts ? `: ${counts}` : ''}.`;
}

function renderPaging(input: MatrixInput): string {
  const { view } = input;
  const first = view.offset + 1;
  const last = view.offset + input.runs.length;
  const links: string[] = [];
  if (view.offset > 0)
    links.push(`<a href="/${esc(query(viewQuery(view, { offset: Math.max(0, view.offset - view.count) })))}" rel="prev">newer runs</a>`);
  if (last < input.matching.length)
    links.push(`<a href="/${esc(query(viewQuery(view, { offset: view.offset + view.count })))}" rel="next">older runs</a>`);
  const where = input.runs.length === 0 ? '' : `<span>runs ${first}-${last} of ${input.matching.length}, newest on the left</span>`;
  return `<nav class="paging" aria-label="pages of runs">${where}${links.join('')}</nav>`;
}

/** The events the page's stream asks for: its runs, its filters, whether it is the front page. */
function eventsQuery(runs: readonly RunRecord[], view: MatrixView): string {
  const q = new URLSearchParams();
  q.set('runs', runs.map((r) => r.id).join(','));
  if (view.filters.status) q.set('sf', '1');
  if (view.offset === 0) q.set('front', '1');
  if (view.filters.target) q.set('t', view.filters.target);
  if (view.filters.runname) q.set('r', view.filters.runname);
  if (view.filters.pattern) q.set('p', view.filters.pattern);
  if (view.foldAll) {
    q.set('fold', 'all');
    if (view.open.length > 0) q.set('open', view.open.join(','));
  }
  return q.toString();
}

/** The table: a header cell per run, a row per test and item, a word per cell. */
export function renderTable(
  data: MatrixData,
  runs: readonly RunRecord[],
  rows: readonly RowEntry[],
  view: MatrixView,
  seq: number,
): string {
  let out = `<table id="matrix" class="matrix" data-seq="${seq}" data-events="${esc(eventsQuery(runs, view))}">`;
  out += `<caption class="note">Each cell: the test's outcome in that run. Select a cell (arrow keys, Enter) or a test name to see the test.</caption>`;
  out += '<colgroup><col class="rowhead">';
  for (let i = 0; i < runs.length; i++) out += '<col class="run">';
  out += '</colgroup><thead><tr><th scope="col" class="rowhead">Test</th>';
  for (const run of runs) out += headerCell(run, data.hasCells(run.id));
  out += '</tr></thead><tbody>';
  const loaded = runs.map((r) => data.hasCells(r.id));
  for (const row of rows) {
    const first = runs.find((r, i) => loaded[i] && data.cell(r.id, row.key) !== undefined) ?? runs[0];
    out += rowStart(row, first, view);
    for (let i = 0; i < runs.length; i++) {
      if (!loaded[i]) {
        out += '<td class=idle>..';
        continue;
      }
      const cell = data.cell(runs[i]!.id, row.key);
      if (cell === undefined) {
        out += '<td class=idle>.';
        continue;
      }
      const look = lookOf(cell.state, cell.status);
      out += `<td class=${look.tone}>${esc(look.text)}`;
    }
    out += '</tr>';
  }
  out += '</tbody></table>';
  return out;
}

function headerCell(run: RunRecord, loaded: boolean): string {
  const counts = orderedCounts(run.counts)
    .map(([s, n]) => `${s === 'n/a' ? 'not ended' : s} ${n}`)
    .join(', ');
  const title = `${run.target} ${run.runname}: ${run.state}${run.lockedBy && run.state === 'locked' ? ` by ${run.lockedBy}` : ''}`;
  return (
    `<th scope="col" data-run="${run.id}"${loaded ? '' : ' data-loading'} title="${esc(title)}">` +
    `<a href="/run?id=${run.id}"><span class="tg">${esc(run.target)}</span><span class="rn">${esc(run.runname)}</span></a>` +
    `<span class="rs">${esc(run.state)}</span>` +
    `<span class="ok ${countsTone(run)}" title="${esc(counts)}">${okCount(run)}/${run.total}</span></th>`
  );
}

function rowStart(row: RowEntry, first: RunRecord | undefined, view: MatrixView): string {
  const link = (label: string) =>
    first === undefined
      ? esc(label)
      : `<a href="/test${esc(query({ run: first.id, t: row.testname, i: row.itempath }))}">${esc(label)}</a>`;
  if (row.itempath !== '') return `<tr class=i data-k="${esc(row.key)}"><th scope=row>${link(row.itempath)}</th>`;
  if (row.itemCount === 0) return `<tr class=t data-k="${esc(row.key)}"><th scope=row>${link(row.testname)}</th>`;
  if (row.folded) {
    const unfold = `/${esc(query(viewQuery(view, { open: [...view.open, row.testname] })))}`;
    return `<tr class=t data-k="${esc(row.key)}" data-n="${row.itemCount}" data-folded=1><th scope=row>${link(row.testname)} <a class=n href="${unfold}">(${row.itemCount} items: show)</a></th>`;
  }
  return `<tr class=t data-k="${esc(row.key)}" data-n="${row.itemCount}"><th scope=row>${link(row.testname)} <span class=n>(${row.itemCount})</span></th>`;
}
