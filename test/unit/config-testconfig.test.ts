import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { loadArea, readRunconfigs, resolveTarget } from '../../src/config/area.js';
import { loadTest, loadTests } from '../../src/config/testconfig.js';
import type { Area } from '../../src/config/types.js';

type Fixture = Parameters<typeof t.testdir>[0];

const ENV = { PATH: '/usr/bin:/bin' };
const AREA_CONFIG = '[fields]\nOS TEXT\n[setup]\nruntimelim 10m\n[jobgroups]\nheavy 2\n';

function areaWith(t: { testdir(files: Fixture): string }, tests: Record<string, string>, runconfigs = '[linux]\n'): Area {
  const dir = t.testdir({
    'trellis.config': AREA_CONFIG,
    'runconfigs.config': runconfigs,
    tests: Object.fromEntries(Object.entries(tests).map(([name, text]) => [name, { testconfig: text }])),
  });
  return loadArea(dir, { env: ENV, cpus: 2 });
}

function load(area: Area, name: string) {
  return loadTest(area, name, { env: ENV, target: resolveTarget(area, 'linux'), rget: () => undefined });
}

t.test('a full testconfig', async (t) => {
  const area = areaWith(t, {
    full: [
      '[ezsteps]',
      'compile make -C src',
      'check ./check.sh \\',
      '    --all',
      'report',
      '  echo one',
      '  echo two',
      '[setup]',
      'runscript ./main.sh',
      '[requirements]',
      'waiton  compile   lint',
      'mode itemwait',
      'itemmap .*/',
      '  ^x y',
      'priority -3',
      'runtimelim 90s',
      'jobgroup heavy',
      '[items]',
      'A 1 2',
      'B [system ls]',
      '[itemstable]',
      'C x y',
      '[test_meta]',
      'owner alice',
      'description does things',
      'tags quick,nightly',
      '[skip]',
      'fileexists /tmp/skip-me',
      'script test -e /nothing',
      '[env-override]',
      'FOO $BAR',
      '[triggers]',
      'COMPLETED/PASS echo done',
    ].join('\n'),
  });
  const def = load(area, 'full');
  const file = path.join(area.dir, 'tests', 'full', 'testconfig');
  t.equal(def.name, 'full');
  t.equal(def.dir, path.join(area.dir, 'tests', 'full'));
  t.equal(def.configFile, file);
  t.same(
    def.steps.map((s) => [s.name, s.command, s.loc.line]),
    [
      ['compile', 'make -C src', 2],
      ['check', './check.sh --all', 3],
      ['report', 'echo one\necho two', 5],
    ],
  );
  t.same(def.runscript, { command: './main.sh', loc: { file, line: 9 } });
  t.same(def.waiton, ['compile', 'lint']);
  t.same(def.waitonLoc, { file, line: 11 });
  t.equal(def.mode, 'itemwait');
  t.same(
    def.itemmap.map((r) => [r.regex.source, r.replacement]),
    [
      ['.*\\/', ''],
      ['^x', 'y'],
    ],
  );
  t.equal(def.priority, -3);
  t.equal(def.runtimelim, 90);
  t.equal(def.jobgroup, 'heavy');
  t.same(
    def.items.items.map((v) => [v.name, v.values, v.lazyCommand]),
    [
      ['A', ['1', '2'], undefined],
      ['B', null, 'ls'],
    ],
  );
  t.same(
    def.items.table.map((v) => [v.name, v.values]),
    [['C', ['x', 'y']]],
  );
  t.equal(def.hasItems, true);
  t.same(def.meta, { owner: 'alice', description: 'does things', tags: 'quick,nightly' });
  t.same(def.skip, { fileexists: '/tmp/skip-me', script: 'test -e /nothing' });
  t.same(
    def.envOverride.map(([k, v]) => [k, v.text]),
    [['FOO', '$BAR']],
  );
  t.equal(def.config.text('triggers', 'COMPLETED/PASS'), 'echo done', 'other sections are kept');
  t.ok(Object.isFrozen(def));
});

t.test('defaults', async (t) => {
  const area = areaWith(t, { empty: '' });
  const def = load(area, 'empty');
  t.same(def.steps, []);
  t.equal(def.runscript, undefined);
  t.same(def.waiton, []);
  t.equal(def.waitonLoc, undefined);
  t.equal(def.mode, 'normal');
  t.same(def.itemmap, []);
  t.equal(def.priority, 0);
  t.equal(def.runtimelim, 600, '[setup] runtimelim of the area');
  t.equal(def.jobgroup, undefined);
  t.equal(def.hasItems, false);
  t.same(def.meta, { owner: '', description: '', tags: '' });
  t.same(def.skip, {});
});

t.test('runtimelim 0 means no limit', async (t) => {
  const area = areaWith(t, { z: '[requirements]\nruntimelim 0\n' });
  t.equal(load(area, 'z').runtimelim, null);
});

t.test('errors name file:line and say what to do', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    [
      '[requirements]\nmode sometimes\n',
      'CONFIG_VALUE',
      /testconfig:2: \[requirements\] mode 'sometimes' is not one of normal, toplevel, itemwait/,
    ],
    ['[requirements]\npriority high\n', 'CONFIG_VALUE', /testconfig:2: \[requirements\] priority 'high' is not a whole number/],
    ['[requirements]\nruntimelim 3 days\n', 'CONFIG_VALUE', /testconfig:2: bad \[requirements\] runtimelim '3 days'/],
    [
      '[requirements]\n\njobgroup light\n',
      'CONFIG_VALUE',
      /testconfig:3: \[requirements\] jobgroup 'light' is not in \[jobgroups\] of .*trellis\.config \(known: heavy\)/,
    ],
    ['[requirements]\nitemmap a(b\n', 'CONFIG_VALUE', /testconfig:2: \[requirements\] itemmap 'a\(b' is not a valid regular expression/],
    ['[ezsteps]\nempty\n', 'CONFIG_VALUE', /testconfig:2: \[ezsteps\] empty has no command/],
    [
      '[ezsteps]\nlazy [system echo hi]\n',
      'CONFIG_VALUE',
      /testconfig:2: \[ezsteps\] lazy: \[system …\] is only evaluated in \[items\] and \[itemstable\]/,
    ],
    ['[setup]\nrunscript\n', 'CONFIG_VALUE', /testconfig:2: \[setup\] runscript has no command/],
    ['[items]\nmy-var 1 2\n', 'CONFIG_VALUE', /testconfig:2: \[items\] variable 'my-var' is not a valid variable name/],
    ['[s]\nk #{scheme 1}\n', 'CONFIG_UNSUPPORTED', /testconfig:2: #\{scheme\} is not supported/],
  ];
  for (const [text, code, message] of cases) {
    const area = areaWith(t, { bad: text });
    t.throws(() => load(area, 'bad'), { code, message }, text.replace(/\n/g, ' | '));
  }
});

t.test('unknown or unsafe test names are NO_TEST', async (t) => {
  const area = areaWith(t, { a: '' });
  t.throws(() => load(area, 'zzz'), { code: 'NO_TEST', message: /no test 'zzz' in .*tests/, hint: /known tests: a;/ });
  t.throws(() => load(area, '../a'), { code: 'NO_TEST' });
  t.throws(() => load(area, ''), { code: 'NO_TEST' });
});

t.test('testconfigs see the target, the area and the runconfigs values', async (t) => {
  const area = areaWith(
    t,
    {
      one: [
        '[ezsteps]',
        'show echo #{getenv OS} #{getenv MT_TARGET} #{mtrah}',
        'rc #{getenv GREETING} #{rget GREETING} #{getenv LAZY}.',
        'dollar #{getenv BOTH}',
      ].join('\n'),
      two: '[test_meta]\nowner #{rget OWNER}\n',
    },
    ['[default]', 'GREETING hello', 'OWNER nobody', 'BOTH $GREETING-$OS', 'LAZY [system echo no]', '[linux]', 'OWNER bob'].join('\n'),
  );
  const target = resolveTarget(area, 'linux');
  const defs = loadTests(area, target, ENV, readRunconfigs(area, target, ENV));
  t.same(
    defs.map((d) => d.name),
    ['one', 'two'],
  );
  t.same(
    defs[0]!.steps.map((s) => s.command),
    [`echo linux linux ${area.dir}`, 'hello hello .', 'hello-linux'],
  );
  t.equal(defs[1]!.meta.owner, 'bob', 'rget: the target value over [default]');
});

t.test('reading a testconfig never runs lazy commands', async (t) => {
  const area = areaWith(t, { lazy: '[items]\nX [system touch ran; echo 1]\n' });
  load(area, 'lazy');
  t.equal(fs.existsSync(path.join(area.dir, 'tests', 'lazy', 'ran')), false);
});
