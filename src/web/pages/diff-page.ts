/**
 * Two runs compared, as `trellis diff` does: what got worse, better, appeared, disappeared, is
 * still pending or stayed the same, with a form to pick the runs. Pure.
 */
import { displayName } from '../../model/display-name.js';
import type { RunRecord } from '../../model/records.js';
import { DIFF_CLASSES, type DiffSide, type RunDiff } from '../../report/diff.js';
import { lookOf } from '../../view/cell-style.js';
import { html, query, raw, type Html } from '../html.js';

export interface DiffPageInput {
  /** the runs to choose from, newest first */
  choices: readonly RunRecord[];
  old?: RunRecord;
  new?: RunRecord;
  diff?: RunDiff;
  error?: string;
}

const HEADINGS: Record<(typeof DIFF_CLASSES)[number], string> = {
  worse: 'Worse',
  better: 'Better',
  appeared: 'Appeared (only in the new run)',
  disappeared: 'Disappeared (only in the old run)',
  pending: 'Pending (not ended in the new run)',
  same: 'The same',
};

export function renderDiffMain(input: DiffPageInput): Html {
  const select = (name: string, label: string, chosen: RunRecord | undefined) => html`<label>${label} <select name="${name}" required>
<option value="">(choose a run)</option>
${input.choices.map((r) => html`<option value="${r.id}"${raw(chosen?.id === r.id ? ' selected' : '')}>${r.target} ${r.runname} (${r.state})</option>`)}
</select></label>`;
  return html`<h1>Compare two runs</h1>
<form class="filters" method="get" action="/diff">
${select('old', 'Old run', input.old)}
${select('new', 'New run', input.new)}
<button type="submit" class="primary">Compare</button>
</form>
${input.error ? html`<p class="error" role="alert">${input.error}</p>` : ''}
${input.diff && input.old && input.new ? renderResult(input.diff, input.old, input.new) : ''}`;
}

function word(side: DiffSide | null): Html {
  if (side === null) return html`<td class="word idle">-</td>`;
  const look = lookOf(side.state, side.status);
  return html`<td class="word ${look.tone}">${look.text}</td>`;
}

function renderResult(diff: RunDiff, old: RunRecord, now: RunRecord): Html {
  const summary = DIFF_CLASSES.map((c) => `${c} ${diff.counts[c]}`).join(', ');
  return html`<h2>${old.target} ${old.runname} &rarr; ${now.target} ${now.runname}</h2>
<p>${summary}.</p>
${DIFF_CLASSES.map((c) => {
  const entries = diff.entries.filter((e) => e.class === c);
  if (entries.length === 0) return '';
  const table = html`<table class="list"><thead><tr><th scope="col">Test</th><th scope="col">Old</th><th scope="col">New</th></tr></thead><tbody>
${entries.map((e) => html`<tr><td><a href="/test${query({ run: e.new === null ? old.id : now.id, t: e.testname, i: e.itempath })}">${displayName(e)}</a></td>${word(e.old)}${word(e.new)}</tr>`)}
</tbody></table>`;
  // The long, unremarkable lists stay closed.
  if (c === 'same' || c === 'pending') return html`<details><summary>${HEADINGS[c]}: ${entries.length}</summary>${table}</details>`;
  return html`<h3>${HEADINGS[c]}: ${entries.length}</h3>${table}`;
})}`;
}
