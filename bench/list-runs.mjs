// Quick-query latency: `trellis list runs` over a run area with 1,000 runs, and `trellis --help`,
// wall time of the whole process (Node start included), median of 10; `node -e 0` is the floor.
import path from 'node:path';
import { CLI, ROOT, figure, header, makeTempDir, median, requireBuild, timeOk, verdict, writeArea } from './common.mjs';

const RUNS = 1000;
const TESTS_PER_RUN = 3;
const REPS = 10;
const LIST_TARGET_MS = 150;
const HELP_TARGET_MS = 120;

requireBuild();
const { openDirectStore } = await import(path.join(ROOT, 'dist/src/store/direct-store.js'));
const tmp = makeTempDir('list');
const area = writeArea(path.join(tmp, 'area'), { tests: { a: '[ezsteps]\nt true\n' } });

/** Fills the run area through the store: each run gets a few tests, all COMPLETED/PASS. */
async function createRuns() {
  const t0 = performance.now();
  // A store keeps every run database it opened; reopen it now and then to bound open files.
  const PER_STORE = 100;
  for (let first = 0; first < RUNS; first += PER_STORE) {
    const store = openDirectStore(path.join(area, 'runs'), { host: 'bench' });
    try {
      for (let i = first; i < Math.min(first + PER_STORE, RUNS); i++) {
        const run = await store.ensureRun({ target: 'linux', keys: { OS: 'linux' }, runname: `run${String(i).padStart(4, '0')}` });
        const regs = Array.from({ length: TESTS_PER_RUN }, (_, t) => ({ testname: `t${t}`, itempath: '', priority: 0, rundir: '' }));
        const rows = await store.registerTests(run.id, regs);
        const now = Date.now() / 1000;
        await store.write(
          run.id,
          rows.map((r) => ({
            kind: 'test',
            opId: `bench-${r.id}`,
            testId: r.id,
            set: { state: 'COMPLETED', status: 'PASS', start: now - 1, end: now },
            time: now,
          })),
        );
        await store.setRunState(run.id, 'done');
      }
    } finally {
      await store.close();
    }
  }
  return performance.now() - t0;
}

/** Median wall ms of REPS runs, after one unmeasured warm-up (page cache, compile cache). */
function timeMedian(cmd, args, check = () => undefined) {
  check(timeOk(cmd, args));
  const times = [];
  for (let i = 0; i < REPS; i++) {
    const r = timeOk(cmd, args);
    check(r);
    times.push(r.ms);
  }
  return median(times);
}

header(`quick queries: list runs over ${RUNS} runs, --help; median of ${REPS}, wall incl. Node start`);
figure(`setup: ${RUNS} runs × ${TESTS_PER_RUN} tests via the direct store`, await createRuns(), 'ms', 0);
const floor = timeMedian('node', ['-e', '0']);
const list = timeMedian('node', [CLI, 'list', 'runs', '--area', area], (r) => {
  const lines = r.stdout.trimEnd().split('\n').length;
  if (lines !== RUNS + 1) throw new Error(`list runs printed ${lines} lines, expected ${RUNS + 1}`);
});
const help = timeMedian('node', [CLI, '--help'], (r) => {
  if (!r.stdout.includes('trellis <command>')) throw new Error(`--help printed:\n${r.stdout}`);
});
figure('node -e 0 (floor)', floor, 'ms');
verdict(`trellis list runs (${RUNS} runs)`, list, LIST_TARGET_MS, 'ms');
verdict('trellis --help', help, HELP_TARGET_MS, 'ms');
figure('list runs above the floor', list - floor, 'ms');
figure('--help above the floor', help - floor, 'ms');
