/**
 * Megatest's in-test command line (megatest.scm's argument handling) read into actions, and its
 * test data (db:csv->test-data) read and judged: every comparator, tolerances, words, given
 * statuses, quoted comments, and the mistakes a test can make, each with one line saying what.
 */
import t from 'tap';
import { megatestStatus, parseMegatestArgs, valueName } from '../../src/runner/in-test-requests.js';
import { judgeMegatestValue, parseTestData } from '../../src/runner/megatest-data.js';
import { describeExpectation, judgeValue } from '../../src/model/value-check.js';

const parse = (line: string, stdin?: string) => parseMegatestArgs(line.split(' '), stdin);

t.test('Megatest command lines become actions', async (t) => {
  t.same(parse('-step compile :state start :status n/a -setlog c.log').actions, [
    { kind: 'step', name: 'compile', phase: 'start', logfile: 'c.log' },
  ]);
  t.same(parse('-step compile -state end -status 0 -m done').actions, [
    { kind: 'step', name: 'compile', phase: 'end', status: 'PASS', message: 'done' },
  ]);
  t.same(
    parse('-step x :state end :status 2').actions,
    [{ kind: 'step', name: 'x', phase: 'end', status: 'FAIL' }],
    'a number is an exit code',
  );
  t.same(parse('-test-status :state completed :status auto').actions, [{ kind: 'test-status', state: 'COMPLETED', status: 'AUTO' }]);
  t.same(parse('-test-status :state COMPLETED :status pass -m ok :value 3 :expected 4 :tol 1 :variable v').actions, [
    { kind: 'test-status', state: 'COMPLETED', status: 'PASS', message: 'ok' },
    { kind: 'values', values: [{ name: 'v', value: '3', expected: '4', tol: '1' }], print: false },
  ]);
  t.same(parse('-set-values :category perf :variable rate :value 105 :expected 100 :tol > :units MB/s').actions, [
    { kind: 'values', values: [{ name: 'perf/rate', value: '105', expected: '100', tol: '>', units: 'MB/s' }], print: false },
  ]);
  t.same(parse('-load-test-data', 'a,b,1,1,0\n').actions, [{ kind: 'load-test-data', csv: 'a,b,1,1,0\n' }]);
  t.same(parse('-test-files *.log -target linux/% :runname nightly -testpatt build').actions, [
    { kind: 'test-paths', target: 'linux/%', runname: 'nightly', testpatt: 'build', files: '*.log' },
  ]);
  t.same(parse('-test-paths -target a/b -testpatt t -itempatt i').actions, [
    { kind: 'test-paths', target: 'a/b', runname: '%', testpatt: 't/i' },
  ]);
  t.same(parse('-summarize-items').actions, [{ kind: 'summarize-items' }]);
  t.same(parse('-setlog final.log').actions, [{ kind: 'say', text: '' }], '-setlog alone is accepted');
  t.equal(parse('-step a :state start :status x -force').force, true);
});

t.test('mistakes are USAGE errors saying what to do', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['-step compile', /you must give :state and :status with every call to -step/],
    ['-step compile :state sideways :status 0', /:state 'sideways' is not a step state/],
    ['-test-status :state COMPLETED', /you must give :state and :status with every call to -test-status/],
    ['-test-status :state NOWHERE :status PASS', /:state 'NOWHERE' is not a state/],
    ['-set-values :value 3 :expected 4', /only with all of :value, :expected and :tol/],
    ['-test-paths -testpatt x', /-target is required/],
    ['-runstep x', /-runstep is not something a test can ask of Trellis/],
    ['stray', /'stray' is not an option/],
    ['-step', /-step needs a value/],
    ['-m hello', /nothing to do/],
  ];
  for (const [line, message] of bad) t.throws(() => parse(line), { code: 'USAGE', message }, line);
});

t.test('statuses as Megatest reads them; value names', async (t) => {
  t.same(['0', '1', '-1', '2', 'pass', 'n/a', 'N/A', 'Waived', 'AUTO'].map(megatestStatus), [
    'PASS',
    'FAIL',
    'FAIL',
    'FAIL',
    'PASS',
    'n/a',
    'n/a',
    'WAIVED',
    'AUTO',
  ]);
  t.same([valueName('foo', 'bar'), valueName('', 'bar'), valueName('foo', ''), valueName('', '')], ['foo/bar', 'bar', 'foo', 'value']);
});

t.test('-load-test-data: every comparator, tolerances, words, given statuses, quotes', async (t) => {
  const values = parseTestData(
    [
      'foo, gt, 1.9, 1.8, >',
      'foo, gtno, 1.8, 1.8, >',
      'foo, lt, 1.2, 1.9, <',
      'foo, ge, 1.8, 1.8, >=',
      'foo, le, 1.9, 1.8, <=',
      'foo, tol, 1.25, 1.3, 0.1',
      'foo, far, 1.0e9, 2.5e9, 1e9',
      'foo, word, 1.2, pass, silly stuff',
      'faz, note, 10, 8mA, , , "a comment, with a comma"',
      'foo, given, 1, 2, 0, V, set by hand, waived',
      'bar, none, 7',
      '',
    ].join('\n'),
  );
  t.same(
    values.map((v) => `${v.name} ${judgeMegatestValue(v)}`),
    [
      'foo/gt PASS',
      'foo/gtno FAIL',
      'foo/lt PASS',
      'foo/ge PASS',
      'foo/le FAIL',
      'foo/tol PASS',
      'foo/far FAIL',
      'foo/word n/a',
      'faz/note n/a',
      'foo/given WAIVED',
      'bar/none n/a',
    ],
  );
  t.equal(values[8]!.comment, 'a comment, with a comma');
  t.same(values[9], { name: 'foo/given', value: '1', expected: '2', tol: '0', units: 'V', comment: 'set by hand', status: 'WAIVED' });
  t.throws(() => parseTestData('a, b, 1, 2, maybe\n'), { code: 'USAGE', message: /line 1 \(a\/b\): tolerance 'maybe'/ });
  t.throws(() => parseTestData('ok,x,1,1,0\n, , 1\n'), { code: 'USAGE', message: /line 2 has neither a category nor a variable/ });
  t.throws(() => parseTestData('a,"b\n'), { code: 'USAGE', message: /is not comma-separated values/ });
});

t.test('judgeValue: tolerance, percentage, comparators, words', async (t) => {
  t.same(judgeValue('12', undefined), { status: 'n/a' });
  t.same(judgeValue('12.5', '10', '30%'), { status: 'PASS' });
  t.same(judgeValue('14', '10', '30%'), { status: 'FAIL' });
  t.same(judgeValue('1.2', '1.3', '0.1'), { status: 'PASS' }, 'as Megatest: within [expected - tol, expected + tol], bounds included');
  t.same(judgeValue('1.15', '1.3', '0.1'), { status: 'FAIL' });
  t.same(judgeValue('3', '5', '<'), { status: 'PASS' });
  t.same(judgeValue('abc', 'abc'), { status: 'PASS' });
  t.same(judgeValue('abc', '5', '<'), { status: 'FAIL' });
  t.match(judgeValue('1', '1', 'x'), { status: 'FAIL', problem: /tolerance 'x' is not a number/ });
  t.same(
    [describeExpectation('1.8', '>'), describeExpectation('1.9', '0.1'), describeExpectation('12', null), describeExpectation(null, null)],
    ['> 1.8', '1.9 +/- 0.1', '12', '-'],
  );
});
