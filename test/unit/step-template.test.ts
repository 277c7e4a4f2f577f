/**
 * `{NAME}` and `{TEST:NAME}` in step commands (model/step-template.ts) and the ezstep option block
 * (config/step-options.ts): what is a reference and what stays the shell's, and values written
 * so that a real shell reads them back exactly, in every quoting context.
 */
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { splitStepOptions } from '../../src/config/step-options.js';
import { parseStepTemplate, renderStepTemplate } from '../../src/model/step-template.js';

const refsOf = (command: string) => parseStepTemplate(command).refs.map((r) => (r.test === undefined ? r.name : `${r.test}:${r.name}`));

t.test('references, and the braces that stay the shell’s', async (t) => {
  t.same(refsOf('make VERSION={VERSION} && cp {build:artifact} {build-2.x:OUT_1} .'), ['VERSION', 'build:artifact', 'build-2.x:OUT_1']);
  const shell = [
    'echo ${HOME} ${a:-${b}}',
    "awk '{print $1}' f",
    'echo {a,b} {1..3}',
    'find . -exec rm {} +',
    'f() { true; }',
    'echo {9x} {a b} {}',
    'echo \\{X}',
  ];
  for (const command of shell) {
    t.same(refsOf(command), [], command);
    t.equal(
      renderStepTemplate(parseStepTemplate(command), () => 'never'),
      command,
      `${command}: unchanged`,
    );
  }
  t.equal(
    renderStepTemplate(parseStepTemplate('echo {{X} {{{X}'), () => 'v'),
    'echo {X} {v',
    '{{ is a literal {',
  );
  t.same(
    parseStepTemplate(`echo {A} '{B}' "{C}" '"{D}"' "'{E}'"`).refs.map((r) => `${r.name}:${r.quote}`),
    ['A:none', 'B:single', 'C:double', 'D:single', 'E:double'],
    'each reference knows the quotes it sits in',
  );
});

t.test('a value reaches the shell exactly, as one word, in any quoting context', async (t) => {
  const values = [
    'plain-1.4.2',
    'two words',
    "it's",
    'a"b',
    '$HOME `id` $(id)',
    'x; touch /tmp/never-made-by-a-value',
    '',
    'back\\slash',
    'new\nline',
    '*',
  ];
  const command = `printf '[%s]' {V} "{V}" '{V}' "x{V}y" pre{V}post`;
  const template = parseStepTemplate(command);
  for (const value of values) {
    const rendered = renderStepTemplate(template, () => value);
    const res = spawnSync('/bin/sh', ['-c', rendered], { encoding: 'utf8', cwd: t.testdir() });
    t.equal(res.status, 0, `${JSON.stringify(value)}: runs`);
    t.equal(res.stdout, `[${value}][${value}][${value}][x${value}y][pre${value}post]`, `${JSON.stringify(value)}: read back exactly`);
  }
});

t.test('the ezstep option group is split off; a command starting with a reference is not one', async (t) => {
  t.same(splitStepOptions('{manual} Check the release notes'), { options: { manual: '' }, command: 'Check the release notes' });
  t.same(splitStepOptions('{restartable=no, manual} ./deploy.sh {VERSION}').options, { restartable: 'no', manual: '' });
  t.equal(splitStepOptions('{manual}').command, '', 'a group alone');
  for (const command of ['{VERSION}/bin/tool', '{TOOL} --help', '{a,b}x', 'echo {manual}', '{a b} x', '{=x} y', '{x=a=b} y']) {
    t.same(splitStepOptions(command), { options: {}, command }, command);
  }
  t.throws(() => splitStepOptions('{manaul} x'), /unknown step option 'manaul'/, 'a lower-case group before a blank is a misspelt option');
  t.same(refsOf(splitStepOptions('{manual} deploy {VERSION}').command), ['VERSION'], 'references after the group are found');
});
