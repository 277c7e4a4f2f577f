/** The run's closing summary: what it says after Ctrl-C, with and without tests parked on a sign-off. */
import t from 'tap';
import { formatSummary, type SummaryInput } from '../../src/report/summary.js';

const base: SummaryInput = {
  target: 'linux',
  runname: 'nightly',
  jobs: 3,
  ran: 1,
  byStatus: new Map([['PASS', 1]]),
  failures: [],
  interrupted: true,
  seconds: 2,
};

t.test('an interrupted run with nothing parked says only that running tests were KILLED', async (t) => {
  const text = formatSummary(base);
  t.match(text, /Interrupted: running tests were stopped and marked KILLED; rerun to finish\./);
  t.notMatch(text, /sign-off/);
});

t.test('tests parked on a sign-off are said to stay parked, with the command that signs off', async (t) => {
  t.match(
    formatSummary({ ...base, parked: 1 }),
    /1 test waits for a sign-off and stays parked \(trellis approve -t linux -r nightly TEST\), then rerun\./,
  );
  t.match(formatSummary({ ...base, parked: 3 }), /3 tests wait for a sign-off and stay parked/);
  t.notMatch(formatSummary({ ...base, interrupted: false, parked: 2 }), /parked/, 'only after an interrupt');
});

t.test('a hostile run name is escaped in the parked line', async (t) => {
  t.notMatch(formatSummary({ ...base, runname: 'x\x1b[31m', parked: 1 }), /\x1b/);
});
