/** Ezstep options (`{manual}`, `{restartable=no}`): the shared splitter and the testconfig reader. */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { splitStepOptions } from '../../src/config/step-options.js';
import { loadArea } from '../../src/config/area.js';
import { loadTest } from '../../src/config/testconfig.js';
import { TrellisError } from '../../src/util/errors.js';
import { writeArea } from '../helpers/area.js';

t.test('splitStepOptions: groups lead the command, one or several, plain commands untouched', async (t) => {
  const rows: Array<[string, Record<string, string>, string]> = [
    ['{manual} Check the release notes, then approve', { manual: '' }, 'Check the release notes, then approve'],
    ['{manual,restartable=no} sign', { manual: '', restartable: 'no' }, 'sign'],
    ['{manual} {restartable=no} sign', { manual: '', restartable: 'no' }, 'sign'],
    ['{Manual = yes , restartable=NO}deploy.sh', { manual: 'yes', restartable: 'no' }, 'deploy.sh'],
    ['{restartable=yes} make', { restartable: 'yes' }, 'make'],
    ['make {manual}', {}, 'make {manual}'],
    ['{ echo a; echo b; }', {}, '{ echo a; echo b; }'],
    ['{{manual}} literal', {}, '{{manual}} literal'],
    ['echo {a,b}', {}, 'echo {a,b}'],
    ['{9x} y', {}, '{9x} y'],
  ];
  for (const [cmd, options, command] of rows) t.same(splitStepOptions(cmd), { options, command }, cmd);
});

t.test('splitStepOptions: an unknown option, a bad value or a repeat names file and line', async (t) => {
  const loc = { file: '/a/tests/x/testconfig', line: 7 };
  const rows: Array<[string, RegExp]> = [
    ['{manaul} x', /testconfig:7: unknown step option 'manaul'/],
    ['{restartable=maybe} x', /testconfig:7: step option restartable=maybe: the value must be restartable=yes or restartable=no/],
    ['{manual,manual} x', /given twice/],
    ['{manual=} x', /manual/],
    ['{manual,=x} y', /step option '=x' is not NAME or NAME=VALUE/],
  ];
  for (const [cmd, re] of rows) {
    const err = (() => {
      try {
        splitStepOptions(cmd, loc);
      } catch (e) {
        return e as TrellisError;
      }
      return undefined;
    })();
    if (cmd === '{manual=} x') {
      t.equal(err, undefined, '{manual=} is {manual}');
      continue;
    }
    t.ok(err instanceof TrellisError, cmd);
    t.equal(err?.code, 'CONFIG_VALUE');
    t.match(err?.message ?? '', re, cmd);
  }
});

t.test('the testconfig reader marks manual and non-restartable steps; a manual step needs a prompt', async (t) => {
  const dir = writeArea(t.testdir(), {
    tests: {
      rel: '[ezsteps]\nbuild make\nsign-off {manual} Check the notes\nprovision {restartable=no} ./vm up\n',
      bad: '[ezsteps]\nok true\nask {manual}\n',
      typo: '[ezsteps]\n\nask {manul} Check\n',
    },
  });
  const area = loadArea(dir, { env: {}, cpus: 1 });
  const ctx = {
    env: {},
    target: { name: 'linux/x86_64', keys: { OS: 'linux', ARCH: 'x86_64' }, values: ['linux', 'x86_64'] },
    rget: () => undefined,
  };
  const rel = loadTest(area, 'rel', ctx);
  t.same(
    rel.steps.map((s) => [s.name, s.command, s.manual === true, s.restartable !== false]),
    [
      ['build', 'make', false, true],
      ['sign-off', 'Check the notes', true, true],
      ['provision', './vm up', false, false],
    ],
  );
  t.throws(() => loadTest(area, 'bad', ctx), {
    code: 'CONFIG_VALUE',
    message: /bad\/testconfig:3: \[ezsteps\] ask has options but no prompt/,
  });
  t.throws(() => loadTest(area, 'typo', ctx), { code: 'CONFIG_VALUE', message: /typo\/testconfig:3: unknown step option 'manul'/ });
  t.ok(fs.existsSync(path.join(dir, 'trellis.config')));
});
