import t from 'tap';
import { isFinal, isSuccess, rollUp, statusFromExit, statusRank, worstStatus } from '../../src/model/states.js';

t.test('exit codes map to statuses as the design says', async (t) => {
  const table: Array<[number | null, string | null, string]> = [
    [0, null, 'PASS'],
    [1, null, 'FAIL'],
    [2, null, 'WARN'],
    [3, null, 'CHECK'],
    [4, null, 'WAIVED'],
    [5, null, 'ABORT'],
    [6, null, 'SKIP'],
    [7, null, 'FAIL'],
    [127, null, 'FAIL'],
    [null, 'SIGKILL', 'FAIL'],
  ];
  for (const [code, signal, status] of table) t.equal(statusFromExit(code, signal), status, `exit ${code} ${signal}`);
});

t.test('ranking is total and unknown statuses count as bad', async (t) => {
  t.ok(statusRank('FAIL') > statusRank('PASS'));
  t.ok(statusRank('MYSTATUS') > statusRank('PASS'), 'unknown is worse than PASS');
  t.ok(statusRank('MYSTATUS') > statusRank('CHECK'), 'unknown is worse than CHECK');
  t.ok(statusRank('PREQ_FAIL') > statusRank('n/a'), 'never ran is bad');
  t.ok(statusRank('ZERO_ITEMS') > statusRank('WARN'));
  t.equal(worstStatus(['PASS', 'WARN', 'PASS']), 'WARN');
  t.equal(worstStatus(['PASS', 'SKIP']), 'SKIP');
  t.equal(worstStatus([]), 'n/a');
});

t.test('success and finality', async (t) => {
  for (const s of ['PASS', 'WARN', 'WAIVED', 'SKIP']) t.ok(isSuccess(s), s);
  for (const s of ['FAIL', 'ABORT', 'CHECK', 'n/a', 'PREQ_FAIL', 'DEAD', 'X']) t.notOk(isSuccess(s), s);
  t.ok(isFinal('COMPLETED', 'PASS'));
  t.ok(isFinal('NOT_STARTED', 'PREQ_FAIL'));
  t.notOk(isFinal('NOT_STARTED', 'n/a'));
  t.notOk(isFinal('RUNNING', 'n/a'));
});

t.test('items roll up into their test', async (t) => {
  t.same(rollUp([]), { state: 'NOT_STARTED', status: 'n/a' });
  t.same(
    rollUp([
      { state: 'COMPLETED', status: 'PASS' },
      { state: 'COMPLETED', status: 'FAIL' },
    ]),
    { state: 'COMPLETED', status: 'FAIL' },
  );
  t.same(
    rollUp([
      { state: 'COMPLETED', status: 'PASS' },
      { state: 'RUNNING', status: 'n/a' },
    ]),
    { state: 'RUNNING', status: 'n/a' },
  );
  t.same(
    rollUp([
      { state: 'COMPLETED', status: 'FAIL' },
      { state: 'NOT_STARTED', status: 'n/a' },
    ]),
    { state: 'RUNNING', status: 'FAIL' },
    'a failure shows while others wait',
  );
  t.same(
    rollUp([
      { state: 'COMPLETED', status: 'PASS' },
      { state: 'NOT_STARTED', status: 'PREQ_FAIL' },
    ]),
    { state: 'COMPLETED', status: 'PREQ_FAIL' },
    'never-ran items are final and bad',
  );
  t.same(
    rollUp([
      { state: 'KILLED', status: 'ABORT' },
      { state: 'COMPLETED', status: 'PASS' },
    ]),
    { state: 'KILLED', status: 'ABORT' },
  );
  t.same(
    rollUp([
      { state: 'INCOMPLETE', status: 'DEAD' },
      { state: 'KILLED', status: 'ABORT' },
    ]),
    { state: 'INCOMPLETE', status: 'ABORT' },
  );
  t.same(
    rollUp([
      { state: 'NOT_STARTED', status: 'n/a' },
      { state: 'NOT_STARTED', status: 'n/a' },
    ]),
    { state: 'NOT_STARTED', status: 'n/a' },
  );
});
