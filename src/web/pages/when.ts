/** Times on pages: the web host's local time as the commands print it, with the exact instant for machines. */
import { formatTime, isoTime } from '../../report/table.js';
import { html, type Html } from '../html.js';

/** `2026-11-24 20:45:52`, in a `<time>` carrying ISO 8601 with the zone. */
export function formatWhen(seconds: number | null): Html | string {
  if (seconds === null) return '-';
  return html`<time datetime="${isoTime(seconds) ?? ''}">${formatTime(seconds)}</time>`;
}
