// Write cost of the direct store against raw better-sqlite3 on the same schema: 1,000 tests × the
// 6 changes of a rerun (reset, LAUNCHED, RUNNING, step RUNNING, step COMPLETED, COMPLETED/PASS).
//   raw:        one transaction per change: claim the op id, update the row or upsert the step,
//               log the event (WAL, synchronous=NORMAL, like Trellis)
//   store ×1:   DirectStore.write() with one op per call (what a runner does at -j 1)
//   store ×6:   DirectStore.write() with a test's 6 ops per call (one batch per test)
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT, figure, header, makeTempDir, requireBuild } from './common.mjs';

const TESTS = 1000;
const CHANGES = 6;

requireBuild();
const Database = createRequire(path.join(ROOT, 'package.json'))('better-sqlite3');
const { openDirectStore } = await import(path.join(ROOT, 'dist/src/store/direct-store.js'));
const { RUN_MIGRATIONS } = await import(path.join(ROOT, 'dist/src/db/run-schema.js'));
const { RUN_DB_PAGE_SIZE } = await import(path.join(ROOT, 'dist/src/db/run-db.js'));
const tmp = makeTempDir('store');

/** The 6 changes of one test, as store write ops (times are fixed: nothing depends on them). */
function opsFor(testId, prefix) {
  const t = 1_700_000_000 + testId;
  const op = (n, rest) => ({ opId: `${prefix}-${testId}-${n}`, testId, time: t + n, ...rest });
  return [
    op(0, { kind: 'reset' }),
    op(1, { kind: 'test', set: { state: 'LAUNCHED', status: 'n/a', host: 'bench', pid: 1, agentId: 1, start: t, end: null } }),
    op(2, { kind: 'test', set: { state: 'RUNNING' } }),
    op(3, { kind: 'step', name: 't', state: 'RUNNING', status: 'n/a', logfile: 't.log' }),
    op(4, { kind: 'step', name: 't', state: 'COMPLETED', status: 'PASS', exitCode: 0, logfile: 't.log' }),
    op(5, { kind: 'test', set: { state: 'COMPLETED', status: 'PASS', comment: '', end: t + 5 } }),
  ];
}

function benchRaw() {
  const db = new Database(path.join(tmp, 'raw.db'));
  // The same pages as a run database (run-db.ts), so the peer differs only in what the store adds.
  db.pragma(`page_size = ${RUN_DB_PAGE_SIZE}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  for (const m of RUN_MIGRATIONS) db.exec(m.up);
  const insertTest = db.prepare(`INSERT INTO tests (testname, itempath, updated) VALUES (?, '', 0)`);
  db.transaction(() => {
    for (let i = 0; i < TESTS; i++) insertTest.run(`t${i}`);
  })();
  const claim = db.prepare(`INSERT INTO applied_ops (op_id, time) VALUES (?, ?) ON CONFLICT DO NOTHING`);
  const event = db.prepare(`INSERT INTO events (time, test_id, kind, detail, who) VALUES (?, ?, 'state', ?, '')`);
  const save = db.prepare(
    `UPDATE tests SET state = coalesce(?, state), status = coalesce(?, status), start = ?, "end" = ?, updated = ? WHERE id = ?`,
  );
  const clearDetails = db.prepare(`DELETE FROM steps WHERE test_id = ?`);
  const touch = db.prepare(`UPDATE tests SET updated = max(updated, ?) WHERE id = ?`);
  const step = db.prepare(
    `INSERT INTO steps (test_id, name, seq, state, status, exit_code, start, logfile) VALUES (?, ?, 1, ?, ?, ?, ?, ?)
     ON CONFLICT (test_id, name) DO UPDATE SET state = excluded.state, status = excluded.status, exit_code = excluded.exit_code,
       "end" = excluded.start`,
  );
  const apply = db.transaction((op) => {
    if (claim.run(op.opId, op.time).changes !== 1) return;
    if (op.kind === 'step') {
      touch.run(op.time, op.testId);
      step.run(op.testId, op.name, op.state, op.status, op.exitCode ?? null, op.time, op.logfile);
      return;
    }
    if (op.kind === 'reset') clearDetails.run(op.testId);
    const set = op.kind === 'reset' ? { state: 'NOT_STARTED', status: 'n/a', start: null, end: null } : op.set;
    save.run(set.state ?? null, set.status ?? null, set.start ?? null, set.end ?? null, op.time, op.testId);
    if (set.state !== undefined) event.run(op.time, op.testId, `${set.state}/${set.status ?? ''}`);
  });
  const t0 = performance.now();
  for (let id = 1; id <= TESTS; id++) for (const op of opsFor(id, 'raw')) apply(op);
  const us = ((performance.now() - t0) * 1000) / (TESTS * CHANGES);
  db.close();
  return us;
}

/** µs per op through DirectStore.write with `perCall` ops per call, on a fresh run. */
async function benchStore(perCall) {
  const store = openDirectStore(path.join(tmp, `store-${perCall}`), { host: 'bench' });
  try {
    const run = await store.ensureRun({ target: 'linux', keys: { OS: 'linux' }, runname: 'bench' });
    const rows = await store.registerTests(
      run.id,
      Array.from({ length: TESTS }, (_, i) => ({ testname: `t${i}`, itempath: '', priority: 0, rundir: '' })),
    );
    const t0 = performance.now();
    for (const row of rows) {
      const ops = opsFor(row.id, 'a1');
      for (let i = 0; i < ops.length; i += perCall) await store.write(run.id, ops.slice(i, i + perCall));
    }
    const us = ((performance.now() - t0) * 1000) / (TESTS * CHANGES);
    const done = await store.listTests(run.id, { status: ['PASS'] });
    if (done.length !== TESTS) throw new Error(`expected ${TESTS} PASS rows, found ${done.length}`);
    return us;
  } finally {
    await store.close();
  }
}

header(`store writes: ${TESTS} tests × ${CHANGES} changes (WAL, synchronous=NORMAL)`);
const raw = benchRaw();
const one = await benchStore(1);
const six = await benchStore(CHANGES);
figure('raw better-sqlite3, 1 change per transaction', raw, 'µs/change');
figure('DirectStore.write, 1 op per call', one, 'µs/change');
figure(`DirectStore.write, ${CHANGES} ops per call`, six, 'µs/change');
figure(`  … per call (${CHANGES} ops)`, six * CHANGES, 'µs/call');
figure('store ×1 / raw', one / raw, '×', 1);
figure(`store ×${CHANGES} / raw`, six / raw, '×', 1);
