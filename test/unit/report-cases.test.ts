/** What every report agrees on: outcomes by state and status, messages, and which rows are cases. */
import t from 'tap';
import { classifyOutcome, countCases, groupCases, judgeTest } from '../../src/report/cases.js';
import { cleanLine, cleanText, xmlAttr, xmlText } from '../../src/report/clean-text.js';
import { row, step } from './report-fixture.js';

t.test('outcome by state and status (the table in docs/jenkins.md)', async (t) => {
  const table: Array<[string, string, string]> = [
    ['COMPLETED', 'PASS', 'passed'],
    ['COMPLETED', 'WARN', 'passed'],
    ['COMPLETED', 'WAIVED', 'passed'],
    ['COMPLETED', 'SKIP', 'skipped'],
    ['COMPLETED', 'FAIL', 'failed'],
    ['COMPLETED', 'CHECK', 'failed'],
    ['COMPLETED', 'ABORT', 'failed'],
    ['COMPLETED', 'MY_OWN', 'failed'],
    ['COMPLETED', 'n/a', 'failed'],
    ['COMPLETED', 'TIMED_OUT', 'error'],
    ['KILLED', 'ABORT', 'error'],
    ['KILLED', 'TIMED_OUT', 'error'],
    ['INCOMPLETE', 'DEAD', 'error'],
    ['NOT_STARTED', 'n/a', 'skipped'],
    ['NOT_STARTED', 'PREQ_FAIL', 'skipped'],
    ['NOT_STARTED', 'ZERO_ITEMS', 'skipped'],
    ['NOT_STARTED', 'ABORT', 'failed'],
    ['RUNNING', 'n/a', 'skipped'],
    ['LAUNCHED', 'n/a', 'skipped'],
    ['KILLREQ', 'n/a', 'skipped'],
  ];
  for (const [state, status, outcome] of table) t.equal(classifyOutcome(state, status), outcome, `${state}/${status}`);
});

t.test('messages name the step at fault and its exit code', async (t) => {
  const fail = row('unit', '', { status: 'FAIL', comment: 'step check exited 1' });
  step(fail, 'build', 'PASS', 0);
  const check = step(fail, 'check', 'FAIL', 1);
  t.same(judgeTest(fail), { outcome: 'failed', message: 'FAIL: step check, exit code 1', step: check });

  const sig = row('sig', '', { status: 'FAIL', comment: 'step run was killed by SIGKILL' });
  step(sig, 'run', 'FAIL', null);
  t.equal(judgeTest(sig).message, 'FAIL: step run, no exit code; step run was killed by SIGKILL');

  const value = row('v', '', { status: 'FAIL', comment: 'value latency=20 is FAIL' });
  step(value, 'run', 'PASS', 0);
  t.same(judgeTest(value), { outcome: 'failed', message: 'FAIL: value latency=20 is FAIL' }, 'no failing step: the comment');

  const killed = row('slow', '', { state: 'KILLED', status: 'TIMED_OUT', comment: 'runtime limit of 3s exceeded' });
  step(killed, 'sleep', 'ABORT', null, { state: 'KILLED' });
  t.match(judgeTest(killed), {
    outcome: 'error',
    message: 'KILLED/TIMED_OUT: runtime limit of 3s exceeded; step sleep was running',
    step: { name: 'sleep' },
  });

  t.same(judgeTest(row('d', '', { state: 'NOT_STARTED', status: 'PREQ_FAIL', comment: 'waits on compile (FAIL)' })), {
    outcome: 'skipped',
    message: 'PREQ_FAIL: waits on compile (FAIL)',
  });
  t.equal(judgeTest(row('s', '', { status: 'SKIP', comment: 'skipped: stamp exists' })).message, 'SKIP: stamp exists');
  t.equal(judgeTest(row('z', '', { state: 'NOT_STARTED', status: 'ZERO_ITEMS' })).message, 'ZERO_ITEMS: the test has no items');
  t.equal(judgeTest(row('n', '', { state: 'NOT_STARTED', status: 'n/a' })).message, 'not started');
  t.equal(judgeTest(row('r', '', { state: 'RUNNING', status: 'n/a' })).message, 'still RUNNING when the report was made');
  t.same(judgeTest(row('w', '', { status: 'WARN', comment: 'slow disk' })), { outcome: 'passed', message: 'WARN: slow disk' });
  t.same(judgeTest(row('p', '')), { outcome: 'passed', message: '' });
});

t.test('cases: items, or the test itself when it has none', async (t) => {
  const rows = [
    row('a', ''),
    row('b', '', { status: 'FAIL' }),
    row('b', 'x/1', { status: 'FAIL' }),
    row('b', 'x/2'),
    row('c', '', { state: 'NOT_STARTED', status: 'PREQ_FAIL' }),
    row('d', ''),
  ];
  const groups = groupCases(rows, new Set(['d']));
  t.same(
    groups.map((g) => [g.testname, g.hasItems, g.cases.map((c) => c.itempath || c.testname)]),
    [
      ['a', false, ['a']],
      ['b', true, ['x/1', 'x/2']],
      ['c', false, ['c']],
      ['d', true, []],
    ],
    'd has items in the run, none chosen: no case',
  );
  t.same(countCases(groups), { total: 4, passed: 2, failed: 1, errors: 0, skipped: 1 });
  // Items whose test row was filtered out still group under their test.
  t.same(
    groupCases([row('e', 'i')]).map((g) => [g.testname, g.row, g.cases.length]),
    [['e', undefined, 1]],
  );
});

t.test('hostile text becomes safe XML and one-line names', async (t) => {
  t.equal(cleanText('\x1b[31mred\x1b[0m plain'), 'red plain', 'colour codes removed');
  t.equal(cleanText('title\x1b]0;window\x07 after'), 'title after', 'OSC removed');
  t.equal(cleanText('a\x1b]8;;stray\nnext line'), 'a\nnext line', 'an unterminated OSC stops at its line');
  t.equal(cleanText('bell\x07 nul\x00 vt\x0b esc\x1b( x'), 'bell\ufffd nul\ufffd vt\ufffd esc\ufffd( x', 'other controls replaced');
  t.equal(cleanText('lone \ud800 and \udfff'), 'lone \ufffd and \ufffd', 'lone surrogates replaced');
  t.equal(cleanText('pair \u{1f600} kept, \ufffe\uffff not'), 'pair \u{1f600} kept, \ufffd\ufffd not');
  t.equal(cleanText('tab\tnl\ncr\r ünïcødé'), 'tab\tnl\ncr\r ünïcødé', 'what XML can hold stays');
  t.equal(xmlText('a]]>b <&> "q" \'s\' \r'), 'a]]&gt;b &lt;&amp;&gt; &quot;q&quot; &apos;s&apos; &#13;');
  t.equal(xmlAttr('x\ny\tz\x1b[1m<'), 'x&#10;y&#9;z&lt;');
  t.equal(cleanLine('two\nlines\r\n\tand tab'), 'two lines and tab');
});
