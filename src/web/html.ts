/**
 * HTML text with every interpolated value escaped: `html` tags a template, values are escaped
 * unless they are Html already (a fragment built the same way). Stored text (names, statuses,
 * comments, logs) reaches a page only through here or `esc`, so it can never become markup.
 */
import escapeHtml from 'escape-html';

/** Text that is already HTML. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** A value a template may hold: text (escaped), a number, a fragment, a list of them, or nothing. */
export type HtmlValue = string | number | Html | null | undefined | false | readonly HtmlValue[];

// Control characters other than tab and newline mean nothing on a page; a log full of them (or a
// hostile name) shows a visible mark instead. The same class as a terminal's (util/terminal-text):
// C0 and C1 controls, DEL, the line separators, and the bidirectional overrides and isolates,
// which would reorder what a page shows ("Trojan source").
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Escapes text for an element or a quoted attribute. */
export function esc(text: string): string {
  return escapeHtml(text.replace(CONTROL, '\ufffd'));
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return esc(String(value));
}

/** Builds a fragment: `html\`<td>${name}</td>\`` escapes `name`. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Trusted markup as it is (built by our own code, never from stored or sent text). */
export function raw(text: string): Html {
  return new Html(text);
}

/** A query string from the parameters that are set, for links (`?t=linux%2F%25&r=nightly`). */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}
