/**
 * Values a test records with `trellis set-value`, through the built CLI: a value without
 * `--expected` is information (issue 11 item 4): it neither makes its test n/a nor stops the
 * tests that wait on it; a value with an expectation still judges the test.
 */
import t from 'tap';
import { makeArea } from '../helpers/area.js';
import { listTests, run, statesOf, trellis, TARGET } from '../helpers/run-e2e.js';

const RECORDS = `#!/bin/sh
set -e
trellis set-value latency 12 --units ms
trellis set-value build-id abc123
exit 0
`;

t.test('a value without --expected is information: PASS, and its dependents run', async (t) => {
  const area = makeArea(t, {
    tests: {
      measure: '[setup]\nrunscript records.sh\n',
      after: '[requirements]\nwaiton measure\n\n[ezsteps]\nrun  true\n',
    },
    files: { 'tests/measure/records.sh': RECORDS },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  t.same(statesOf(await listTests(t, area, 'r')), { after: 'COMPLETED/PASS', measure: 'COMPLETED/PASS' });
  const show = await trellis(t, area, ['show', 'measure', '-t', TARGET, '-r', 'r', '--json']);
  t.equal(show.code, 0, 'show exit 0', { stderr: show.stderr });
  const detail = JSON.parse(show.stdout) as { data: Array<{ name: string; value: string; expected: string | null; status: string }> };
  t.same(
    detail.data.map((d) => `${d.name}=${d.value} expected=${String(d.expected)} ${d.status}`).sort(),
    ['build-id=abc123 expected=null n/a', 'latency=12 expected=null n/a'],
    'both values are recorded, unjudged',
  );
});

t.test('a value outside its expectation still fails the test and its dependents are PREQ_FAIL', async (t) => {
  const area = makeArea(t, {
    tests: {
      measure: '[ezsteps]\nrecord  trellis set-value latency 12 && trellis set-value limit 30 --expected 20 --tol 5\n',
      after: '[requirements]\nwaiton measure\n\n[ezsteps]\nrun  true\n',
    },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 1, 'exit 1', { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { after: 'NOT_STARTED/PREQ_FAIL', measure: 'COMPLETED/FAIL' });
  t.match(rows.get('measure')!.comment, /limit=30/, 'the comment names the value that failed, not the information');
});
