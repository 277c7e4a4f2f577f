/**
 * History and monitoring for people and scripts: `trellis history`, `last-success` and `check`
 * as text, and their documented `--json` shapes (docs/cli.md). Data in, text out.
 */
import { endedAt, type CheckProblem } from '../model/outcome-check.js';
import type { OutcomeRecord } from '../model/records.js';
import { displayName } from '../model/display-name.js';
import { formatSeconds } from './summary.js';
import { formatTable, formatTime, isoTime } from './table.js';
import { termLine } from '../util/terminal-text.js';

/** Where an outcome came from, for the RUN column: the run name, `(wrap)` or `(record)`. */
export function describeSource(o: OutcomeRecord): string {
  return o.kind === 'run' ? o.runname : `(${o.kind})`;
}

/** The outcome as one word: the status, with the state when it is not COMPLETED (`KILLED/ABORT`, `RUNNING`). */
export function describeOutcome(o: OutcomeRecord): string {
  if (o.state === 'COMPLETED') return o.status;
  return o.status === 'n/a' ? o.state : `${o.state}/${o.status}`;
}

/** `3m04s ago`, `2d04h ago`. */
export function formatAge(seconds: number): string {
  if (seconds < 0) return 'in the future';
  if (seconds < 48 * 3600) return `${formatSeconds(seconds)} ago`;
  const h = Math.floor(seconds / 3600);
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h ago`;
}

/** `trellis history`: one line per outcome, newest first. */
export function formatHistory(outcomes: readonly OutcomeRecord[]): string {
  const rows = outcomes.map((o) => [
    formatTime(o.start ?? o.time),
    o.target === '' ? '-' : o.target,
    describeSource(o),
    o.host === '' ? '-' : o.host,
    o.duration === null ? '-' : formatSeconds(o.duration),
    describeOutcome(o),
    o.comment,
  ]);
  return formatTable(['STARTED', 'TARGET', 'RUN', 'HOST', 'TIME', 'STATUS', 'COMMENT'], rows);
}

/** Where an outcome happened: `on build1 in run linux/x86_64 nightly`, `on db1 (wrap)`. */
function describePlace(o: OutcomeRecord): string {
  const host = o.host === '' ? 'an unknown host' : o.host;
  if (o.kind !== 'run') return `on ${host} (${o.kind}${o.target === '' ? '' : ` ${o.target}`})`;
  return `on ${host} in run ${o.target} ${o.runname}`;
}

/** `trellis last-success`: when, where and which run; or that it never succeeded. */
export function formatLastSuccess(name: string, success: OutcomeRecord | null, latest: OutcomeRecord, now: number): string {
  return termLine(describeLastSuccess(name, success, latest, now));
}

function describeLastSuccess(name: string, success: OutcomeRecord | null, latest: OutcomeRecord, now: number): string {
  if (success === null) {
    return `${name} has never succeeded; the latest outcome is ${describeOutcome(latest)} at ${formatTime(latest.start ?? latest.time)} ${describePlace(latest)}`;
  }
  const took = success.duration === null ? '' : ` in ${formatSeconds(success.duration)}`;
  return `${name} last succeeded at ${formatTime(endedAt(success))} (${formatAge(now - endedAt(success))}) ${describePlace(success)}: ${success.status}${took}`;
}

/** One line per problem of `trellis check`. */
export function formatProblems(problems: readonly CheckProblem[], now: number): string {
  const rows = problems.map((p) => [p.kind.toUpperCase(), displayName(p), p.target === '' ? '-' : p.target, explainProblem(p, now)]);
  return formatTable(['PROBLEM', 'TEST', 'TARGET', 'DETAIL'], rows);
}

function explainProblem(p: CheckProblem, now: number): string {
  const s = p.summary;
  if (s === null) return 'nothing recorded';
  const latest = `latest ${describeOutcome(s.latest)} ${formatAge(now - endedAt(s.latest))} ${describePlace(s.latest)}`;
  switch (p.kind) {
    case 'never':
      return `never succeeded in ${s.count} outcome${s.count === 1 ? '' : 's'}; ${latest}`;
    case 'stale':
      return `last success ${formatAge(p.age ?? 0)} (${formatTime(endedAt(s.lastSuccess!))}); ${latest}`;
    case 'slow': {
      const d = s.latest.duration ?? 0;
      const mean = s.meanDuration ?? 0;
      return `took ${formatSeconds(d)}, ${(d / mean).toFixed(1)}× the mean of its last ${s.baselineCount} successes (${formatSeconds(mean)})`;
    }
  }
}

/** One outcome in `--json` output. Fields are only ever added. */
export function outcomeJson(o: OutcomeRecord) {
  return {
    test: displayName(o),
    testname: o.testname,
    itempath: o.itempath,
    kind: o.kind,
    target: o.target,
    runname: o.runname,
    runId: o.runId,
    state: o.state,
    status: o.status,
    success: o.success,
    host: o.host,
    start: isoTime(o.start),
    end: isoTime(o.end),
    duration: o.duration,
    comment: o.comment,
  };
}

/** One problem in `trellis check --json`. */
export function problemJson(p: CheckProblem) {
  const s = p.summary;
  return {
    problem: p.kind,
    test: displayName(p),
    target: p.target,
    age: p.age,
    count: s?.count ?? 0,
    lastSuccess: s?.lastSuccess ? outcomeJson(s.lastSuccess) : null,
    latest: s ? outcomeJson(s.latest) : null,
    meanDuration: s?.meanDuration ?? null,
    baselineCount: s?.baselineCount ?? 0,
  };
}
