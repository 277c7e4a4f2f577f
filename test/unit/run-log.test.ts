import t from 'tap';
import type { EventRecord, TestRecord } from '../../src/model/records.js';
import { formatTime } from '../../src/report/table.js';
import { DEFAULT_LOG_KINDS, formatLog, logJson, nameEvents, selectEvents } from '../../src/report/run-log.js';

let seq = 0;
const ev = (kind: string, detail: string, who = '', testId: number | null = null): EventRecord => ({
  seq: ++seq,
  time: 1_700_000_000 + seq,
  testId,
  kind,
  detail,
  who,
});
const row = (id: number, testname: string, itempath = '') => ({ id, testname, itempath }) as TestRecord;

t.test('selectEvents: run events by default, any kinds, or all', async (t) => {
  const events = [
    ev('agent', 'runner pid 1 on host h claimed the run'),
    ev('state', 'RUNNING/n/a', 'a@h', 3),
    ev('run', 'running', 'a@h'),
    ev('removed', 'x', 'a@h', 4),
  ];
  t.same(
    selectEvents(events, DEFAULT_LOG_KINDS).map((e) => e.kind),
    ['agent', 'run'],
  );
  t.same(
    selectEvents(events, ['state', 'removed']).map((e) => e.kind),
    ['state', 'removed'],
  );
  t.equal(selectEvents(events, 'all').length, 4);
});

t.test('nameEvents: test names from the rows, or from the removal that recorded them', async (t) => {
  const all = [
    ev('state', 'COMPLETED/PASS', 'a@h', 1),
    ev('state', 'COMPLETED/FAIL', 'a@h', 2),
    ev('removed', 'gone/x', 'a@h', 2),
    ev('state', 'X/Y', '', 9),
    ev('lock', 'locked (was done)', 'l@h'),
  ];
  const named = nameEvents(all, [row(1, 'unit', 'core/O2')], all);
  t.same(
    named.map((e) => e.test),
    ['unit/core/O2', 'gone/x', 'gone/x', '#9', null],
  );
  t.match(logJson(named)[4], { kind: 'lock', detail: 'locked (was done)', who: 'l@h', test: null, time: /^2023-11-14T/ });
});

t.test('formatLog: forced writes collapse only while a runner holds the run', async (t) => {
  const entries = nameEvents(
    [
      ev('lock', 'locked (was done)', 'lead@h1'),
      ev('agent', 'runner pid 7 on host h2 claimed the run'),
      ev('forced', 'registration of 3 test(s) while locked by lead@h1 at T', 'ann@h2'),
      ev('forced', 'write of 2 op(s) while locked by lead@h1 at T', 'ann@h2'),
      ev('forced', 'write of 1 op(s) while locked by lead@h1 at T', 'ann@h2'),
      ev('agent', 'runner pid 7 on host h2 ended'),
      ev('forced', 'write of 1 op(s) while locked by lead@h1 at T', 'ann@h2'),
      ev('forced', 'removal of 1 test(s) while locked by lead@h1 at T', 'ann@h2'),
    ],
    [],
    [],
  );
  const lines = formatLog(entries).trimEnd().split('\n');
  t.match(lines[0], /^TIME +KIND +WHO +DETAIL$/);
  t.same(
    lines.slice(1).map((l) => l.replace(/^\S+ \S+ +/, '')),
    [
      'lock    lead@h1  locked (was done)',
      'agent   -        runner pid 7 on host h2 claimed the run',
      `forced  ann@h2   registration of 3 test(s) while locked by lead@h1 at T (and 2 more forced writes until ${formatTime(entries[4]!.time)})`,
      'agent   -        runner pid 7 on host h2 ended',
      'forced  ann@h2   write of 1 op(s) while locked by lead@h1 at T',
      'forced  ann@h2   removal of 1 test(s) while locked by lead@h1 at T',
    ],
  );
});
