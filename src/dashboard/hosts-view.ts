/** The hosts view (key `n`): every agent of the pool, as `trellis hosts` shows them. Pure. */
import { HOST_COLUMNS, hostCells, type HostStatus, type HostView } from '../model/pool.js';
import type { Tone } from '../view/cell-style.js';
import { clean, fit, keyLine, type Line } from './frame.js';
import type { UiState } from './ui-state.js';

const TONES: Readonly<Record<HostStatus, Tone>> = { idle: 'pass', busy: 'running', draining: 'warn', offline: 'never' };

export interface HostsFrameInput {
  ui: UiState;
  /** undefined: not read yet */
  hosts: readonly HostView[] | undefined;
  now: number;
  width: number;
  height: number;
  banner: string | undefined;
}

/** Every line of the hosts view. */
export function buildHostsFrame(input: HostsFrameInput): Line[] {
  const { hosts, width, height } = input;
  const lines: Line[] = [[{ text: 'agents of this run area', bold: true }, { text: '   q back  ? help' }]];
  lines.push(input.banner ? [{ text: clean(input.banner), tone: 'warn', bold: true }] : []);
  if (hosts === undefined) lines.push([{ text: 'reading the pool...' }]);
  else if (hosts.length === 0) {
    lines.push([{ text: 'No agents have registered in this run area.' }]);
    lines.push([{ text: 'Start one on each host with:  trellis agent --runarea DIR [--tags a,b] [--slots N]' }]);
  } else {
    const { header, rows } = tableLines(hosts.map((h) => hostCells(h, input.now).map(clean)));
    lines.push([{ text: header, bold: true }]);
    rows.forEach((text, i) => {
      const status = hosts[i]!.status;
      // The status word in its colour; the rest as it is.
      const at = text.indexOf(` ${status} `);
      lines.push(
        at < 0
          ? [{ text }]
          : [
              { text: text.slice(0, at + 1) },
              { text: status, tone: TONES[status], bold: true },
              { text: text.slice(at + 1 + status.length) },
            ],
      );
    });
    const busy = hosts.filter((h) => h.status === 'busy').length;
    const slots = hosts.filter((h) => h.status !== 'offline').reduce((n, h) => n + h.slots, 0);
    const used = hosts.reduce((n, h) => n + h.jobs.length, 0);
    lines.push(
      [],
      [{ text: `${hosts.length} agent(s), ${busy} busy; ${used} of ${slots} slot(s) in use (${HOST_COLUMNS.join(', ').toLowerCase()})` }],
    );
  }
  const body = lines.slice(0, Math.max(1, height - 1));
  while (body.length < height - 1) body.push([]);
  body.push(keyLine(input.ui, 'q back to the matrix  ? help  C-c quit'));
  return body.map((l) => clipLine(l, width));
}

/** The header and rows, each column padded to its widest cell. */
function tableLines(cells: readonly string[][]): { header: string; rows: string[] } {
  const widths = HOST_COLUMNS.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return { header: line(HOST_COLUMNS), rows: cells.map(line) };
}

function clipLine(line: Line, width: number): Line {
  const out: Line = [];
  let left = width;
  for (const seg of line) {
    if (left <= 0) break;
    const text = fit(seg.text, left);
    out.push({ ...seg, text });
    left -= text.length;
  }
  return out;
}
