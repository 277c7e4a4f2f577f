/**
 * Run parameters (config/params.ts): `[params]` lines read into declarations, their mistakes named
 * by file and line, and `--param` values checked all at once, one line per problem (BAD_PARAM).
 */
import t from 'tap';
import { parseParamOption, readParams, resolveParams } from '../../src/config/params.js';
import { parseConfigText } from '../../src/config/ini.js';
import type { ParamDecl } from '../../src/config/types.js';
import { TrellisError } from '../../src/util/errors.js';

const FILE = '/area/trellis.config';

function params(lines: string): readonly ParamDecl[] {
  return readParams(parseConfigText(`[params]\n${lines}\n`, FILE, { env: {}, areaDir: '/area' }));
}

/** The error `fn` throws: its code and every line it prints. */
function caught(fn: () => unknown): { code: string; lines: string[] } {
  try {
    fn();
  } catch (err) {
    if (err instanceof TrellisError) return { code: err.code, lines: err.toLines() };
    throw err;
  }
  throw new Error('no error thrown');
}

t.test('a [params] line: options in any order, then the description', async (t) => {
  const [version, channel, notes, plain, hashed] = params(
    [
      'VERSION required pattern=[0-9]+\\.[0-9]+ # the release, e.g. 1.4',
      'CHANNEL choices=beta,stable default=beta which channel',
      'NOTES default=\'two  words\' pattern="[a-z ]+"',
      'PLAIN',
      'HASHED # required reading',
    ].join('\n'),
  );
  t.match(version, {
    name: 'VERSION',
    required: true,
    pattern: '[0-9]+\\.[0-9]+',
    description: 'the release, e.g. 1.4',
    loc: { file: FILE, line: 2 },
  });
  t.ok(version!.regex!.test('1.4') && !version!.regex!.test('1.4.2') && !version!.regex!.test('x1.4'), 'the pattern matches whole values');
  t.match(channel, { required: false, default: 'beta', choices: ['beta', 'stable'], description: 'which channel' });
  t.match(notes, { default: 'two  words', pattern: '[a-z ]+', description: '' });
  t.match(plain, { name: 'PLAIN', required: false, description: '' });
  t.equal(plain!.default, undefined, 'no default: an optional parameter');
  t.match(hashed, { required: false, description: 'required reading' }, 'after # an option word is description');
});

t.test('a bad [params] line is CONFIG_VALUE with its file and line', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['1BAD required', /trellis\.config:2: \[params\] 1BAD: is not a valid parameter name/],
    ['PATH default=/bin', /PATH: is a name the shell or Trellis sets/],
    ['TRELLIS_X', /TRELLIS_X: is a name the shell or Trellis sets/],
    ['A required default=1', /A: is both required and has a default/],
    ['A defualt=1', /unknown option 'defualt='/],
    ['A default', /'default' needs a value/],
    ['A required=yes', /'required' takes no value/],
    ['A pattern=([a-z', /pattern=\(\[a-z is not a valid regular expression/],
    ['A choices=a,,b', /has an empty choice/],
    ["A default='open", /unclosed quote/],
    ['A default=x choices=a,b', /default=x is not one of a, b/],
    ['A default=abc pattern=[0-9]+', /default=abc does not match pattern=\[0-9\]\+/],
  ];
  for (const [line, message] of cases) {
    const e = caught(() => params(line));
    t.equal(e.code, 'CONFIG_VALUE', line);
    t.match(e.lines[0], message, line);
    t.match(e.lines[0], /^\/area\/trellis\.config:2: /, `${line}: names file and line`);
  }
});

t.test('--param values: defaults filled in, every problem one line of one BAD_PARAM', async (t) => {
  const decls = params(
    [
      'VERSION required pattern=[0-9]+\\.[0-9]+ the release',
      'CHANNEL choices=beta,stable default=beta',
      'NOTE',
      'MODE required choices=fast,full',
    ].join('\n'),
  );
  t.same(
    resolveParams(
      decls,
      [
        { name: 'VERSION', value: '1.4' },
        { name: 'MODE', value: 'full' },
      ],
      FILE,
    ),
    { VERSION: '1.4', MODE: 'full', CHANNEL: 'beta', NOTE: '' },
  );
  const e = caught(() =>
    resolveParams(
      decls,
      [
        { name: 'VERSION', value: '1.4.2' },
        { name: 'CHANNEL', value: 'nightly' },
        { name: 'FOO', value: '1' },
        { name: 'NOTE', value: 'a' },
        { name: 'NOTE', value: 'b' },
        { name: 'CHANNEL', value: 'x\u001b[2J' },
      ],
      FILE,
    ),
  );
  t.equal(e.code, 'BAD_PARAM');
  t.equal(e.lines.length, 6, 'one line per problem');
  t.match(
    e.lines[0],
    /^--param VERSION=1\.4\.2: the value does not match pattern=\[0-9\]\+\\\.\[0-9\]\+ \(\/area\/trellis\.config:2\); give a value matching .* \(the release\)$/,
  );
  t.match(
    e.lines[1],
    /^--param CHANNEL=nightly: the value is not one of beta, stable \(\/area\/trellis\.config:3\); give one of beta, stable$/,
  );
  t.match(
    e.lines[2],
    /^--param FOO=1: FOO is not a parameter of this area; declared in \[params\] of \/area\/trellis\.config: VERSION, CHANNEL, NOTE, MODE$/,
  );
  t.match(e.lines[3], /^--param NOTE=b: NOTE is given more than once/);
  t.match(e.lines[4], /^--param CHANNEL=x\\x1b\[2J: CHANNEL is given more than once/, 'a control character is shown escaped');
  t.match(e.lines[5], /^parameter MODE is required \(\/area\/trellis\.config:5\); give --param MODE=VALUE \(one of fast, full\)$/);
  const controls = caught(() =>
    resolveParams(
      decls,
      [
        { name: 'NOTE', value: 'a\nb' },
        { name: 'VERSION', value: '1.0' },
        { name: 'MODE', value: 'fast' },
      ],
      FILE,
    ),
  );
  t.match(controls.lines, [/^--param NOTE=a\\nb: the value contains a control character/]);
  const none = caught(() => resolveParams([], [{ name: 'X', value: '1' }], FILE));
  t.match(none.lines, [/X is not a parameter of this area; declare it in \[params\] of \/area\/trellis\.config, or leave it out/]);
});

t.test('--param text is NAME=VALUE; the value may hold = and blanks', async (t) => {
  t.same(parseParamOption('A=b=c d', '--param'), { name: 'A', value: 'b=c d' });
  t.same(parseParamOption('A=', '--param'), { name: 'A', value: '' });
  for (const bad of ['A', '=x', '']) {
    const e = caught(() => parseParamOption(bad, '--param'));
    t.equal(e.code, 'BAD_PARAM', bad);
    t.match(e.lines[0], /expected NAME=VALUE; e\.g\. --param VERSION=1\.4\.2/, bad);
  }
});
