/**
 * One run: what it is (target, name, state, who locked it, counts, times) and its log, the events
 * `trellis log` prints: state changes of the run, locks, forced writes, runners, and with `all`
 * every test's state change too. Pure.
 */
import type { RunRecord } from '../../model/records.js';
import type { LogEntry } from '../../report/run-log.js';
import { orderedCounts } from '../../view/run-facts.js';
import { html, query, type Html } from '../html.js';
import { formatWhen } from './when.js';

export interface RunPageInput {
  run: RunRecord;
  entries: readonly LogEntry[];
  /** every event shown, test state changes included */
  all: boolean;
  /** events left out at the start because there were too many */
  cut: number;
  /** the newest earlier run of the same target, to compare with */
  previous: RunRecord | undefined;
}

export function renderRunMain(input: RunPageInput): Html {
  const { run } = input;
  const counts = orderedCounts(run.counts);
  return html`<h1>${run.target} ${run.runname}</h1>
<p><a href="/${query({ t: run.target, r: run.runname })}">this run in the matrix</a>${
    input.previous
      ? html` &middot; <a href="/diff${query({ old: input.previous.id, new: run.id })}">compare with ${input.previous.runname}</a>`
      : ''
  } &middot; <a href="/diff${query({ new: run.id })}">compare with another run</a></p>
<dl class="facts">
<dt>State</dt><dd>${run.state}${run.state === 'locked' ? ` by ${run.lockedBy || 'someone'}` : ''}${run.state === 'locked' && run.lockedAt !== null ? html` at ${formatWhen(run.lockedAt)}` : ''}</dd>
<dt>Status</dt><dd>${run.status}</dd>
<dt>Tests</dt><dd>${run.total}${counts.length > 0 ? `: ${counts.map(([s, n]) => `${s === 'n/a' ? 'not ended' : s} ${n}`).join(', ')}` : ''}</dd>
<dt>Created</dt><dd>${formatWhen(run.created)}</dd>
<dt>Started</dt><dd>${formatWhen(run.started)}</dd>
<dt>Ended</dt><dd>${formatWhen(run.ended)}</dd>
</dl>
<h2>Log</h2>
<p>${
    input.all
      ? html`Every event, test state changes included. <a href="/run?id=${run.id}">Only the run's own events</a>`
      : html`The run's own events: its state, locks, forced writes, runners. <a href="/run?id=${run.id}&amp;all=1">Every event</a>`
  }</p>
${input.cut > 0 ? html`<p class="note">The ${input.cut} oldest events are left out; <code>trellis log -t ${run.target} -r ${run.runname} --all</code> prints them.</p>` : ''}
${
  input.entries.length === 0
    ? html`<p class="note">No events of that kind.</p>`
    : html`<table class="list"><thead><tr><th scope="col">Time</th><th scope="col">Kind</th><th scope="col">Who</th><th scope="col">What</th></tr></thead><tbody>
${input.entries.map((e) => html`<tr><td>${formatWhen(e.time)}</td><td>${e.kind}</td><td>${e.who || '-'}</td><td>${e.test === null || e.test === e.detail ? e.detail : `${e.test} ${e.detail}`}</td></tr>`)}
</tbody></table>`
}`;
}
