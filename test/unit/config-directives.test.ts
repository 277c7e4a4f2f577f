import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parseConfigText, readConfigFile } from '../../src/config/ini.js';
import type { ConfigFile, ReadContext } from '../../src/config/types.js';

const ENV = { PATH: '/usr/bin:/bin', OS: 'linux', SECTION: 's', NAME: 'OS' };

function ctxFor(extra: Partial<ReadContext> = {}): ReadContext {
  return { env: ENV, areaDir: '/area', ...extra };
}

function parseIn(dir: string, text: string, extra: Partial<ReadContext> = {}): ConfigFile {
  return parseConfigText(text, path.join(dir, 'test.config'), ctxFor(extra));
}

t.test('#{getenv} reads ctx.env only; unset is empty', async (t) => {
  const cfg = parseIn('/d', '[s]\na #{getenv OS}\nb x#{getenv NOT_SET_ANYWHERE}y\nc #{gv OS}\n');
  t.equal(cfg.text('s', 'a'), 'linux');
  t.equal(cfg.text('s', 'b'), 'xy');
  t.equal(cfg.text('s', 'c'), 'linux', 'Megatest alias gv');
  const home = parseConfigText('k #{getenv HOME}\n', '/d/x.config', { env: {}, areaDir: '/a' });
  t.equal(home.text('default', 'k'), '', 'process.env is never read');
});

t.test('#{get SECTION VAR} sees values read so far, patterns applied', async (t) => {
  const cfg = parseIn(
    '/d',
    ['[%/x86_64]', 'W 64', '[s]', 'a 1', 'b #{get s a}-#{g s a}', 'c #{get linux/x86_64 W}', 'd #{get s later}', 'later 2'].join('\n'),
  );
  t.equal(cfg.text('s', 'b'), '1-1');
  t.equal(cfg.text('s', 'c'), '64');
  t.equal(cfg.text('s', 'd'), '', 'not read yet');
});

t.test('#{rget VAR} asks ctx.rget; absent is empty', async (t) => {
  const rget = (k: string) => (k === 'FOO' ? 'bar' : undefined);
  const cfg = parseIn('/d', 'a #{rget FOO}\nb [#{rget NONE}]\nc #{runconfigs-get FOO}\n', { rget });
  t.equal(cfg.text('default', 'a'), 'bar');
  t.equal(cfg.text('default', 'b'), '[]');
  t.equal(cfg.text('default', 'c'), 'bar');
  t.equal(parseIn('/d', 'a #{rget FOO}\n').text('default', 'a'), '', 'no rget in the context');
});

t.test('#{shell CMD}: stdout with newlines as spaces, in the file folder, with ctx.env', async (t) => {
  const dir = t.testdir({ 'data.txt': 'from file\n' });
  const cfg = parseIn(
    dir,
    [
      'a #{shell printf "one\\ntwo\\n"}',
      'b #{shell cat data.txt}',
      'c #{shell echo $OS}',
      'd #{sh echo ${OS}-x}',
      'e #{shell echo out; exit 3}',
    ].join('\n'),
  );
  t.equal(cfg.text('default', 'a'), 'one two');
  t.equal(cfg.text('default', 'b'), 'from file');
  t.equal(cfg.text('default', 'c'), 'linux');
  t.equal(cfg.text('default', 'd'), 'linux-x', 'plain {…} inside a directive nests');
  t.equal(cfg.text('default', 'e'), 'out', 'output kept whatever the exit code, like $(…)');
});

t.test('#{system CMD} gives the exit code', async (t) => {
  const dir = t.testdir({});
  const cfg = parseIn(dir, 'ok #{system true}\nbad #{system exit 7}\nquiet #{system echo noise}\n');
  t.equal(cfg.text('default', 'ok'), '0');
  t.equal(cfg.text('default', 'bad'), '7');
  t.equal(cfg.text('default', 'quiet'), '0');
});

t.test('#{mtrah} and #{rp PATH}', async (t) => {
  const dir = t.testdir({ real: { f: '' } });
  fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'));
  const cfg = parseIn(dir, 'a #{mtrah}\nb #{mtrah tests}\nc #{rp link/f}\nd #{rp missing/x}\ne #{realpath link}\n');
  t.equal(cfg.text('default', 'a'), '/area');
  t.equal(cfg.text('default', 'b'), '/area/tests');
  t.equal(cfg.text('default', 'c'), path.join(fs.realpathSync(dir), 'real', 'f'));
  t.equal(cfg.text('default', 'd'), path.join(dir, 'missing', 'x'), 'a missing path is resolved, not failed');
  t.equal(cfg.text('default', 'e'), path.join(fs.realpathSync(dir), 'real'));
});

t.test('directives nest innermost-first', async (t) => {
  const dir = t.testdir({});
  const cfg = parseIn(
    dir,
    [
      '[a]',
      'b OS',
      '[s]',
      'x #{getenv #{get a b}}',
      'y #{getenv #{getenv NAME}}',
      'z #{shell echo #{getenv #{get a b}} | tr a-z A-Z}',
      'w #{get #{getenv SECTION} x}',
    ].join('\n'),
  );
  t.equal(cfg.text('s', 'x'), 'linux');
  t.equal(cfg.text('s', 'y'), 'linux');
  t.equal(cfg.text('s', 'z'), 'LINUX');
  t.equal(cfg.text('s', 'w'), 'linux');
});

t.test('directive output is not expanded again', async (t) => {
  const cfg = parseConfigText('k #{getenv TRICK}\n', '/d/t.config', { env: { TRICK: '#{scheme (boom)}' }, areaDir: '/a' });
  t.equal(cfg.text('default', 'k'), '#{scheme (boom)}');
});

t.test('directives work in section names, keys and include names', async (t) => {
  const dir = t.testdir({ 'linux.inc': 'inc yes\n' });
  const cfg = parseIn(dir, '[#{getenv OS}]\n#{getenv NAME} value\n[include #{getenv OS}.inc]\n');
  t.equal(cfg.text('linux', 'OS'), 'value');
  t.equal(cfg.text('linux', 'inc'), 'yes');
});

t.test('a comment is not expanded; #{…} at the start of a line is not a comment', async (t) => {
  const dir = t.testdir({});
  const cfg = parseIn(dir, ['# #{scheme (not run)} #{shell touch ran}', '[s]', 'k', '  #{getenv OS}', '#{getenv NAME} v'].join('\n'));
  t.equal(cfg.text('s', 'k'), 'linux');
  t.equal(cfg.text('s', 'OS'), 'v');
  t.equal(fs.existsSync(path.join(dir, 'ran')), false);
});

t.test('#{scheme} and unknown directives are refused with file:line', async (t) => {
  t.throws(() => parseIn('/d', '[s]\nk #{scheme (+ 1 2)}\n'), {
    code: 'CONFIG_UNSUPPORTED',
    message: /^\/d\/test\.config:2: #\{scheme\} is not supported/,
    hint: /#\{shell CMD\}/,
  });
  t.throws(() => parseIn('/d', 'k #{scm 1}\n'), { code: 'CONFIG_UNSUPPORTED', message: /test\.config:1: #\{scm\} is not supported/ });
  t.throws(() => parseIn('/d', '\n\nk #{frobnicate x}\n'), {
    code: 'CONFIG_UNSUPPORTED',
    message: /^\/d\/test\.config:3: unknown directive #\{frobnicate\}/,
    hint: /getenv, get, rget, shell, system, mtrah, rp/,
  });
  t.throws(() => parseIn('/d', 'k #{}\n'), { code: 'CONFIG_UNSUPPORTED', message: /test\.config:1: unknown directive #\{\}/ });
});

t.test('directive syntax errors name file:line', async (t) => {
  t.throws(() => parseIn('/d', '[s]\n\nk #{getenv OS\n'), { code: 'CONFIG_SYNTAX', message: /^\/d\/test\.config:3: '#\{' is not closed/ });
  t.throws(() => parseIn('/d', 'k #{get onlyone}\n'), {
    code: 'CONFIG_SYNTAX',
    message: /test\.config:1: #\{get onlyone\} needs a section and a key/,
  });
  t.throws(() => parseIn('/d', 'k #{getenv}\n'), { code: 'CONFIG_SYNTAX', message: /test\.config:1: #\{getenv\} needs a variable name/ });
  t.throws(() => parseIn('/d', 'k #{shell }\n'), { code: 'CONFIG_SYNTAX', message: /test\.config:1: #\{shell\} needs a command/ });
  t.throws(
    () => parseIn('/d', 'k\n  #{getenv OS\n'),
    { code: 'CONFIG_SYNTAX', message: /test\.config:2: '#\{' is not closed/ },
    'in a continuation line',
  );
});

t.test('a command that cannot start is CONFIG_COMMAND with file:line', async (t) => {
  t.throws(() => parseConfigText('k #{shell true}\n', '/no/such/folder/t.config', { env: ENV, areaDir: '/a' }), {
    code: 'CONFIG_COMMAND',
    message: /^\/no\/such\/folder\/t\.config:1: cannot run 'true' in \/no\/such\/folder \(ENOENT\)/,
  });
});

t.test('[include FILE]: relative to the including file, read in place', async (t) => {
  const dir = t.testdir({
    'main.config': ['[s]', 'a 1', '[include sub/part.config]', 'c 3', '[include sub/none.config]', 'd 4'].join('\n'),
    sub: {
      'part.config': ['b 2', 'a overridden', '[include deeper.config]', '[other]', 'x y'].join('\n'),
      'deeper.config': 'deep yes\n',
    },
  });
  const notes: string[] = [];
  const cfg = readConfigFile(path.join(dir, 'main.config'), { env: ENV, areaDir: dir, debug: (m) => notes.push(m) });
  t.same(
    cfg.entries('s').map(([k, v]) => [k, v.text]),
    [
      ['a', 'overridden'],
      ['b', '2'],
      ['deep', 'yes'],
      ['c', '3'],
      ['d', '4'],
    ],
    'the include starts in the current section; its own sections do not leak out',
  );
  t.equal(cfg.text('other', 'x'), 'y');
  t.same(cfg.get('s', 'b')!.loc, { file: path.join(dir, 'sub', 'part.config'), line: 1 });
  t.match(notes, [/main\.config:5: \[include sub\/none\.config\]: .*none\.config not found, skipped/]);
});

t.test('include cycles are an error naming file:line', async (t) => {
  const dir = t.testdir({
    'a.config': 'k v\n[include b.config]\n',
    'b.config': '\n\n[include a.config]\n',
    'self.config': '[include self.config]\n',
  });
  t.throws(() => readConfigFile(path.join(dir, 'a.config'), ctxFor()), {
    code: 'CONFIG_INCLUDE',
    message: new RegExp(
      `^${dir.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')}/b\\.config:3: include cycle: a\\.config → b\\.config → a\\.config`,
    ),
  });
  t.throws(() => readConfigFile(path.join(dir, 'self.config'), ctxFor()), {
    code: 'CONFIG_INCLUDE',
    message: /self\.config:1: include cycle: self\.config → self\.config/,
  });
});

t.test('including the same file twice (not a cycle) is fine', async (t) => {
  const dir = t.testdir({ 'a.config': '[x]\n[include c.config]\n[y]\n[include c.config]\n', 'c.config': 'k v\n' });
  const cfg = readConfigFile(path.join(dir, 'a.config'), ctxFor());
  t.equal(cfg.text('x', 'k'), 'v');
  t.equal(cfg.text('y', 'k'), 'v');
});

t.test('including a folder is an error', async (t) => {
  const dir = t.testdir({ 'a.config': '[include sub]\n', sub: {} });
  t.throws(() => readConfigFile(path.join(dir, 'a.config'), ctxFor()), {
    code: 'CONFIG_INCLUDE',
    message: /a\.config:1: \[include sub\]: .* is not a file/,
  });
});

t.test('[scriptinc CMD] reads the output in place', async (t) => {
  const dir = t.testdir({
    'gen.sh': 'echo "gen $OS"\necho "[generated]"\necho "where $(pwd)"\necho "[include inc.config]"\n',
    'inc.config': 'included yes\n',
    'main.config': '[s]\nbefore 1\n[scriptinc sh gen.sh]\nafter 2\n',
  });
  const cfg = readConfigFile(path.join(dir, 'main.config'), ctxFor());
  t.same(
    cfg.entries('s').map(([k, v]) => [k, v.text]),
    [
      ['before', '1'],
      ['gen', 'linux'],
      ['after', '2'],
    ],
  );
  t.equal(cfg.text('generated', 'where'), fs.realpathSync(dir), 'runs in the including file folder');
  t.equal(cfg.text('generated', 'included'), 'yes', 'includes inside the output are relative to the including file');
  t.same(cfg.get('s', 'gen')!.loc, { file: `${path.join(dir, 'main.config')}:3 [scriptinc]`, line: 1 });
});

t.test('a failing [scriptinc] is an error with file:line and exit code', async (t) => {
  const dir = t.testdir({ 'main.config': '[s]\n[scriptinc echo oops >&2; exit 4]\n' });
  t.throws(() => readConfigFile(path.join(dir, 'main.config'), ctxFor()), {
    code: 'CONFIG_COMMAND',
    message: /main\.config:2: \[scriptinc echo oops >&2; exit 4\]: command 'echo oops >&2; exit 4' exited with code 4 \(oops\)/,
  });
});

t.test('errors inside [scriptinc] output name the directive and the output line', async (t) => {
  const dir = t.testdir({ 'main.config': '\n[scriptinc printf "ok 1\\n[bad\\n"]\n' });
  t.throws(() => readConfigFile(path.join(dir, 'main.config'), ctxFor()), {
    code: 'CONFIG_SYNTAX',
    message: /main\.config:2 \[scriptinc\]:2: '\[bad' starts with '\['/,
  });
});

t.test('a scriptinc that includes itself stops at the depth limit', async (t) => {
  const dir = t.testdir({ 'loop.sh': 'echo "[scriptinc sh loop.sh]"\n', 'main.config': '[scriptinc sh loop.sh]\n' });
  t.throws(() => readConfigFile(path.join(dir, 'main.config'), ctxFor()), { code: 'CONFIG_INCLUDE', message: /nested more than 32 deep/ });
});
