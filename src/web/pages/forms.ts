/** The small pages: log in, confirm an action, invite someone, start a run, and a message. Pure. */
import { html, raw, type Html } from '../html.js';
import type { RunFormSpec, RunFormValues } from '../run-form.js';

/** The login page: for a link that did not work, or someone who came without one. */
export function renderLoginMain(problem: string | undefined): Html {
  return html`<h1>Log in to the web view</h1>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
<p>Open the login link that <code>trellis web</code> printed when it started (or that someone logged in made for you under
Invite). Each link works once. Or paste its token here:</p>
<form class="stack" method="post" action="/login">
<label>Login token <input type="password" name="token" autocomplete="off" required maxlength="200"></label>
<div><button type="submit" class="primary">Log in</button></div>
</form>
<p class="note">Whoever runs <code>trellis web</code> gets a new link by pressing Enter in its terminal.</p>`;
}

/** A hidden field per entry. */
function hiddenFields(fields: Readonly<Record<string, string>>): Html[] {
  return Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`);
}

export interface ConfirmInput {
  question: string;
  /** what will happen, line by line */
  details: readonly string[];
  action: string;
  fields: Readonly<Record<string, string>>;
  csrf: string;
  button: string;
  danger?: boolean;
  cancelHref: string;
  /** a text the person may still edit before confirming (a sign-off's comment) */
  text?: { name: string; label: string; value: string; maxlength: number };
}

/** Asks once more before anything changes; the button posts with the CSRF token. */
export function renderConfirmMain(c: ConfirmInput): Html {
  return html`<h1>${c.question}</h1>
<div class="confirm">
${c.details.map((d) => html`<p>${d}</p>`)}
<form method="post" action="${c.action}">
<input type="hidden" name="_csrf" value="${c.csrf}">
${hiddenFields(c.fields)}
<input type="hidden" name="confirmed" value="yes">
${c.text ? html`<p><label>${c.text.label}<br><textarea name="${c.text.name}" rows="3" cols="60" maxlength="${c.text.maxlength}">${c.text.value}</textarea></label></p>` : ''}
<div class="buttons"><button type="submit" class="${c.danger ? 'danger' : 'primary'}" autofocus>${c.button}</button> <a href="${c.cancelHref}">Cancel</a></div>
</form>
</div>`;
}

/** A message with a way on. */
export function renderMessageMain(title: string, lines: readonly string[], back: { href: string; label: string }): Html {
  return html`<h1>${title}</h1>
${lines.map((l) => html`<p>${l}</p>`)}
<p><a href="${back.href}">${back.label}</a></p>`;
}

/** Making a login link for someone else. */
export function renderInviteMain(csrf: string, made?: { who: string; url: string; hours: number }, problem?: string): Html {
  return html`<h1>Invite someone</h1>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
${
  made
    ? html`<p>A login link for <strong>${made.who}</strong>; it works once, within ${made.hours} hours. Pass it on privately:</p>
<p class="linkout"><code>${made.url}</code></p>`
    : ''
}
<form class="stack" method="post" action="/invite">
<input type="hidden" name="_csrf" value="${csrf}">
<label>Their name (recorded with what they do) <input type="text" name="name" required maxlength="64" pattern="[A-Za-z0-9_.@+-]+" autocomplete="off"></label>
<div><button type="submit" class="primary">Make a login link</button></div>
</form>`;
}

/** The run form, generated from the area. */
export function renderStartMain(spec: RunFormSpec, values: Partial<RunFormValues>, errors: readonly string[], problem?: string): Html {
  const v = { target: '', runname: '', pattern: '', launcher: '', params: {}, ...values };
  return html`<h1>Start a run</h1>
<p>Starts <code>trellis run</code> on the web host, in the background; the run shows in the matrix as it goes.</p>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
${errors.length > 0 ? html`<div class="error" role="alert">${errors.map((e) => html`<p>${e}</p>`)}</div>` : ''}
${
  spec.targets.length === 0
    ? html`<p class="error">runconfigs.config names no target (a section such as <code>[linux/x86_64]</code>): add one to start runs from here.</p>`
    : html`<form class="stack" method="get" action="/start">
<input type="hidden" name="review" value="1">
<label>Target <select name="target" required>${spec.targets.map((t) => html`<option${raw(t === v.target ? ' selected' : '')}>${t}</option>`)}</select></label>
<label>Run name <input type="text" name="runname" value="${v.runname}" required maxlength="128" pattern="[A-Za-z0-9_][A-Za-z0-9_.+@=-]*" placeholder="nightly-1124"></label>
<label>Test pattern <input type="text" name="pattern" value="${v.pattern}" maxlength="1000" placeholder="empty: TESTPATT of the target, else every test"></label>
<label>Launcher <select name="launcher">${spec.launchers.map((l) => html`<option value="${l.id}"${raw(l.id === v.launcher ? ' selected' : '')}>${l.label}</option>`)}</select></label>
${spec.params.map((p) => {
  const value = (v.params as Record<string, string>)[p.name] ?? p.defaultValue;
  return p.choices
    ? html`<label>${p.label} <select name="param.${p.name}">${p.choices.map((c) => html`<option${raw(c === value ? ' selected' : '')}>${c}</option>`)}</select></label>`
    : html`<label>${p.label} <input type="text" name="param.${p.name}" value="${value}"${raw(p.required ? ' required' : '')}></label>`;
})}
<div><button type="submit" class="primary">Review&hellip;</button></div>
</form>`
}`;
}
