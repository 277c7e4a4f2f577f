/**
 * `trellis list runs`' table made straight from columns (report/runs-table.ts) is the text
 * formatTable makes from the same runs' cells, whatever the runs hold; and LocalTimes gives
 * formatTime's text in zones with DST, half-hour and old LMT offsets.
 */
import t from 'tap';
import type { RunColumns, RunRecord } from '../../src/model/records.js';
import { pickRunColumns, runColumnsOf } from '../../src/model/run-columns.js';
import { LocalTimes } from '../../src/report/local-time.js';
import { formatRunsTable } from '../../src/report/runs-table.js';
import { formatCounts } from '../../src/report/summary.js';
import { formatTable, formatTime } from '../../src/report/table.js';

/** The table as `list runs` made it before: formatTable over each run's cells. */
function tableOfCells(runs: RunRecord[]): string {
  const rows = runs.map((r) => [
    r.target,
    r.runname,
    r.state,
    r.status,
    String(r.total),
    formatTime(r.created),
    formatTime(r.updated),
    r.closedAt !== undefined ? formatTime(r.closedAt) : '-',
    formatCounts(new Map(Object.entries(r.counts))),
  ]);
  return `${formatTable(['TARGET', 'RUNNAME', 'STATE', 'STATUS', 'TESTS', 'CREATED', 'CHANGED', 'CLOSED', 'COUNTS'], rows)}\n`;
}

const table = (c: RunColumns) => [...formatRunsTable(c)].join('');

let next = 1;
function run(over: Partial<RunRecord> = {}): RunRecord {
  const id = next++;
  return {
    id,
    target: 'linux/x86_64',
    keys: {},
    runname: `nightly-${id}`,
    state: 'done',
    status: 'PASS',
    counts: { PASS: 3 },
    total: 3,
    created: 1_796_372_923.422 - id * 3607.3,
    started: null,
    ended: null,
    updated: 1_796_372_930.1 - id * 3607.3,
    lockedBy: null,
    lockedAt: null,
    params: {},
    ...over,
  };
}

t.test('the same text as formatTable over the cells', async (t) => {
  const cases: Record<string, RunRecord[]> = {
    'one plain run': [run()],
    'many, one closed': [run(), run({ closedAt: 1_796_400_000, state: 'locked' }), run()],
    'no counts (a new run): no trailing blanks': [run({ counts: {}, total: 0, status: 'n/a', state: 'new' }), run()],
    'several statuses, sorted by count then name': [run({ counts: { PASS: 2, FAIL: 2, WARN: 5, 'n/a': 0 } })],
    'controls escaped, widths from the escaped text': [run({ runname: 'a\x1b[2Jb', target: 'x\ny' }), run()],
    'a status ending in a blank, and a wide name': [run({ status: 'ODD ', counts: { 'ODD ': 1 } }), run({ runname: 'n'.repeat(70) })],
    'text beyond ASCII': [run({ runname: 'größe-测试-😀', target: 'linux/ä' })],
    'a big total': [run({ total: 1_234_567 })],
    'times far out': [run({ created: -40_000_000_000, updated: 260_000_000_000 }), run()],
  };
  for (const [name, runs] of Object.entries(cases)) t.equal(table(runColumnsOf(runs)), tableOfCells(runs), name);
  const many = Array.from({ length: 1234 }, (_, i) =>
    run({ status: i % 7 === 0 ? 'FAIL' : 'PASS', counts: i % 7 === 0 ? { FAIL: 1, PASS: 2 } : { PASS: 3 } }),
  );
  const pieces = [...formatRunsTable(runColumnsOf(many))];
  t.ok(pieces.length > 1, 'a long table comes in pieces');
  t.ok(
    pieces.every((p) => p.endsWith('\n')),
    'each piece ends a line',
  );
  t.equal(pieces.join(''), tableOfCells(many), '1,234 runs');
});

t.test('pickRunColumns keeps the runs asked for, in that order', async (t) => {
  const runs = [run(), run(), run()];
  t.same(pickRunColumns(runColumnsOf(runs), [2, 0]), runColumnsOf([runs[2]!, runs[0]!]));
  t.same(pickRunColumns(runColumnsOf(runs), []), runColumnsOf([]));
});

t.test("LocalTimes gives formatTime's text in every kind of zone", async (t) => {
  const before = process.env['TZ'];
  t.teardown(() => {
    if (before === undefined) delete process.env['TZ'];
    else process.env['TZ'] = before;
  });
  // DST both ways, half-hour and 45-minute offsets, Lord Howe's half-hour DST, offsets with
  // seconds before 1972 (Monrovia), and days around DST changes in each.
  for (const zone of ['UTC', 'Europe/Berlin', 'America/St_Johns', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Africa/Monrovia']) {
    process.env['TZ'] = zone;
    const times = new LocalTimes();
    let differ = 0;
    let first = '';
    const check = (s: number) => {
      if (times.format(s) !== formatTime(s)) {
        if (differ++ === 0) first = `${s}: ${times.format(s)} vs ${formatTime(s)}`;
      }
    };
    for (let s = -2.5e9; s < 2.5e9; s += 86_400 * 7.3 + 0.37) check(s);
    for (const change of [1_711_846_800, 1_729_990_800, 1_699_754_400, 63_072_000]) {
      for (let s = change - 2 * 86_400; s < change + 2 * 86_400; s += 61.7) check(s);
    }
    t.equal(differ, 0, `${zone}${first ? `: first ${first}` : ''}`);
    t.equal(times.format(null), '-');
  }
});
