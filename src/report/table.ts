/** Plain-text tables for people: columns padded to their widest cell. Data in, text out. */
import { termLine } from '../util/terminal-text.js';

/** Formats rows under a header; the last column is not padded. Cells are stored text: escaped (termLine). */
export function formatTable(header: readonly string[], rawRows: ReadonlyArray<readonly string[]>): string {
  // One pass for the widths and one for the lines, without intermediate arrays: `list runs` over
  // 10,000 runs formats 90,000 cells, and every copy of them was garbage to collect.
  const widths = header.map((h) => h.length);
  const rows = new Array<string[]>(rawRows.length);
  for (let r = 0; r < rawRows.length; r++) {
    const raw = rawRows[r]!;
    const row = new Array<string>(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const cell = termLine(raw[i]!);
      row[i] = cell;
      if (i < widths.length && cell.length > widths[i]!) widths[i] = cell.length;
    }
    rows[r] = row;
  }
  const line = (cells: readonly string[]) => {
    let text = '';
    const last = cells.length - 1;
    for (let i = 0; i < last; i++) text += `${cells[i]!.padEnd(widths[i]!)}  `;
    return (last >= 0 ? text + cells[last]! : text).trimEnd();
  };
  let out = line(header);
  for (const row of rows) out += `\n${line(row)}`;
  return out;
}

/** `00` to `99`: two-digit fields without a padStart each (`list runs` formats 20,000 times). */
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));

/** A time (seconds since the epoch) as local `YYYY-MM-DD HH:MM:SS`, or '-'. */
export function formatTime(t: number | null | undefined): string {
  if (t === null || t === undefined) return '-';
  const d = new Date(t * 1000);
  const p = TWO_DIGITS;
  return `${d.getFullYear()}-${p[d.getMonth() + 1]}-${p[d.getDate()]} ${p[d.getHours()]}:${p[d.getMinutes()]}:${p[d.getSeconds()]}`;
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
