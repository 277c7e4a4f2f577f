/**
 * The documented JSON shapes of `--json` output (docs/cli.md). Stable: fields are added, never
 * renamed or removed.
 */
import type { RunRecord, TestDetail, TestRecord } from '../model/records.js';
import { isoTime } from './table.js';

/** One run in `trellis list runs --json`. */
export function runJson(r: RunRecord) {
  return {
    id: r.id,
    target: r.target,
    keys: r.keys,
    runname: r.runname,
    state: r.state,
    status: r.status,
    total: r.total,
    counts: r.counts,
    created: isoTime(r.created),
    started: isoTime(r.started),
    ended: isoTime(r.ended),
    updated: isoTime(r.updated),
    lockedBy: r.lockedBy,
    closed: isoTime(r.closedAt ?? null),
    params: r.params,
  };
}

/** One row in `trellis list tests --json`. */
export function testJson(t: TestRecord) {
  return {
    id: t.id,
    testname: t.testname,
    itempath: t.itempath,
    state: t.state,
    status: t.status,
    comment: t.comment,
    host: t.host,
    launcher: t.launcher,
    jobId: t.jobId,
    // The agent that ran it (--launcher agents), by name.
    ...(t.launcher === 'agents' ? { agent: t.jobId === '' ? null : t.jobId } : {}),
    start: isoTime(t.start),
    end: isoTime(t.end),
    duration: t.duration,
    rundir: t.rundir,
    // Only on rows appended from outside the area (`trellis result`), so other shapes stay as they were.
    ...(t.external ? { external: true } : {}),
  };
}

/** `trellis show --json`. */
export function testDetailJson(t: TestDetail) {
  return {
    ...testJson(t),
    itemVars: t.itemVars,
    steps: t.steps.map((s) => ({
      name: s.name,
      state: s.state,
      status: s.status,
      exitCode: s.exitCode,
      start: isoTime(s.start),
      end: isoTime(s.end),
      duration: s.end !== null ? s.end - s.start : null,
      logfile: s.logfile,
    })),
    data: t.data.map((d) => ({ name: d.name, value: d.value, expected: d.expected, tol: d.tol, units: d.units, status: d.status })),
    rules: t.rules.map((r) => ({
      step: r.step,
      rule: `rule-${r.num}`,
      kind: r.kind,
      description: r.description,
      comparator: r.comparator,
      expected: r.expected,
      count: r.count,
      ok: r.ok,
      status: r.status,
      lines: r.lines,
      measured: r.measured,
      pass: r.pass,
      fail: r.fail,
      expired: r.expired,
    })),
  };
}

/** One server in `trellis server list --json`: a packet and what its health check found. */
export interface ServerRow {
  host: string;
  address: string;
  port: number;
  pid: number;
  invocation: string;
  started: string | null;
  uptime: number;
  heartbeatAge: number;
  status: 'live' | 'stale' | 'unreachable' | 'other-area' | 'refuses-token';
  lease: boolean;
  packet: string;
}
