import path from 'node:path';
import t from 'tap';
import { parseConfigText, readConfigFile } from '../../src/config/ini.js';
import type { ConfigFile, ReadContext } from '../../src/config/types.js';

const ENV = { PATH: '/usr/bin:/bin', HOME: '/home/someone' };

function ctxFor(dir: string, extra: Partial<ReadContext> = {}): ReadContext {
  return { env: ENV, areaDir: dir, ...extra };
}

/** Parses `text` as `<dir>/test.config`. */
function parse(text: string, dir = '/nowhere', extra: Partial<ReadContext> = {}): ConfigFile {
  return parseConfigText(text, path.join(dir, 'test.config'), ctxFor(dir, extra));
}

function entriesText(cfg: ConfigFile, section: string): Array<[string, string]> {
  return cfg.entries(section).map(([k, v]) => [k, v.text]);
}

t.test('sections, keys and the [default] section', async (t) => {
  const cfg = parse(['top 1', '[setup]', 'a   one two  ', 'flag', '', '[other]', 'x y'].join('\n'));
  t.same(cfg.sectionNames(), ['default', 'setup', 'other']);
  t.same(entriesText(cfg, 'default'), [['top', '1']]);
  t.same(entriesText(cfg, 'setup'), [
    ['a', 'one two'],
    ['flag', ''],
  ]);
  t.equal(cfg.text('other', 'x'), 'y');
  t.equal(cfg.text('other', 'missing', 'fb'), 'fb');
  t.equal(cfg.get('nosuch', 'x'), undefined);
  t.equal(cfg.hasSection('setup'), true);
  t.equal(cfg.hasSection('nosuch'), false);
  t.same(cfg.get('setup', 'a')!.loc, { file: '/nowhere/test.config', line: 3 });
});

t.test('a later assignment replaces an earlier one, keeping its position', async (t) => {
  const cfg = parse(['[s]', 'a 1', 'b 2', 'a 3', '[t]', '[s]', 'b 4', 'c 5'].join('\n'));
  t.same(entriesText(cfg, 's'), [
    ['a', '3'],
    ['b', '4'],
    ['c', '5'],
  ]);
  t.equal(cfg.get('s', 'b')!.loc.line, 7);
});

t.test('an empty section and unknown sections are kept', async (t) => {
  const cfg = parse('[empty]\n[my-own-data]\nk v\n');
  t.same(cfg.sectionNames(), ['empty', 'my-own-data']);
  t.same(cfg.entries('empty'), []);
  t.equal(cfg.text('my-own-data', 'k'), 'v');
});

t.test('comments start only at the start of a line', async (t) => {
  const cfg = parse(['# a comment', '   # indented comment', '[s]', 'url http://x/#frag', 'k v # not a comment'].join('\n'));
  t.equal(cfg.text('s', 'url'), 'http://x/#frag');
  t.equal(cfg.text('s', 'k'), 'v # not a comment');
  t.same(cfg.sectionNames(), ['s']);
});

t.test('indented lines continue a value; a blank line ends it', async (t) => {
  const cfg = parse(
    [
      '[ezsteps]',
      'build make',
      '    all',
      '      -j4',
      '    # dropped comment',
      '    done',
      '',
      'next echo hi',
      '[s]',
      'script',
      '  line1',
      '  line2',
    ].join('\n'),
  );
  t.equal(cfg.text('ezsteps', 'build'), 'make\nall\n  -j4\ndone');
  t.equal(cfg.text('ezsteps', 'next'), 'echo hi');
  // KEY alone: the value is just the indented lines
  t.equal(cfg.text('s', 'script'), 'line1\nline2');
});

t.test('a comment line at the margin does not end a multi-line value', async (t) => {
  const cfg = parse(['[s]', 'k first', '# note', '  second'].join('\n'));
  t.equal(cfg.text('s', 'k'), 'first\nsecond');
});

t.test('an indented line after a blank line is an error naming file:line', async (t) => {
  t.throws(() => parse(['[s]', 'k v', '', '  stray'].join('\n'), '/d'), {
    code: 'CONFIG_SYNTAX',
    message: /^\/d\/test\.config:4: indented line does not continue a value \(a blank line at \/d\/test\.config:3 ended the value of 'k'\)/,
  });
  t.throws(() => parse(['[s]', '  k v'].join('\n'), '/d'), { code: 'CONFIG_SYNTAX', message: /test\.config:2: indented line/ });
});

t.test('a trailing backslash joins the next physical line', async (t) => {
  const cfg = parse(['[s]', 'cmd ls -l \\', '    /tmp \\', '  /var', 'word pre\\', 'fix', 'after 1', 'last end\\'].join('\n'));
  t.equal(cfg.text('s', 'cmd'), 'ls -l /tmp /var');
  t.equal(cfg.text('s', 'word'), 'prefix');
  t.equal(cfg.get('s', 'after')!.loc.line, 7, 'line numbers count physical lines');
  t.equal(cfg.text('s', 'last'), 'end', 'a backslash on the last line is dropped');
});

t.test('CRLF line endings', async (t) => {
  const cfg = parse('[s]\r\nk v\r\nm\r\n  cont\r\n');
  t.equal(cfg.text('s', 'k'), 'v');
  t.equal(cfg.text('s', 'm'), 'cont');
});

t.test('pattern sections copy their keys into every matching section', async (t) => {
  const cfg = parse(
    [
      '[linux/x86_64]',
      'CC gcc',
      'A target',
      '[%/x86_64]',
      'WIDTH 64',
      'A pattern',
      '[linux/%]',
      'OSNAME linux',
      '[%/%_%]',
      'UNDERSCORE yes',
      '[/^(linux|bsd)\\/arm.*/]',
      'ARM yes',
    ].join('\n'),
  );
  t.same(
    entriesText(cfg, 'linux/x86_64'),
    [
      ['CC', 'gcc'],
      ['A', 'pattern'],
      ['WIDTH', '64'],
      ['OSNAME', 'linux'],
      ['UNDERSCORE', 'yes'],
    ],
    'file order: the pattern section after the target replaces A',
  );
  t.equal(cfg.text('linux/arm64', 'ARM'), 'yes', 'regex section, name never written');
  t.equal(cfg.text('linux/arm64', 'OSNAME'), 'linux');
  t.equal(cfg.text('linux/arm64', 'UNDERSCORE'), undefined, 'every % is a wildcard: %/%_% needs an underscore');
  t.equal(cfg.text('bsd/armv7', 'ARM'), 'yes');
  t.equal(cfg.text('xbsd/armv7', 'ARM'), undefined, 'regex sections match the whole name');
  t.equal(cfg.text('mac/x86_64', 'WIDTH'), '64');
  t.equal(cfg.text('mac/x86_64', 'CC'), undefined);
  t.same(cfg.sectionNames(), ['linux/x86_64', '%/x86_64', 'linux/%', '%/%_%', '/^(linux|bsd)\\/arm.*/']);
});

t.test('a literal section after a pattern section overrides it', async (t) => {
  const cfg = parse(['[%]', 'A pat', 'B pat', '[one]', 'A lit'].join('\n'));
  t.same(entriesText(cfg, 'one'), [
    ['A', 'lit'],
    ['B', 'pat'],
  ]);
  t.same(entriesText(cfg, 'two'), [
    ['A', 'pat'],
    ['B', 'pat'],
  ]);
});

t.test('KEY [system CMD] is lazy: not run at read time', async (t) => {
  const dir = t.testdir({});
  const cfg = parse('[items]\nFOO [system touch ran && echo a b]\n', dir);
  const v = cfg.get('items', 'FOO')!;
  t.equal(v.text, '');
  t.equal(v.lazyCommand, 'touch ran && echo a b');
  t.same(v.loc, { file: path.join(dir, 'test.config'), line: 2 });
  const { existsSync } = await import('node:fs');
  t.equal(existsSync(path.join(dir, 'ran')), false);
});

t.test('header syntax errors name file:line', async (t) => {
  t.throws(() => parse('k v\n[setup\n', '/d'), {
    code: 'CONFIG_SYNTAX',
    message: /^\/d\/test\.config:2: '\[setup' starts with '\[' but does not end with '\]'/,
  });
  t.throws(() => parse('\n\n[ ]\n', '/d'), { code: 'CONFIG_SYNTAX', message: /^\/d\/test\.config:3: empty section name/ });
  t.throws(() => parse('[/a(/]\n', '/d'), {
    code: 'CONFIG_SYNTAX',
    message: /^\/d\/test\.config:1: section \[\/a\(\/\] is not a valid regular expression/,
  });
});

t.test('[configf:settings …] is accepted and ignored', async (t) => {
  const notes: string[] = [];
  const cfg = parse('[configf:settings trim-trailing-spaces yes]\nk v\n', '/d', { debug: (m) => notes.push(m) });
  t.equal(cfg.text('default', 'k'), 'v');
  t.match(notes, [/test\.config:1: \[configf:settings trim-trailing-spaces yes\] ignored/]);
});

t.test('readConfigFile reads from disk; a missing file is an error naming it', async (t) => {
  const dir = t.testdir({ 'a.config': '[s]\nk v\n' });
  const file = path.join(dir, 'a.config');
  const cfg = readConfigFile(file, ctxFor(dir));
  t.equal(cfg.file, file);
  t.equal(cfg.text('s', 'k'), 'v');
  t.throws(() => readConfigFile(path.join(dir, 'none.config'), ctxFor(dir)), {
    code: 'CONFIG_INCLUDE',
    message: /none\.config: cannot read config file \(ENOENT\)/,
  });
});

t.test('the result is frozen', async (t) => {
  const cfg = parse('[s]\nk v\n');
  t.ok(Object.isFrozen(cfg.entries('s')));
  t.ok(Object.isFrozen(cfg.get('s', 'k')));
});

t.test('assignments keep a repeated key; a multi-line value knows the line of each of its lines', async (t) => {
  const cfg = parse(
    ['[logrules]', 'a error /x/', 'b warn /y/', 'a ignore /z/', 'c', '  one', '# a comment', '  two', 'd first', '  second'].join('\n'),
  );
  t.same(
    cfg.assignments('logrules').map(([k, v]) => `${k}=${v.text}@${v.loc.line}`),
    ['a=error /x/@2', 'b=warn /y/@3', 'a=ignore /z/@4', 'c=one\ntwo@5', 'd=first\nsecond@9'],
  );
  t.same(
    entriesText(cfg, 'logrules').map(([k]) => k),
    ['a', 'b', 'c', 'd'],
    'entries still merge by key',
  );
  t.equal(cfg.get('logrules', 'a')!.textLines, undefined, 'a one-line value has no line list');
  t.same(cfg.get('logrules', 'c')!.textLines, [6, 8], 'KEY alone: the value starts on the next line; comments are skipped');
  t.same(cfg.get('logrules', 'd')!.textLines, [9, 10]);
});
