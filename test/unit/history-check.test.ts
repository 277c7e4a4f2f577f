/**
 * The pure parts of history and monitoring: the rules of `trellis check` (stale, never, slow and
 * where their thresholds lie), option values (durations, zoned times), job names, and the text.
 */
import t from 'tap';
import { parseDurationOption, parseTimeOption } from '../../src/cli/option-values.js';
import { checkJobName, findProblems, isSlow, listExactNames, type CheckRules } from '../../src/model/outcome-check.js';
import type { OutcomeRecord, OutcomeSummary } from '../../src/model/records.js';
import { describeOutcome, formatAge, formatHistory, formatLastSuccess, formatProblems } from '../../src/report/history-text.js';

const NOW = 1_800_000_000;
const HOUR = 3600;

function outcome(over: Partial<OutcomeRecord> = {}): OutcomeRecord {
  const start = over.start ?? NOW - HOUR;
  return {
    kind: 'run',
    runId: 1,
    target: 'linux/x86_64',
    runname: 'nightly',
    testname: 'a',
    itempath: '',
    state: 'COMPLETED',
    status: 'PASS',
    success: true,
    host: 'build1',
    start,
    end: start + 10,
    duration: 10,
    comment: '',
    time: start,
    ...over,
  };
}

function summary(over: Partial<OutcomeSummary> = {}): OutcomeSummary {
  const latest = over.latest ?? outcome();
  return {
    target: 'linux/x86_64',
    testname: 'a',
    itempath: '',
    count: 5,
    latest,
    lastSuccess: latest,
    meanDuration: 10,
    baselineCount: 4,
    ...over,
  };
}

const RULES: CheckRules = { now: NOW, maxAge: 26 * HOUR, slowFactor: 2, slowMin: 30 };

t.test('stale, never and slow', async (t) => {
  const fresh = summary();
  const old = summary({
    testname: 'old',
    lastSuccess: outcome({ start: NOW - 27 * HOUR }),
    latest: outcome({ status: 'FAIL', success: false }),
  });
  const never = summary({ testname: 'never', lastSuccess: null, latest: outcome({ status: 'FAIL', success: false }) });
  const slow = summary({ testname: 'slow', latest: outcome({ duration: 100 }), meanDuration: 20 });
  const problems = findProblems([fresh, old, never, slow], RULES, ['a', 'missing', 'x/y']);
  t.same(
    problems.map((p) => `${p.kind} ${p.testname}${p.itempath ? `/${p.itempath}` : ''}`),
    ['stale old', 'never never', 'slow slow', 'never missing', 'never x/y'],
  );
  t.equal(problems[0]!.age, 27 * HOUR - 10, 'age counts from the end of the last success');
  t.equal(problems[3]!.summary, null, 'a name given in -p with nothing recorded');

  // The edge: exactly max-age old is still fine.
  t.same(findProblems([summary({ lastSuccess: outcome({ start: NOW - 26 * HOUR - 10 }) })], RULES), []);
});

t.test('slow needs the factor, the minimum and a baseline of two', async (t) => {
  const with_ = (duration: number, mean: number, n = 3) => summary({ latest: outcome({ duration }), meanDuration: mean, baselineCount: n });
  t.ok(isSlow(with_(100, 20), RULES), '5× and 80 s over');
  t.notOk(isSlow(with_(40, 20), RULES), 'exactly 2× is not over 2×');
  t.notOk(isSlow(with_(50, 20), { ...RULES, slowMin: 31 }), 'over 2× but under the minimum');
  t.ok(isSlow(with_(50, 20), RULES), '2.5× and 30 s over');
  t.notOk(isSlow(with_(100, 20, 1), RULES), 'one success is no baseline');
  t.notOk(isSlow(with_(100, 20), { ...RULES, slowFactor: 0 }), 'factor 0 turns it off');
  t.notOk(isSlow(summary({ latest: outcome({ duration: null, state: 'RUNNING' }) }), RULES), 'still running');
});

t.test('exact names of a pattern; job names', async (t) => {
  t.same(listExactNames('backup, b%,~old,x/y'), ['backup', 'x/y']);
  t.same(listExactNames(undefined), []);
  t.equal(checkJobName('backup', 'db1/full'), 'backup/db1/full');
  for (const [name, item] of [
    ['a b', ''],
    ['', ''],
    ['x%', ''],
    ['.hidden', ''],
    ['x', 'y/'],
    ['x', 'a//b'],
    ['x,y', ''],
    ['~x', ''],
  ] as const) {
    t.throws(() => checkJobName(name, item), { code: 'BAD_VALUE' }, `${name}/${item}`);
  }
});

t.test('durations and times people type', async (t) => {
  t.equal(parseDurationOption('--max-age', '26h'), 26 * HOUR);
  t.equal(parseDurationOption('--max-age', '90m'), 5400);
  t.equal(parseDurationOption('--max-age', '2d'), 172800);
  t.throws(() => parseDurationOption('--max-age', '26 hours'), { code: 'BAD_VALUE', message: /--max-age '26 hours' is not a duration/ });
  t.equal(parseTimeOption('--start', '1700000000'), 1_700_000_000);
  t.equal(parseTimeOption('--start', '1700000000.5'), 1_700_000_000.5);
  t.equal(parseTimeOption('--start', '2026-11-23T02:00:00Z'), Date.UTC(2026, 10, 23, 2) / 1000);
  t.equal(parseTimeOption('--start', '2026-11-23T03:00:00+01:00'), Date.UTC(2026, 10, 23, 2) / 1000);
  t.equal(parseTimeOption('--start', '2026-11-23 03:30+0130'), Date.UTC(2026, 10, 23, 2) / 1000);
  t.equal(parseTimeOption('--start', '2026-11-23T02:00:00.250Z'), Date.UTC(2026, 10, 23, 2) / 1000 + 0.25);
  t.throws(() => parseTimeOption('--start', '2026-11-23T02:00:00'), {
    code: 'BAD_VALUE',
    message: /has no time zone/,
    hint: /2026-11-23T02:00:00Z/,
  });
  t.throws(() => parseTimeOption('--end', 'yesterday'), { code: 'BAD_VALUE', message: /--end 'yesterday' is not a time/ });
  t.throws(() => parseTimeOption('--end', '2026-02-30T00:00:00Z'), { code: 'BAD_VALUE', message: /not a real date/ });
  t.throws(() => parseTimeOption('--end', '2026-11-23T25:00:00Z'), { code: 'BAD_VALUE', message: /not a real date/ });
});

t.test('the text', async (t) => {
  t.equal(formatAge(90), '1m30s ago');
  t.equal(formatAge(3 * 86400 + 5 * HOUR), '3d05h ago');
  t.equal(describeOutcome(outcome({ state: 'KILLED', status: 'ABORT' })), 'KILLED/ABORT');
  t.equal(describeOutcome(outcome({ kind: 'wrap', state: 'RUNNING', status: 'n/a' })), 'RUNNING');
  const text = formatHistory([
    outcome(),
    outcome({ kind: 'wrap', target: '', runname: '', runId: null, status: 'FAIL', comment: 'exit 3' }),
  ]);
  t.match(
    text,
    /^STARTED +TARGET +RUN +HOST +TIME +STATUS +COMMENT\n.*linux\/x86_64 +nightly +build1 +10\.0s +PASS\n.* - +\(wrap\) +build1 +10\.0s +FAIL +exit 3$/,
  );
  t.match(
    formatLastSuccess('a', outcome(), outcome(), NOW),
    /^a last succeeded at .* \(59m50s ago\) on build1 in run linux\/x86_64 nightly: PASS in 10\.0s$/,
  );
  t.match(
    formatLastSuccess('job', null, outcome({ kind: 'record', status: 'FAIL' }), NOW),
    /^job has never succeeded; the latest outcome is FAIL at .* on build1 \(record linux\/x86_64\)$/,
  );
  const problems = findProblems(
    [summary({ testname: 'slow', latest: outcome({ duration: 100 }), meanDuration: 20, baselineCount: 5 })],
    RULES,
  );
  t.match(formatProblems(problems, NOW), /SLOW +slow +linux\/x86_64 +took 1m40s, 5\.0× the mean of its last 5 successes \(20\.0s\)/);
});
