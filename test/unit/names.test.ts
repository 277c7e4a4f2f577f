/**
 * Name rules (model/names.ts), the ones the CLI, the config reader and the server's API all use:
 * a table of names each kind accepts and refuses, and the one-line error that says why.
 */
import t from 'tap';
import {
  checkJobName,
  checkLabel,
  checkRunName,
  checkTargetValue,
  itemPathProblem,
  itemValueProblem,
  labelProblem,
  runNameProblem,
  testNameProblem,
} from '../../src/model/names.js';
import type { TrellisError } from '../../src/util/errors.js';

t.test('run names and target values', async (t) => {
  for (const ok of ['nightly', 'nightly-42', '2024WW10.3', 'my run', 'ü', '..x', 'a..b', 'a%b', 'x'.repeat(200)]) {
    t.equal(runNameProblem(ok), undefined, `accepts ${JSON.stringify(ok)}`);
  }
  const refused: Array<[string, RegExp]> = [
    ['', /empty/],
    ['.', /is '\.'/],
    ['..', /is '\.\.'/],
    ['a/b', /'\/'/],
    ['../../etc', /'\/'/],
    ['a\nb', /control character \(\\n\)/],
    ['\x1b]0;title\x07', /control character \(\\x1b\)/],
    ['x\u009b', /control character \(\\u009b\)/],
    ['x\u202e', /control character/],
    [' lead', /blank/],
    ['trail ', /blank/],
    ['x'.repeat(201), /longer than 200/],
  ];
  for (const [name, why] of refused) t.match(runNameProblem(name), why, `refuses ${JSON.stringify(name)}`);
});

t.test('the error names what, where and shows the name escaped, on one line', async (t) => {
  const err = t.throws(() => checkRunName('a\nb\x1b', '-r')) as TrellisError;
  t.equal(err.code, 'BAD_VALUE');
  t.equal(err.exitCode, 2);
  t.match(err.message, /^run name 'a\\nb\\x1b' \(-r\) contains a control character/);
  t.notMatch(err.toLine(), /[\x00-\x1f]/, 'nothing raw in the line');
  t.match(err.hint, /-r nightly-42/);
  t.throws(() => checkTargetValue('OS', '..', '-t'), { code: 'BAD_VALUE', message: /target value for OS '\.\.' \(-t\)/ });
  t.throws(() => checkLabel('value name', '', 'set-value NAME'), {
    code: 'BAD_VALUE',
    message: /value name '' \(set-value NAME\) is empty/,
  });
});

t.test('test names, item values and paths, step and value names, job names', async (t) => {
  t.equal(testNameProblem('compile'), undefined);
  t.equal(testNameProblem('a.b-c_d+e=f@g'), undefined);
  for (const bad of ['', 'a b', 'a,b', 'a%', 'a\\b', 'a/b', '~a', '.hidden', 'a\x1b', 'x'.repeat(201)]) {
    t.not(testNameProblem(bad), undefined, `refuses test name ${JSON.stringify(bad)}`);
  }
  for (const ok of ['..', 'a/b', 'héllo', '$HOME;x', '../../../etc']) t.equal(itemValueProblem(ok), undefined, `item value ${ok}`);
  t.match(itemValueProblem('a\x1bb'), /control/);
  t.equal(itemPathProblem(''), undefined, 'a test without items');
  t.match(itemPathProblem('x'.repeat(4097)), /longer/);
  t.equal(labelProblem('latency ms'), undefined);
  t.match(labelProblem(''), /empty/);
  t.match(labelProblem('a\nb'), /control/);
  t.equal(checkJobName('backup', 'db1'), 'backup/db1');
  for (const [n, i] of [
    ['', ''],
    ['a b', ''],
    ['a', 'x\n'],
    ['~a', ''],
    ['a', 'b/'],
  ]) {
    t.throws(() => checkJobName(n!, i!), { code: 'BAD_VALUE' }, `refuses job ${JSON.stringify(`${n}/${i}`)}`);
  }
});
