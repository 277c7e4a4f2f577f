/** Text for people about a run: progress lines and the final summary. Data in, text out. */
import { termLine } from '../util/terminal-text.js';

export interface Tally {
  total: number;
  done: number;
  running: number;
  byStatus: Map<string, number>;
}

/** `PASS 12 · FAIL 1 · …` in a stable order (by how often, then name). */
export function formatCounts(byStatus: ReadonlyMap<string, number>): string {
  // Most runs have one status (`list runs` formats one count per run): no arrays to sort.
  if (byStatus.size === 1) {
    for (const [s, n] of byStatus) return n > 0 ? `${s} ${n}` : '';
  }
  return [...byStatus.entries()]
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
}

/** formatCounts of a run's `counts`; most runs have one status, formatted without a Map. */
export function formatCountRecord(counts: Readonly<Record<string, number>>): string {
  let only: string | undefined;
  for (const status in counts) {
    if (only !== undefined) return formatCounts(new Map(Object.entries(counts)));
    only = status;
  }
  if (only === undefined) return '';
  const n = counts[only]!;
  return n > 0 ? `${only} ${n}` : '';
}

/** The one-line progress shown on a terminal. */
export function formatProgress(t: Tally, elapsed: number): string {
  const counts = formatCounts(t.byStatus);
  return termLine(`[${t.done}/${t.total}] running ${t.running}${counts ? ` | ${counts}` : ''} | ${formatSeconds(elapsed)}`);
}

/** One plain line per ended test, for logs and pipes. */
export function formatEnded(key: string, status: string, comment: string, seconds: number | null): string {
  const time = seconds === null ? '' : ` (${formatSeconds(seconds)})`;
  return termLine(`${status.padEnd(10)} ${key}${time}${comment && status !== 'PASS' ? ` - ${comment}` : ''}`);
}

/** `1.2s`, `3m04s`, `2h05m`. */
export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export interface SummaryInput {
  target: string;
  runname: string;
  jobs: number;
  ran: number;
  byStatus: ReadonlyMap<string, number>;
  failures: ReadonlyArray<{ key: string; status: string; comment: string; rundir: string }>;
  interrupted: boolean;
  /** tests left parked on a sign-off by the interrupt (they are not KILLED) */
  parked?: number;
  seconds: number;
}

/** The summary printed when a run ends. */
export function formatSummary(s: SummaryInput): string {
  const lines: string[] = [];
  const head = termLine(`Run ${s.target}/${s.runname}: ${s.jobs} tests and items (${s.ran} ran) in ${formatSeconds(s.seconds)}`);
  lines.push(head);
  lines.push(`  ${formatCounts(s.byStatus) || 'nothing ran'}`);
  const shown = s.failures.slice(0, 20);
  for (const f of shown) {
    lines.push(termLine(`  ${f.status.padEnd(10)} ${f.key}${f.comment ? ` - ${f.comment}` : ''}`));
    if (f.rundir && f.status !== 'PREQ_FAIL' && f.status !== 'ZERO_ITEMS') lines.push(termLine(`             ${f.rundir}`));
  }
  if (s.failures.length > shown.length)
    lines.push(termLine(`  … and ${s.failures.length - shown.length} more (trellis list tests -t ${s.target} -r ${s.runname} --status …)`));
  if (s.interrupted) {
    lines.push('Interrupted: running tests were stopped and marked KILLED; rerun to finish.');
    if (s.parked)
      lines.push(
        termLine(
          `  ${s.parked === 1 ? '1 test waits' : `${s.parked} tests wait`} for a sign-off and stay${s.parked === 1 ? 's' : ''} parked (trellis approve -t ${s.target} -r ${s.runname} TEST), then rerun.`,
        ),
      );
  } else if (s.failures.length === 0) lines.push('All selected tests passed.');
  else lines.push(`${s.failures.length} selected tests or items did not pass.`);
  return lines.join('\n');
}
