/**
 * The terminal, through blessed: draws lines of styled segments into one full-screen box and
 * passes key presses and resizes on. blessed keeps a copy of the screen and writes only the
 * cells that changed, so a live update repaints a few cells, never the whole terminal.
 * This file and nothing else imports blessed.
 */
import blessed from 'blessed';
import type { Tone } from '../view/cell-style.js';
import type { Line } from './frame.js';

/** What the dashboard needs of a terminal. */
export interface ScreenPort {
  size(): { width: number; height: number };
  draw(lines: Line[]): void;
  onKey(fn: (key: string) => void): void;
  onResize(fn: () => void): void;
  /** gives the terminal back as it was */
  destroy(): void;
}

/** blessed colour tags per tone; basic colours only, so 16-colour terminals show them. */
const TONE_TAGS: Record<Tone, string> = {
  pass: '{black-fg}{green-bg}',
  fail: '{white-fg}{red-bg}',
  warn: '{black-fg}{yellow-bg}',
  waived: '{black-fg}{cyan-bg}',
  skip: '{cyan-fg}',
  running: '{white-fg}{blue-bg}',
  launched: '{blue-fg}',
  killed: '{white-fg}{magenta-bg}',
  idle: '',
  never: '{magenta-fg}',
  other: '{yellow-fg}',
};

export interface ScreenOptions {
  /** false under NO_COLOR: attributes (bold, inverse) only */
  colour: boolean;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

/** Takes over the terminal. */
export function openScreen(opts: ScreenOptions): ScreenPort {
  const screen = withoutConsoleErrors(() =>
    blessed.screen({
      smartCSR: true,
      fullUnicode: false,
      autoPadding: false,
      warnings: false,
      title: 'trellis dashboard',
      ...(opts.input ? { input: opts.input as never } : {}),
      ...(opts.output ? { output: opts.output as never } : {}),
    }),
  );
  const box = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: '100%', tags: true, wrap: false });
  let destroyed = false;
  return {
    size: () => ({ width: Number(screen.width), height: Number(screen.height) }),
    draw(lines) {
      if (destroyed) return;
      box.setContent(lines.map((l) => toTagged(l, opts.colour)).join('\n'));
      screen.render();
    },
    onKey(fn) {
      screen.on('keypress', (ch: string | undefined, key: { full?: string; name?: string; ctrl?: boolean; meta?: boolean } | undefined) => {
        const name = keyName(ch, key);
        if (name !== undefined) fn(name);
      });
    },
    onResize(fn) {
      screen.on('resize', fn);
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      screen.destroy();
    },
  };
}

/**
 * blessed cannot compile some terminfo entries (ncurses 6's screen-256color: `plab_norm`); it then
 * uses its own xterm entry, which works, but first prints the entry and the generated code with
 * console.error, onto the terminal the user gets back when the dashboard ends.
 */
function withoutConsoleErrors<T>(fn: () => T): T {
  const error = console.error;
  console.error = () => undefined;
  try {
    return fn();
  } finally {
    console.error = error;
  }
}

/** blessed's key event as one name: a printable character as itself, else `up`, `enter`, `C-c`… */
export function keyName(
  ch: string | undefined,
  key: { full?: string; name?: string; ctrl?: boolean; meta?: boolean } | undefined,
): string | undefined {
  // blessed reports Enter twice, as `enter` and as `return`: take one.
  if (key?.name === 'return') return undefined;
  if (key?.name === 'enter') return 'enter';
  if (ch !== undefined && ch.length === 1 && ch >= ' ' && ch !== '\x7f' && !key?.ctrl && !key?.meta) return ch === ' ' ? 'space' : ch;
  return key?.full ?? key?.name;
}

function toTagged(line: Line, colour: boolean): string {
  let out = '';
  for (const seg of line) {
    const text = blessed.escape(seg.text);
    const tags = `${seg.bold ? '{bold}' : ''}${seg.inverse ? '{inverse}' : ''}${colour && seg.tone ? TONE_TAGS[seg.tone] : ''}`;
    out += tags === '' ? text : `${tags}${text}{/}`;
  }
  return out;
}
