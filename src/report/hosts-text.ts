/** `trellis hosts` as text and JSON: every registered agent, its status and what it runs. Data in, text out. */
import type { HostView } from '../model/pool.js';
import { formatTable, isoTime } from './table.js';

/** Seconds as a short age: `4s`, `3m`, `2h`. */
function age(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

/** The tests an agent runs, as `test/item (run target/name)`, the first few. */
export function runningText(h: HostView, max = 3): string {
  if (h.jobs.length === 0) return '-';
  const shown = h.jobs.slice(0, max).map((j) => `${j.label} (${j.target}/${j.runname})`);
  return h.jobs.length > max ? `${shown.join(', ')} +${h.jobs.length - max} more` : shown.join(', ');
}

/** The columns of `trellis hosts` and the dashboard's hosts view. */
export const HOST_COLUMNS = ['NAME', 'HOST', 'STATUS', 'SLOTS', 'TAGS', 'HEARTBEAT', 'LOAD', 'VERSION', 'RUNNING'] as const;

/** One table row per agent. */
export function formatHosts(hosts: readonly HostView[], now: number): string {
  if (hosts.length === 0) return 'No agents have registered in this run area: start one with `trellis agent --runarea DIR` on each host';
  return formatTable(HOST_COLUMNS, hostCells(hosts, now));
}

/** The table's header and rows as lines (escaped, padded), for the dashboard. */
export function formatHostRows(hosts: readonly HostView[], now: number): { header: string; rows: string[] } {
  const [header = '', ...rows] = formatTable(HOST_COLUMNS, hostCells(hosts, now)).split('\n');
  return { header, rows };
}

function hostCells(hosts: readonly HostView[], now: number): string[][] {
  return hosts.map((h) => [
    h.name,
    h.host,
    h.status,
    `${h.jobs.length}/${h.slots}`,
    h.tags.join(',') || '-',
    `${age(now - h.heartbeat)} ago`,
    h.load === null ? '-' : h.load.toFixed(2),
    h.version,
    runningText(h),
  ]);
}

/** The JSON of `trellis hosts --json`. */
export function hostsJson(hosts: readonly HostView[]): unknown {
  return hosts.map((h) => ({
    name: h.name,
    host: h.host,
    user: h.user,
    pid: h.pid,
    status: h.status,
    slots: h.slots,
    used: h.jobs.length,
    tags: h.tags,
    started: isoTime(h.started),
    heartbeat: isoTime(h.heartbeat),
    load: h.load,
    version: h.version,
    running: h.jobs.map((j) => ({ target: j.target, runname: j.runname, test: j.label, since: isoTime(j.claimed) })),
  }));
}
