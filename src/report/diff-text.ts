/**
 * `trellis diff` output: text for people (what changed, listed; what stayed the same, counted) and
 * the documented `--json` shape for scripts. Data in, text out.
 */
import type { RunRecord } from '../model/records.js';
import { displayName } from '../model/display-name.js';
import { formatTable } from './table.js';
import { DIFF_CLASSES, hasEnded, type DiffClass, type DiffEntry, type DiffSide, type RunDiff } from './diff.js';
import { termLine } from '../util/terminal-text.js';

/** The two runs compared. */
export interface DiffRuns {
  old: RunRecord;
  new: RunRecord;
}

const TITLES: Record<DiffClass, string> = {
  worse: 'Worse',
  better: 'Better',
  appeared: 'Appeared',
  disappeared: 'Disappeared',
  pending: 'Pending (not ended in the new run)',
  same: 'Same',
};

/** Classes listed one line per test without --all; the others are only counted. */
const LISTED: ReadonlySet<DiffClass> = new Set(['worse', 'better', 'appeared', 'disappeared']);

const label = (r: RunRecord) => `${r.target} ${r.runname} (${r.state}, ${r.status})`;
const key = (e: DiffEntry) => displayName(e);
/** An outcome as people read it: the status once ended, else the state it is in. */
const outcome = (s: DiffSide | null) => (s === null ? '-' : hasEnded(s) ? s.status : s.state);

/** The counts line: `worse 2, better 0, …`. */
export function formatDiffCounts(diff: RunDiff): string {
  return DIFF_CLASSES.map((c) => `${c} ${diff.counts[c]}`).join(', ');
}

/** The text report; `all` lists the pending and same classes too. */
export function formatDiff(diff: RunDiff, runs: DiffRuns, opts: { all: boolean; failed: readonly DiffClass[] }): string {
  const out: string[] = [termLine(`old: ${label(runs.old)}`), termLine(`new: ${label(runs.new)}`)];
  const shown = diff.entries.filter((e) => LISTED.has(e.class) || opts.all);
  // One table over every section, so the columns line up from one section to the next.
  const lines = formatTable(
    ['', '', '', ''],
    shown.map((e) => [`  ${key(e)}`, outcome(e.old), '->', outcome(e.new)]),
  )
    .split('\n')
    .slice(1);
  let at = 0;
  for (const cls of DIFF_CLASSES) {
    const n = shown.filter((e) => e.class === cls).length;
    if (n === 0) continue;
    out.push('', `${TITLES[cls]} (${n}):`, ...lines.slice(at, at + n));
    at += n;
  }
  out.push('', formatDiffCounts(diff));
  const hidden = (['pending', 'same'] as const).filter((c) => diff.counts[c] > 0);
  if (!opts.all && hidden.length > 0) out.push(`(${hidden.join(' and ')} not listed; --all lists them)`);
  if (opts.failed.length > 0) out.push(`FAILED: ${opts.failed.map((c) => `${diff.counts[c]} ${c}`).join(', ')}`);
  return `${out.join('\n')}\n`;
}

/** `trellis diff --json`. Stable: fields are added, never renamed or removed. */
export function diffJson(diff: RunDiff, runs: DiffRuns, opts: { failOn: readonly DiffClass[]; failed: readonly DiffClass[] }) {
  const run = (r: RunRecord) => ({ id: r.id, target: r.target, runname: r.runname, state: r.state, status: r.status });
  return {
    old: run(runs.old),
    new: run(runs.new),
    counts: diff.counts,
    failOn: opts.failOn,
    failed: opts.failed.length > 0,
    tests: diff.entries.map((e) => ({ testname: e.testname, itempath: e.itempath, class: e.class, old: e.old, new: e.new })),
  };
}
