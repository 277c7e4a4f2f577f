/**
 * The one rule for printing stored text to a terminal. Names, comments, values and logs come from
 * configs, tests and API clients: a raw ESC, OSC or C1 control there can retitle the window, move
 * the cursor, hide lines or rewrite the screen, and a raw newline breaks a table's rows. Everything
 * stored is printed through these functions: controls are shown as escapes (`\n`, `\x1b`,
 * `\u009b`), never sent raw.
 *
 * Escaped: C0 controls and DEL, C1 controls (U+0080–U+009F: U+009B is a one-byte CSI), the line
 * and paragraph separators, and the bidirectional overrides and isolates, which reorder what a
 * terminal shows ("Trojan source"). Backslashes stay as they are.
 */

/** Anything a terminal could act on rather than show. */
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same, but line feeds and tabs pass (multi-line text such as a log's tail). */
const UNSAFE_ALL_BUT_LINES = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** True when `text` holds something termLine would escape. */
export function hasTerminalControls(text: string): boolean {
  return UNSAFE.test(text);
}

/**
 * One line of stored text (a name, a comment, a value, an error message) for a terminal: every
 * control character, line break included, escaped.
 */
export function termLine(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeChar) : text;
}

/** Multi-line stored text (a log's tail) for a terminal: as termLine, but line feeds and tabs stay. */
export function termText(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL_BUT_LINES, escapeChar) : text;
}

// ANSI escape sequences: CSI (`ESC [ … final`), OSC (`ESC ] … BEL` or `ESC ] … ESC \`, never past
// its line) and the two-character ones. Logs are full of colour codes: they are dropped rather than
// shown as escapes, which would bury the text.
const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g;

/**
 * A log's text for a terminal: ANSI sequences (colours, cursor moves, titles) removed, a line that
 * redraws itself with `\r` shown as the terminal would (its last state), then termText.
 */
export function termLog(text: string): string {
  const plain = text.includes('\x1b') ? text.replace(ANSI, '') : text;
  const redrawn = plain.includes('\r')
    ? plain
        .split('\n')
        .map((line) => {
          const cr = line.replace(/\r+$/, '').lastIndexOf('\r');
          return cr >= 0 ? line.slice(cr + 1).replace(/\r+$/, '') : line.replace(/\r+$/, '');
        })
        .join('\n')
    : plain;
  return termText(redrawn);
}

/** Characters JSON.stringify leaves raw that a terminal may act on; they only occur inside strings. */
const JSON_UNSAFE = /[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Indented JSON for stdout: JSON.stringify escapes C0 controls; this also writes DEL, C1 controls,
 * line separators and bidirectional controls as `\uXXXX`. The same JSON value, safe on a terminal.
 */
export function termJson(value: unknown): string {
  const text = JSON.stringify(value, null, 2) ?? 'null';
  return text.replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Entries per slice of termJsonList. */
const LIST_SLICE = 1000;

/**
 * termJson of a list made by `map` from `items`, a slice at a time: the same text in pieces, to
 * write as they come. `list tests --json` over 100,000 items held every mapped entry and 35 MB of
 * text (and a copy of it to write) at once, near 500 MB in all.
 */
export function* termJsonList<T>(items: readonly T[], map: (item: T) => unknown): Generator<string> {
  if (items.length === 0) {
    yield termJson([]);
    return;
  }
  for (let i = 0; i < items.length; i += LIST_SLICE) {
    // A slice's own `[\n` … `\n]` taken off: its entries are indented as in the whole list.
    const text = termJson(items.slice(i, i + LIST_SLICE).map(map));
    yield `${i === 0 ? '[\n' : ',\n'}${text.slice(2, -2)}`;
  }
  yield '\n]';
}
