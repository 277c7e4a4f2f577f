import t from 'tap';
import { classify, diffRuns, failingClasses, type DiffRow } from '../../src/report/diff.js';
import { diffJson, formatDiff } from '../../src/report/diff-text.js';
import type { RunRecord } from '../../src/model/records.js';
import { parseFailOn } from '../../src/cli/specs/diff.js';

/** `STATE/STATUS`, or a bare status for COMPLETED. */
const side = (text: string) => {
  const [a, b] = text.split('/');
  return b === undefined ? { state: 'COMPLETED', status: a! } : { state: a!, status: b };
};

t.test('classify: one row in both runs', async (t) => {
  const table: Array<[old: string, now: string, expected: string]> = [
    ['PASS', 'PASS', 'same'],
    ['PASS', 'FAIL', 'worse'],
    ['FAIL', 'PASS', 'better'],
    ['PASS', 'WARN', 'worse'],
    ['WARN', 'WAIVED', 'better'],
    ['FAIL', 'ABORT', 'worse'],
    ['PASS', 'KILLED/ABORT', 'worse'],
    ['PASS', 'INCOMPLETE/DEAD', 'worse'],
    ['PASS', 'NOT_STARTED/PREQ_FAIL', 'worse'],
    ['PASS', 'NOT_STARTED/ZERO_ITEMS', 'worse'],
    ['NOT_STARTED/PREQ_FAIL', 'FAIL', 'worse'],
    ['FAIL', 'NOT_STARTED/PREQ_FAIL', 'better'],
    ['PASS', 'MYSTATUS', 'worse'],
    ['MYSTATUS', 'OTHERSTATUS', 'same'],
    ['FAIL', 'MYSTATUS', 'better'],
    // The new run has not judged it yet: never worse, never better.
    ['PASS', 'RUNNING/n/a', 'pending'],
    ['PASS', 'LAUNCHED/n/a', 'pending'],
    ['PASS', 'NOT_STARTED/n/a', 'pending'],
    ['FAIL', 'RUNNING/FAIL', 'pending'],
    ['PASS', 'KILLREQ/n/a', 'pending'],
    // The old run never judged it: it counts as n/a (ranked between CHECK and unknown).
    ['NOT_STARTED/n/a', 'PASS', 'better'],
    ['RUNNING/FAIL', 'PASS', 'better'],
    ['NOT_STARTED/n/a', 'FAIL', 'worse'],
    ['NOT_STARTED/n/a', 'CHECK', 'better'],
    ['COMPLETED/n/a', 'NOT_STARTED/n/a', 'pending'],
    ['ARCHIVED/PASS', 'ARCHIVED/FAIL', 'worse'],
  ];
  for (const [o, n, expected] of table) t.equal(classify(side(o), side(n)), expected, `${o} -> ${n}`);
});

/** Rows from `name=STATE/STATUS` words, where name is `test` or `test/item`. */
function rows(...specs: string[]): DiffRow[] {
  return specs.map((spec) => {
    const [key = '', outcome = ''] = spec.split('=');
    const [testname = key, itempath = ''] = key.split(/\/(.*)/s);
    return { testname, itempath, ...side(outcome) };
  });
}

t.test('diffRuns: tests, items, appeared, disappeared', async (t) => {
  const table: Array<[what: string, old: DiffRow[], now: DiffRow[], expected: string[]]> = [
    ['identical runs', rows('a=PASS', 'b=FAIL'), rows('a=PASS', 'b=FAIL'), ['same a', 'same b']],
    ['one worse, one better', rows('a=PASS', 'b=FAIL'), rows('a=FAIL', 'b=PASS'), ['worse a', 'better b']],
    ['appeared and disappeared', rows('a=PASS', 'gone=FAIL'), rows('a=PASS', 'new=PASS'), ['appeared new', 'disappeared gone', 'same a']],
    [
      'items compared one by one, the rolled-up row not counted',
      rows('t=FAIL', 't/1=PASS', 't/2=FAIL'),
      rows('t=FAIL', 't/1=FAIL', 't/2=FAIL', 't/3=PASS'),
      ['worse t/1', 'appeared t/3', 'same t/2'],
    ],
    ['items that vanished', rows('t=PASS', 't/1=PASS', 't/2=PASS'), rows('t=PASS', 't/1=PASS'), ['disappeared t/2', 'same t/1']],
    [
      'a whole test with items appears item by item',
      rows('a=PASS'),
      rows('a=PASS', 't=FAIL', 't/x=FAIL', 't/y=PASS'),
      ['appeared t/x', 'appeared t/y', 'same a'],
    ],
    [
      'items on one side only: the test as a whole (lazy items never expanded after a PREQ_FAIL)',
      rows('t=PASS', 't/1=PASS', 't/2=PASS'),
      rows('t=NOT_STARTED/PREQ_FAIL'),
      ['worse t'],
    ],
    ['ZERO_ITEMS last time, items now', rows('t=NOT_STARTED/ZERO_ITEMS'), rows('t=PASS', 't/1=PASS'), ['better t']],
    ['DELETED rows are absent', rows('a=DELETED/PASS', 'b=PASS'), rows('a=PASS', 'b=DELETED/n/a'), ['appeared a', 'disappeared b']],
    ['a new run still going', rows('a=PASS', 'b=PASS'), rows('a=PASS', 'b=RUNNING/n/a'), ['pending b', 'same a']],
    ['items without their test row (-p dropped it)', rows('t/1=PASS'), rows('t/1=FAIL'), ['worse t/1']],
    ['empty runs', [], [], []],
  ];
  for (const [what, o, n, expected] of table) {
    const diff = diffRuns(o, n);
    t.same(
      diff.entries.map((e) => `${e.class} ${e.itempath ? `${e.testname}/${e.itempath}` : e.testname}`),
      expected,
      what,
    );
    const total = Object.values(diff.counts).reduce((a, b) => a + b, 0);
    t.equal(total, expected.length, `${what}: counts add up`);
  }
});

t.test('entries keep both sides; sorted by class, then name, then item', async (t) => {
  const diff = diffRuns(
    rows('b=PASS', 'a=PASS', 'c/2=PASS', 'c/10=PASS', 'c=PASS'),
    rows('b=FAIL', 'a=FAIL', 'c=PASS', 'c/2=PASS', 'c/10=PASS'),
  );
  t.same(
    diff.entries.map((e) => [e.class, e.testname, e.itempath]),
    [
      ['worse', 'a', ''],
      ['worse', 'b', ''],
      ['same', 'c', '10'],
      ['same', 'c', '2'],
    ],
  );
  t.same(diff.entries[0], {
    testname: 'a',
    itempath: '',
    class: 'worse',
    old: { state: 'COMPLETED', status: 'PASS' },
    new: { state: 'COMPLETED', status: 'FAIL' },
  });
  t.same(diff.counts, { worse: 2, better: 0, appeared: 0, disappeared: 0, pending: 0, same: 2 });
  const appeared = diffRuns([], rows('x=PASS')).entries[0];
  t.same([appeared?.old, appeared?.new], [null, { state: 'COMPLETED', status: 'PASS' }]);
});

t.test('--fail-on and the classes that fail', async (t) => {
  t.same(parseFailOn('worse', '--fail-on'), ['worse']);
  t.same(parseFailOn('worse,disappeared', '--fail-on'), ['worse', 'disappeared']);
  t.same(parseFailOn('Disappeared', '--fail-on'), ['disappeared']);
  t.same(parseFailOn('none', '--fail-on'), []);
  t.throws(() => parseFailOn('worse,vanished', '--fail-on'), {
    code: 'BAD_VALUE',
    message: /--fail-on 'worse,vanished': 'vanished' is not a class/,
  });
  t.throws(() => parseFailOn(',', '--fail-on'), { code: 'BAD_VALUE' });
  const diff = diffRuns(rows('a=PASS', 'gone=PASS'), rows('a=PASS', 'new=PASS'));
  t.same(failingClasses(diff, ['worse']), []);
  t.same(failingClasses(diff, ['worse', 'disappeared', 'appeared']), ['disappeared', 'appeared']);
});

const run = (id: number, runname: string, state: RunRecord['state'], status: string): RunRecord => ({
  id,
  target: 'linux/x86_64',
  keys: {},
  runname,
  state,
  status,
  counts: {},
  total: 0,
  created: 0,
  started: null,
  ended: null,
  updated: 0,
  lockedBy: null,
  lockedAt: null,
  params: {},
});

t.test('text lists what changed and counts the rest; JSON has everything', async (t) => {
  const diff = diffRuns(
    rows('a=PASS', 'b=PASS', 'c=FAIL', 'gone=PASS', 't=PASS', 't/1=PASS', 't/2=PASS'),
    rows('a=PASS', 'b=KILLED/ABORT', 'c=PASS', 'new=WARN', 't=RUNNING/n/a', 't/1=PASS', 't/2=RUNNING/n/a'),
  );
  const runs = { old: run(1, 'n1', 'done', 'FAIL'), new: run(2, 'n2', 'running', 'ABORT') };
  const text = formatDiff(diff, runs, { all: false, failed: ['worse'] });
  t.equal(
    text,
    [
      'old: linux/x86_64 n1 (done, FAIL)',
      'new: linux/x86_64 n2 (running, ABORT)',
      '',
      'Worse (1):',
      '  b     PASS  ->  ABORT',
      '',
      'Better (1):',
      '  c     FAIL  ->  PASS',
      '',
      'Appeared (1):',
      '  new   -     ->  WARN',
      '',
      'Disappeared (1):',
      '  gone  PASS  ->  -',
      '',
      'worse 1, better 1, appeared 1, disappeared 1, pending 1, same 2',
      '(pending and same not listed; --all lists them)',
      'FAILED: 1 worse',
      '',
    ].join('\n'),
  );
  const all = formatDiff(diff, runs, { all: true, failed: [] });
  t.match(all, /Pending \(not ended in the new run\) \(1\):\n {2}t\/2 +PASS +-> +RUNNING\n/);
  t.match(all, /Same \(2\):\n {2}a +PASS +-> +PASS\n {2}t\/1 +PASS +-> +PASS\n/);
  t.notMatch(all, /FAILED|not listed/);

  const json = diffJson(diff, runs, { failOn: ['worse'], failed: ['worse'] });
  t.same(json.old, { id: 1, target: 'linux/x86_64', runname: 'n1', state: 'done', status: 'FAIL' });
  t.same(json.counts, diff.counts);
  t.equal(json.failed, true);
  t.same(json.failOn, ['worse']);
  t.equal(json.tests.length, 7, 'every entry, the same ones too');
  t.same(json.tests[0], {
    testname: 'b',
    itempath: '',
    class: 'worse',
    old: { state: 'COMPLETED', status: 'PASS' },
    new: { state: 'KILLED', status: 'ABORT' },
  });
});
