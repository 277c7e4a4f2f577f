/** Plain-text tables for people: columns padded to their widest cell. Data in, text out. */
import { termLine } from '../util/terminal-text.js';

/** Formats rows under a header; the last column is not padded. Cells are stored text: escaped (termLine). */
export function formatTable(header: readonly string[], rawRows: ReadonlyArray<readonly string[]>): string {
  const rows = rawRows.map((r) => r.map(termLine));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** A time (seconds since the epoch) as local `YYYY-MM-DD HH:MM:SS`, or '-'. */
export function formatTime(t: number | null | undefined): string {
  if (t === null || t === undefined) return '-';
  const d = new Date(t * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A time as ISO 8601 with its zone offset (for JSON), or null. */
export function isoTime(t: number | null | undefined): string | null {
  if (t === null || t === undefined) return null;
  const d = new Date(t * 1000);
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const p = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}` +
    `.${p(d.getMilliseconds(), 3)}${sign}${p(Math.trunc(off / 60))}:${p(off % 60)}`
  );
}
