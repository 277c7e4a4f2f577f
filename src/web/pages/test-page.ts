/**
 * One test or item of one run: state, status, where and when it ran, its steps, its values, the
 * end of the log that matters, the same row in the other runs, and the actions (each asks to be
 * confirmed on a page of its own). The part in `#detail` is what the script reads again every
 * second while the test runs. Pure.
 */
import { describePlacement, displayName } from '../../model/display-name.js';
import type { RunRecord, TestDetail } from '../../model/records.js';
import { awaitsSignOff, isFinal, KNOWN_STATUSES, MAX_SIGN_OFF_COMMENT, TEST_STATES } from '../../model/states.js';
import { lookOf } from '../../view/cell-style.js';
import type { LogTail } from '../../view/log-tail.js';
import { formatDuration } from '../../view/test-facts.js';
import { ruleExpectation, ruleFinding } from '../../model/rule-text.js';
import { describeExpectation } from '../../model/value-check.js';
import { html, query, raw, type Html } from '../html.js';
import { formatWhen } from './when.js';

export interface OtherRun {
  run: RunRecord;
  state: string;
  status: string;
}

export interface TestPageInput {
  run: RunRecord;
  testname: string;
  itempath: string;
  /** undefined: no such test in the run */
  detail: TestDetail | undefined;
  tail: LogTail | undefined;
  /** how many items the test has (0 for an item, or a test without items) */
  items: number;
  /** the same test or item in the other runs the web view follows, newest first */
  others: readonly OtherRun[];
  now: number;
}

/** Whether the page should be read again: the test has not ended. */
export function isLive(detail: TestDetail | undefined): boolean {
  return detail !== undefined && !isFinal(detail.state, detail.status) && detail.state !== 'NOT_STARTED';
}

/** The page's main part. */
export function renderTestMain(input: TestPageInput): Html {
  const name = displayName(input);
  const { run } = input;
  return html`<h1>${name} <span class="note">in ${run.target} ${run.runname}</span></h1>
<p><a href="/${query({ t: run.target, r: run.runname })}">the run in the matrix</a> &middot; <a href="/run?id=${run.id}">the run's page and log</a></p>
${raw(renderDetail(input).text)}
${input.detail ? renderSignOff(input, input.detail) : ''}
${input.detail ? renderActions(input) : ''}
${renderOthers(input)}`;
}

/** The live part: facts, steps, values, log tail. */
export function renderDetail(input: TestPageInput): Html {
  const d = input.detail;
  if (d === undefined) {
    return html`<div id="detail" data-live="0"><p class="error">This test is not in the run (removed, or never registered).</p></div>`;
  }
  const look = lookOf(d.state, d.status);
  const running = d.start !== null && d.end === null;
  const duration = d.duration ?? (running ? input.now - d.start! : null);
  return html`<div id="detail" data-live="${isLive(d) ? '1' : '0'}">
<dl class="facts">
<dt>Outcome</dt><dd><span class="${look.tone}">&nbsp;${look.text}&nbsp;</span> state ${d.state}, status ${d.status}</dd>
<dt>Where</dt><dd>${describePlacement(d)}</dd>
<dt>Started</dt><dd>${d.start === null ? '-' : formatWhen(d.start)}</dd>
<dt>Ended</dt><dd>${d.end === null ? '-' : formatWhen(d.end)}</dd>
<dt>Duration</dt><dd>${formatDuration(duration)}${running ? ' (running)' : ''}</dd>
${d.comment ? html`<dt>Comment</dt><dd>${d.comment}</dd>` : ''}
<dt>Work folder</dt><dd>${d.rundir || '-'}</dd>
${d.owner ? html`<dt>Owner</dt><dd>${d.owner}</dd>` : ''}
${d.description ? html`<dt>Description</dt><dd>${d.description}</dd>` : ''}
${d.tags ? html`<dt>Tags</dt><dd>${d.tags}</dd>` : ''}
</dl>
<h2>Steps</h2>
${
  d.steps.length === 0
    ? html`<p class="note">${input.items > 0 ? 'None of its own: its items have them (see the items in the matrix).' : 'None yet.'}</p>`
    : html`<table class="list"><thead><tr><th scope="col">#</th><th scope="col">Step</th><th scope="col">Outcome</th><th scope="col">Exit</th><th scope="col">Duration</th><th scope="col">Log</th></tr></thead><tbody>
${d.steps.map((s) => {
  const sl = lookOf(s.state === 'RUNNING' ? 'RUNNING' : 'COMPLETED', s.status);
  return html`<tr><td>${s.seq}</td><td>${s.name}</td><td class="word ${sl.tone}">${s.state === 'RUNNING' ? 'RUN' : s.status}</td><td>${s.exitCode ?? '-'}</td><td>${formatDuration(s.end !== null ? s.end - s.start : input.now - s.start)}</td><td>${s.logfile}</td></tr>`;
})}
</tbody></table>`
}
${renderRules(d)}
${
  d.data.length === 0
    ? ''
    : html`<h2>Values</h2>
<table class="list"><thead><tr><th scope="col">Name</th><th scope="col">Value</th><th scope="col">Expected</th><th scope="col">Outcome</th><th scope="col">Comment</th></tr></thead><tbody>
${d.data.map((v) => html`<tr><td>${v.name}</td><td>${v.value}${v.units ? ` ${v.units}` : ''}</td><td>${describeExpectation(v.expected, v.tol)}</td><td class="word ${lookOf('COMPLETED', v.status).tone}">${v.status}</td><td>${v.comment}</td></tr>`)}
</tbody></table>`
}
${renderTail(input.tail)}
</div>`;
}

/** What each rule found in each judged step's log; the first lines a rule not met took, under it. */
function renderRules(d: TestDetail): Html | string {
  if (d.rules.length === 0) return '';
  return html`<h2>Log rules</h2>
<table class="list"><thead><tr><th scope="col">Step</th><th scope="col">Rule</th><th scope="col">Kind</th><th scope="col">Expected</th><th scope="col">Found</th><th scope="col">Outcome</th><th scope="col">Description</th></tr></thead><tbody>
${d.rules.map((r) => {
  const tone = lookOf('COMPLETED', r.expired ? 'n/a' : r.status).tone;
  const shown = !r.ok && !r.expired && r.lines.length > 0;
  return html`<tr><td>${r.step}</td><td>rule-${r.num}</td><td>${r.kind}</td><td>${ruleExpectation(r)}</td><td>${ruleFinding(r)}</td><td class="word ${tone}">${r.expired ? 'expired' : r.status}</td><td>${r.description}</td></tr>${
    shown
      ? html`<tr><td></td><td colspan="6"><pre class="log" aria-label="the first lines rule-${r.num} took">${r.lines.map((l) => `${l.line}: ${l.text}`).join('\n')}</pre></td></tr>`
      : ''
  }`;
})}
</tbody></table>`;
}

function renderTail(tail: LogTail | undefined): Html | string {
  if (tail === undefined) return '';
  return html`<h2>Log <span class="note">${tail.file}${tail.error ? `: ${tail.error}` : tail.lines.length > 0 ? ` (last ${tail.lines.length} lines)` : ''}</span></h2>
${tail.lines.length > 0 ? html`<pre class="log" tabindex="0" aria-label="the end of the log">${tail.lines.join('\n')}</pre>` : ''}`;
}

/**
 * A test parked on a {manual} step: the step, its prompt, and Approve / Reject with an optional
 * comment; each asks for confirmation on the next page, as the other actions do. The step's name
 * goes along, so a test that moved on to another step since is refused rather than signed off.
 */
function renderSignOff(input: TestPageInput, d: TestDetail): Html | string {
  if (!awaitsSignOff(d)) return '';
  const step = d.steps.find((s) => s.state === 'WAITING');
  const locked = input.run.state === 'locked';
  return html`<h2 id="sign-off">Sign-off due</h2>
${
  step
    ? html`<p>Step <strong>${step.name}</strong> waits for a sign-off. It asks:</p>
<blockquote class="prompt">${step.comment || '(no prompt)'}</blockquote>`
    : html`<p>Items of this test wait for a sign-off: approving or rejecting here signs off each of them (see their pages for their prompts).</p>`
}
${locked ? html`<p class="note">The run is locked: it refuses a sign-off until it is unlocked.</p>` : ''}
<form method="get" action="/confirm" class="stack">
<input type="hidden" name="run" value="${input.run.id}"><input type="hidden" name="t" value="${input.testname}">${input.itempath === '' ? '' : html`<input type="hidden" name="i" value="${input.itempath}">`}${step ? html`<input type="hidden" name="step" value="${step.name}">` : ''}
<label>Comment (optional) <textarea name="comment" rows="2" cols="60" maxlength="${MAX_SIGN_OFF_COMMENT}"></textarea></label>
<div class="buttons"><button type="submit" name="action" value="approve" class="primary">Approve&hellip;</button> <button type="submit" name="action" value="reject" class="danger">Reject&hellip;</button></div>
</form>`;
}

/** Rerun, kill, set: each a form that asks for confirmation on the next page. */
function renderActions(input: TestPageInput): Html {
  const ref = { run: input.run.id, t: input.testname, i: input.itempath };
  const locked = input.run.state === 'locked';
  const hidden = html`<input type="hidden" name="run" value="${ref.run}"><input type="hidden" name="t" value="${ref.t}">${input.itempath === '' ? '' : html`<input type="hidden" name="i" value="${ref.i}">`}`;
  return html`<h2>Actions</h2>
${locked ? html`<p class="note">The run is locked${input.run.lockedBy ? ` by ${input.run.lockedBy}` : ''}: it refuses these until it is unlocked (<code>trellis unlock</code>).</p>` : ''}
<div class="actions">
<form method="get" action="/confirm">${hidden}<input type="hidden" name="action" value="rerun"><button type="submit">Rerun&hellip;</button></form>
<form method="get" action="/confirm">${hidden}<input type="hidden" name="action" value="kill"><button type="submit" class="danger">Kill&hellip;</button></form>
<form method="get" action="/confirm">${hidden}<input type="hidden" name="action" value="set">
<label>State <select name="state"><option value="">(keep)</option>${TEST_STATES.map((s) => html`<option>${s}</option>`)}</select></label>
<label>Status <input type="text" name="status" list="statuses" size="10" maxlength="40"></label>
<datalist id="statuses">${KNOWN_STATUSES.map((s) => html`<option value="${s}">`)}</datalist>
<button type="submit">Set&hellip;</button></form>
</div>`;
}

function renderOthers(input: TestPageInput): Html | string {
  if (input.others.length === 0) return '';
  return html`<h2>In other runs</h2>
<table class="list"><thead><tr><th scope="col">Run</th><th scope="col">Outcome</th></tr></thead><tbody>
${input.others.map((o) => {
  const look = lookOf(o.state, o.status);
  return html`<tr><td><a href="/test${query({ run: o.run.id, t: input.testname, i: input.itempath })}">${o.run.target} ${o.run.runname}</a></td><td class="word ${look.tone}">${look.text}</td></tr>`;
})}
</tbody></table>`;
}
