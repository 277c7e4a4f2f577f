// History across many runs: `trellis history TEST` over a run area with 1,000 runs (target
// ≤ 300 ms, the whole command in a new process), through a warm server and with --direct; the
// same with every outcome (-n 1000), `last-success`, and `check` over every test. Also the query
// alone in-process, and the one-time backfill of the index when an older area is first opened.
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  CLI,
  ROOT,
  figure,
  fmt,
  header,
  makeTempDir,
  median,
  requireBuild,
  stopServersUnder,
  timeOk,
  timeSync,
  verdict,
  writeArea,
} from './common.mjs';

const RUNS = 1000;
const TESTS_PER_RUN = 20;
const REPS = 10;
const TARGET_MS = 300;

requireBuild();
const { openDirectStore } = await import(path.join(ROOT, 'dist/src/store/direct-store.js'));
const tmp = makeTempDir('history');
const area = writeArea(path.join(tmp, 'area'), { tests: { a: '[ezsteps]\nt true\n' } });
const runArea = path.join(area, 'runs');

/** Fills the run area through the store: one run a day, each test ending PASS (1 in 10 FAIL). */
async function createRuns() {
  const t0 = performance.now();
  const day0 = Date.now() / 1000 - RUNS * 86400;
  // A store keeps the run databases it opened; reopen it now and then to bound open files.
  const PER_STORE = 100;
  for (let first = 0; first < RUNS; first += PER_STORE) {
    const store = openDirectStore(runArea, { host: 'bench' });
    try {
      for (let i = first; i < Math.min(first + PER_STORE, RUNS); i++) {
        const run = await store.ensureRun({ target: 'linux', keys: { OS: 'linux' }, runname: `night${String(i).padStart(4, '0')}` });
        const regs = Array.from({ length: TESTS_PER_RUN }, (_, t) => ({
          testname: `t${String(t).padStart(2, '0')}`,
          itempath: '',
          priority: 0,
          rundir: '',
        }));
        const rows = await store.registerTests(run.id, regs);
        const start = day0 + i * 86400;
        await store.write(
          run.id,
          rows.map((r, t) => ({
            kind: 'test',
            opId: `bench-${run.id}-${r.id}`,
            testId: r.id,
            time: start + 60,
            set: { state: 'COMPLETED', status: (i + t) % 10 === 0 ? 'FAIL' : 'PASS', start, end: start + 10 + t, host: 'bench' },
          })),
        );
      }
    } finally {
      await store.close();
    }
  }
  return performance.now() - t0;
}

/** Median and worst wall ms of REPS runs after one unmeasured warm-up. */
function timeRuns(args, check) {
  check(timeOk('node', [CLI, ...args]));
  const times = [];
  for (let i = 0; i < REPS; i++) {
    const r = timeOk('node', [CLI, ...args]);
    check(r);
    times.push(r.ms);
  }
  return { median: median(times), worst: Math.max(...times) };
}

const lines = (n) => (r) => {
  const got = r.stdout.trimEnd().split('\n').length;
  if (got !== n) throw new Error(`printed ${got} lines, expected ${n}:\n${r.stdout.slice(0, 500)}`);
};

header(`history: ${RUNS} runs × ${TESTS_PER_RUN} tests in one run area; median / worst of ${REPS}, wall incl. Node start`);
figure(`setup: ${RUNS} runs via the direct store`, await createRuns(), 'ms', 0);

// In-process: the store call alone, on a warm connection.
{
  const store = openDirectStore(runArea, { host: 'bench' });
  const times = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const rows = await store.history({ testname: 't07', limit: 20 });
    times.push(performance.now() - t0);
    if (rows.length !== 20) throw new Error(`history returned ${rows.length} rows`);
  }
  figure('store.history(t07), 20 rows, in-process', median(times.slice(20)), 'ms', 2);
  const all = performance.now();
  const every = await store.history({ testname: 't07', limit: RUNS });
  figure(`store.history(t07), ${every.length} rows, in-process`, performance.now() - all, 'ms', 2);
  const sum = performance.now();
  const summary = await store.historySummary({});
  figure(`store.historySummary, ${summary.length} tests`, performance.now() - sum, 'ms', 1);
  await store.close();
}

const nodeFloor = median(Array.from({ length: REPS }, () => timeSync('node', ['-e', '0']).ms));
figure('node -e 0 (floor)', nodeFloor, 'ms');

const at = ['--area', area];
const direct = timeRuns(['history', 't07', ...at, '--direct'], lines(21));
verdict('trellis history t07 --direct, median', direct.median, TARGET_MS, 'ms');
verdict('trellis history t07 --direct, worst', direct.worst, TARGET_MS, 'ms');

timeOk('node', [CLI, 'server', 'start', ...at]);
const served = timeRuns(['history', 't07', ...at], lines(21));
verdict('trellis history t07 (warm server), median', served.median, TARGET_MS, 'ms');
verdict('trellis history t07 (warm server), worst', served.worst, TARGET_MS, 'ms');
const everyRow = timeRuns(['history', 't07', '-n', String(RUNS), ...at], lines(RUNS + 1));
figure(`  history -n ${RUNS}, server, median`, everyRow.median, 'ms');
const last = timeRuns(['last-success', 't07', ...at], lines(1));
figure('  last-success t07, server, median', last.median, 'ms');
const check = timeRuns(['check', '--max-age', '1000d', ...at], lines(1));
figure(`  check, ${TESTS_PER_RUN} tests, server, median`, check.median, 'ms');
stopServersUnder(tmp);

// The one-time backfill: make main.db what the migration that made the index leaves (an empty
// index, its backfill pending), then open it. (Rewinding user_version would replay every later
// migration too.)
{
  const db = new Database(path.join(runArea, '.db', 'main.db'));
  db.exec(`DELETE FROM outcomes; INSERT OR REPLACE INTO meta (key, value) VALUES ('outcomes_backfill', 'pending');`);
  db.close();
  const t0 = performance.now();
  const store = openDirectStore(runArea, { host: 'bench' });
  const ms = performance.now() - t0;
  const rows = await store.history({ testname: 't07', limit: RUNS });
  await store.close();
  if (rows.length !== RUNS) throw new Error(`backfill indexed ${rows.length} outcomes of t07, expected ${RUNS}`);
  figure(`backfill on first open (once per area)`, ms, 'ms', 0);
}
console.log(`  history above the floor: ${fmt(direct.median - nodeFloor)} ms (--direct), ${fmt(served.median - nodeFloor)} ms (server)`);
