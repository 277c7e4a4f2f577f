/**
 * The one rule for printing stored text to a terminal (util/terminal-text.ts): no control
 * character, C1 control, line separator or bidirectional override is ever sent raw; a line stays one
 * line; a log keeps its lines; JSON stays the same JSON value.
 */
import t from 'tap';
import { hasTerminalControls, termJson, termJsonList, termLine, termLog, termText } from '../../src/util/terminal-text.js';

/** Every character a terminal could act on, as one string. */
const HOSTILE = [
  ...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)),
  '\x7f',
  ...Array.from({ length: 32 }, (_, i) => String.fromCharCode(0x80 + i)),
  '\u2028',
  '\u2029',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
].join('');

const RAW = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

t.test('termLine escapes every control, keeps everything else, and is idempotent', async (t) => {
  t.equal(termLine('plain-name_1.2 ü 日本'), 'plain-name_1.2 ü 日本', 'printable text is unchanged');
  t.equal(termLine('a\nb'), 'a\\nb');
  t.equal(termLine('tab\there\r'), 'tab\\there\\r');
  t.equal(termLine('\x1b]0;pwned\x07title'), '\\x1b]0;pwned\\x07title', 'an OSC title sequence is shown, not run');
  t.equal(termLine('\u009b31m'), '\\u009b31m', 'a one-byte CSI (C1) is escaped');
  t.equal(termLine('abc\u202edef'), 'abc\\u202edef', 'a bidi override is escaped');
  t.equal(termLine('back\\slash'), 'back\\slash', 'backslashes stay');
  const once = termLine(HOSTILE);
  t.notMatch(once, RAW, 'nothing raw is left');
  t.equal(termLine(once), once, 'escaping escaped text changes nothing');
  t.ok(hasTerminalControls(HOSTILE));
  t.notOk(hasTerminalControls(once));
});

t.test('termText keeps line feeds and tabs, escapes the rest', async (t) => {
  t.equal(termText('line 1\n\tline 2\x1b[2J\r\n'), 'line 1\n\tline 2\\x1b[2J\\r\n');
  t.notMatch(termText(HOSTILE).replace(/[\n\t]/g, ''), RAW);
});

t.test('termLog drops colour codes and OSC, shows redrawn lines as a terminal would, escapes the rest', async (t) => {
  t.equal(termLog('\x1b[31mred\x1b[0m ok\n'), 'red ok\n');
  t.equal(termLog('\x1b]0;title\x07after\n'), 'after\n');
  t.equal(termLog('10%\r50%\r100%\nnext\n'), '100%\nnext\n');
  t.equal(termLog('windows\r\nline\r\n'), 'windows\nline\n');
  t.equal(termLog('bell\x07 and \x9b1m'), 'bell\\x07 and \\u009b1m');
  t.notMatch(termLog(HOSTILE).replace(/[\n\t]/g, ''), RAW);
});

t.test('termJson is the same JSON value with nothing raw', async (t) => {
  const value = { name: HOSTILE, list: ['\u009b', 'ok'], n: 1 };
  const text = termJson(value);
  t.notMatch(text.replace(/\n/g, ''), RAW);
  t.same(JSON.parse(text), value, 'parses back to the same value');
  t.equal(termJson({ a: 1 }), '{\n  "a": 1\n}');
});

t.test('termJsonList: the text termJson makes of the mapped list, in slices', async (t) => {
  const row = (i: number) => ({ id: i, name: `t${i}`, nested: { a: [i, null], b: {} }, empty: [], bad: `x\u202ey\x7f`, none: undefined });
  const whole = (items: number[]) => termJson(items.map(row));
  for (const n of [0, 1, 2, 999, 1000, 1001, 2500]) {
    const items = Array.from({ length: n }, (_, i) => i);
    const pieces = [...termJsonList(items, row)];
    t.equal(pieces.join(''), whole(items), `${n} entries`);
    if (n > 1000) t.ok(pieces.length > 2, `${n} entries: in slices`);
  }
  t.equal(
    [...termJsonList([1, 2], () => undefined)].join(''),
    termJson([undefined, undefined]),
    'entries JSON leaves out are null, as in a whole list',
  );
});
