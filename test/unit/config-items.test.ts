import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { loadArea, resolveTarget } from '../../src/config/area.js';
import { evaluateValue } from '../../src/config/commands.js';
import { expandItems } from '../../src/config/items.js';
import { parseConfigText } from '../../src/config/ini.js';
import { loadTest } from '../../src/config/testconfig.js';
import type { TestDefinition } from '../../src/config/types.js';

type Fixture = Parameters<typeof t.testdir>[0];

const ENV = { PATH: '/usr/bin:/bin', WHO: 'env-value' };

/** Loads a test `x` whose testconfig is `text`, with extra files in its folder. */
function testWith(t: { testdir(files: Fixture): string }, text: string, files: Record<string, string> = {}): TestDefinition {
  const dir = t.testdir({ 'trellis.config': '', 'runconfigs.config': '[t]\n', tests: { x: { testconfig: text, ...files } } });
  const area = loadArea(dir, { env: ENV, cpus: 1 });
  return loadTest(area, 'x', { env: ENV, target: resolveTarget(area, 't'), rget: () => undefined });
}

const paths = (def: TestDefinition) => expandItems(def, { env: ENV, cwd: def.dir }).map((i) => i.path);

t.test('[items]: cross product, first line varies slowest', async (t) => {
  const def = testWith(t, '[items]\nA 1 2\nB x y z\nC only\n');
  const items = expandItems(def, { env: ENV, cwd: def.dir });
  t.same(
    items.map((i) => i.path),
    ['1/x/only', '1/y/only', '1/z/only', '2/x/only', '2/y/only', '2/z/only'],
  );
  t.same(items[1], { path: '1/y/only', values: ['1', 'y', 'only'], vars: { A: '1', B: 'y', C: 'only' } });
});

t.test('[itemstable]: columns zipped into rows', async (t) => {
  const def = testWith(t, '[itemstable]\nA 1 2 3\nB x y z\n');
  const items = expandItems(def, { env: ENV, cwd: def.dir });
  t.same(
    items.map((i) => i.path),
    ['1/x', '2/y', '3/z'],
  );
  t.same(items[2]!.vars, { A: '3', B: 'z' });
});

t.test('[items] and [itemstable] together: items, then table rows', async (t) => {
  const def = testWith(t, '[items]\nA 1 2\n[itemstable]\nT p q\nU r s\n');
  t.same(paths(def), ['1', '2', 'p/r', 'q/s']);
});

t.test('[itemstable] columns of different lengths name file:line', async (t) => {
  const def = testWith(t, '[itemstable]\nA 1 2 3\nB x y\n');
  t.throws(() => expandItems(def, { env: ENV, cwd: def.dir }), {
    code: 'CONFIG_VALUE',
    message: new RegExp(
      `^${def.configFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3: \\[itemstable\\] column B has 2 values but A has 3$`,
    ),
  });
});

t.test('lazy [system CMD]: run at expansion, with env and cwd', async (t) => {
  const def = testWith(t, '[items]\nA [system cat list.txt]\nB [system echo $WHO; pwd]\n', { 'list.txt': 'one\ntwo\n' });
  const items = expandItems(def, { env: ENV, cwd: def.dir });
  const real = fs.realpathSync(def.dir);
  t.same(
    items.map((i) => i.path),
    [`one/env-value`, `one/${real}`, `two/env-value`, `two/${real}`],
  );
});

t.test('a failing lazy command is CONFIG_COMMAND with file:line and exit code', async (t) => {
  const def = testWith(t, '[items]\nA 1\nB [system echo broken >&2; exit 9]\n');
  t.throws(() => expandItems(def, { env: ENV, cwd: def.dir }), {
    code: 'CONFIG_COMMAND',
    message:
      /testconfig:3: \[items\] B \[system echo broken >&2; exit 9\]: command 'echo broken >&2; exit 9' exited with code 9 \(broken\)/,
    hint: /cd .* && echo broken/,
  });
});

t.test('duplicate item paths are DUPLICATE_ITEM', async (t) => {
  t.throws(() => paths(testWith(t, '[items]\nA 1 1\n')), { code: 'DUPLICATE_ITEM', message: /testconfig:2: test 'x' has item '1' twice/ });
  t.throws(() => paths(testWith(t, '[items]\nA 1\n[itemstable]\nB 2 1\n')), {
    code: 'DUPLICATE_ITEM',
    message: /testconfig:4: test 'x' has item '1' twice/,
  });
  t.throws(() => paths(testWith(t, '[items]\nA a/b a\nB c b/c\n')), { code: 'DUPLICATE_ITEM', message: /has item 'a\/b\/c' twice/ });
});

t.test('zero items is allowed', async (t) => {
  const empty = testWith(t, '[items]\nA\n');
  t.equal(empty.hasItems, true);
  t.same(paths(empty), []);
  t.same(paths(testWith(t, '[items]\nA 1 2\nB [system true]\n')), [], 'a lazy command with no output');
  t.same(paths(testWith(t, '[itemstable]\nA\nB\n')), []);
  const plain = testWith(t, '[ezsteps]\ns true\n');
  t.equal(plain.hasItems, false);
  t.same(paths(plain), []);
});

t.test('evaluateValue runs a lazy value when it is exported', async (t) => {
  const dir = t.testdir({});
  const cfg = parseConfigText('A plain\nB [system printf "x\\ny\\n"]\nC [system exit 2]\n', path.join(dir, 'rc.config'), {
    env: ENV,
    areaDir: dir,
  });
  t.equal(evaluateValue(cfg.get('default', 'A')!, { env: ENV, cwd: dir }), 'plain');
  t.equal(evaluateValue(cfg.get('default', 'B')!, { env: ENV, cwd: dir }), 'x y');
  t.throws(() => evaluateValue(cfg.get('default', 'C')!, { env: ENV, cwd: dir }), {
    code: 'CONFIG_COMMAND',
    message: /rc\.config:3: .*exited with code 2/,
  });
});
