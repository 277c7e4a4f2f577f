/**
 * The hosts page: every agent of the pool (docs/agents.md), as `trellis hosts` shows them. Read
 * again every second by the page's script (`#detail` with data-live), and readable without it.
 * Pure.
 */
import type { HostView } from '../../model/pool.js';
import { html, query, type Html } from '../html.js';
import { formatWhen } from './when.js';

export interface HostsPageInput {
  /** undefined: the pool could not be read (the server is being replaced) */
  hosts: readonly HostView[] | undefined;
  now: number;
}

/** How long ago, in words a glance takes in: `4 s ago`, `3 min ago`, `2 h ago`. */
function ago(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

/** The part the script reads again. */
export function renderHostsPart(input: HostsPageInput): Html {
  const { hosts } = input;
  if (hosts === undefined)
    return html`<div id="detail" data-live="1"><p class="error">The pool cannot be read just now; this page tries again.</p></div>`;
  if (hosts.length === 0) {
    return html`<div id="detail" data-live="1"><p>No agents have registered in this run area. Start one on each host with
<code>trellis agent --runarea DIR --tags a,b --slots N</code>; tests then run there with <code>trellis run --launcher agents</code>.</p></div>`;
  }
  const used = hosts.reduce((n, h) => n + h.jobs.length, 0);
  const slots = hosts.filter((h) => h.status !== 'offline').reduce((n, h) => n + h.slots, 0);
  return html`<div id="detail" data-live="1">
<p>${hosts.length} agent(s), ${hosts.filter((h) => h.status === 'busy').length} busy; ${used} of ${slots} slot(s) in use.</p>
<table class="list"><thead><tr><th scope="col">Name</th><th scope="col">Host</th><th scope="col">Status</th><th scope="col">Slots</th><th scope="col">Tags</th><th scope="col">Last heartbeat</th><th scope="col">Load</th><th scope="col">Version</th><th scope="col">Running now</th></tr></thead><tbody>
${hosts.map(
  (h) =>
    html`<tr><th scope="row">${h.name}</th><td>${h.host}</td><td class="host-${h.status}">${h.status}</td><td>${h.jobs.length}/${h.slots}</td><td>${h.tags.join(', ') || '-'}</td><td>${ago(input.now - h.heartbeat)} (${formatWhen(h.heartbeat)})</td><td>${h.load === null ? '-' : h.load.toFixed(2)}</td><td>${h.version}</td><td>${
      h.jobs.length === 0
        ? '-'
        : html`<ul class="plain">${h.jobs.map(
            (j) =>
              html`<li><a href="/test${query({ run: j.runId, t: j.label.split('/')[0], i: j.label.includes('/') ? j.label.slice(j.label.indexOf('/') + 1) : '' })}">${j.label}</a> (${j.target} ${j.runname})</li>`,
          )}</ul>`
    }</td></tr>`,
)}
</tbody></table></div>`;
}

export function renderHostsMain(input: HostsPageInput): Html {
  return html`<h1>Hosts</h1>
<p>The agents that take this run area's queued jobs (<code>--launcher agents</code>): idle, busy, draining (finishing, taking nothing new) or offline (left, or no heartbeat within the deadtime).</p>
${renderHostsPart(input)}`;
}
