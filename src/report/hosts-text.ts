/** `trellis hosts` as text and JSON: every registered agent, its status and what it runs. Data in, text out. */
import { HOST_COLUMNS, hostCells, type HostView } from '../model/pool.js';
import { formatTable, isoTime } from './table.js';

/** One table row per agent. */
export function formatHosts(hosts: readonly HostView[], now: number): string {
  if (hosts.length === 0) return 'No agents have registered in this run area: start one with `trellis agent --runarea DIR` on each host';
  return formatTable(
    HOST_COLUMNS,
    hosts.map((h) => hostCells(h, now)),
  );
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
