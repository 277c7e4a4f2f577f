/** `trellis resources` as text and JSON: each shared resource, its holders and its waiters. Data in, text out. */
import { displayName } from '../model/display-name.js';
import type { ClaimView, ResourceStatus, TestResources } from '../model/resources.js';
import { formatTable, formatTime, isoTime } from './table.js';

/** A table per resource: `deploy  1 of 1 held`, then its holders and waiters. */
export function formatResources(statuses: readonly ResourceStatus[], areaConfig: string): string {
  if (statuses.length === 0) return `No shared resources: declare them in [resources] of ${areaConfig} (NAME COUNT)`;
  const rows: string[][] = [];
  for (const s of statuses) {
    const free = Math.max(0, s.count - s.holders.length);
    const note = s.declared ? '' : ' (not declared in this area)';
    rows.push([s.name, `${s.holders.length}/${s.count}`, `${free} free, ${s.waiters.length} waiting${note}`, '', '', '']);
    for (const h of s.holders) rows.push(claimRow('held by', h));
    for (const w of s.waiters) rows.push(claimRow('waiting', w));
  }
  return formatTable(['RESOURCE', 'HELD', 'WHO', 'RUN', 'HOST', 'SINCE'], rows);
}

function claimRow(what: string, c: ClaimView): string[] {
  return [`  ${what}`, '', displayName(c), `${c.target}/${c.runname}`, `${c.host} (pid ${c.pid})`, formatTime(c.since)];
}

/** One claim in the JSON outputs: its time as ISO 8601 with its zone. */
function claimJson(c: ClaimView) {
  return {
    target: c.target,
    runname: c.runname,
    test: c.testname,
    itempath: c.itempath,
    host: c.host,
    pid: c.pid,
    since: isoTime(c.since),
  };
}

/** The JSON of `trellis resources --json`. */
export function resourcesJson(statuses: readonly ResourceStatus[]): unknown {
  const claim = claimJson;
  return statuses.map((s) => ({
    name: s.name,
    count: s.count,
    declared: s.declared,
    held: s.holders.length,
    holders: s.holders.map(claim),
    waiters: s.waiters.map(claim),
  }));
}

/** `holds     deploy` / `waits for db (held by load of run linux/r1 on h1 pid 12 since …)`, one line each. */
export function formatTestResources(r: TestResources): string[] {
  const lines: string[] = [];
  if (r.holds.length > 0) lines.push(`holds     resource ${r.holds.join(', ')}`);
  for (const w of r.waitsFor) {
    const who = w.heldBy.map(
      (c) => `${displayName(c)} of run ${c.target}/${c.runname} on ${c.host} pid ${c.pid} since ${formatTime(c.since)}`,
    );
    lines.push(`waits for resource ${w.resource}${who.length > 0 ? ` (held by ${who.join('; ')})` : ''}`);
  }
  return lines;
}

/** The `resources` member of `trellis show --json`. */
export function testResourcesJson(r: TestResources): unknown {
  return {
    holds: r.holds,
    waitsFor: r.waitsFor.map((w) => ({
      resource: w.resource,
      heldBy: w.heldBy.map(claimJson),
    })),
  };
}
