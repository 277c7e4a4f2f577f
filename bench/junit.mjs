// Reports (issue #5): `trellis report junit` of a run of 10,000 tests, wall time of the whole
// command (Node start included), through a warm server and with --direct. Target ≤ 1 s.
// The run is made through the direct store from dist/: 10,000 tests of 2 steps each, 1% failing
// (FAIL, exit 1) with a 1 MB log each; every step has a small log file on disk, so `--logs all`
// (every case's output) can be timed too. TAP and JSON are timed beside it, without a target.
// `BENCH_JUNIT_PROF=<dir>` runs the measured commands under --cpu-prof.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, ROOT, figure, header, makeTempDir, median, requireBuild, timeOk, verdict, writeArea } from './common.mjs';

const TESTS = 10_000;
const FAIL_EVERY = 100;
const BIG_LOG_BYTES = 1024 * 1024;
const REPS = 5;
const TARGET_MS = 1000;

requireBuild();
const { openDirectStore } = await import(path.join(ROOT, 'dist/src/store/direct-store.js'));
const tmp = makeTempDir('junit');
const area = writeArea(path.join(tmp, 'area'), { tests: { a: '[ezsteps]\nt true\n' } });
const runArea = path.join(area, 'runs');
const prof = process.env.BENCH_JUNIT_PROF;

/** Registers the tests and records two steps each, with their logs written to disk. */
async function createRun() {
  const t0 = performance.now();
  const store = openDirectStore(runArea, { host: 'bench' });
  try {
    const run = await store.ensureRun({ target: 'linux', keys: { OS: 'linux' }, runname: 'big' });
    const name = (i) => `t${String(i).padStart(5, '0')}`;
    const regs = Array.from({ length: TESTS }, (_, i) => ({
      testname: name(i),
      itempath: '',
      priority: 0,
      rundir: path.join(runArea, 'linux/big', name(i)),
    }));
    const rows = await store.registerTests(run.id, regs);
    const now = Date.now() / 1000;
    const line = 'some output of a step, as tests print it\n';
    for (let first = 0; first < rows.length; first += 1000) {
      const ops = [];
      for (const [k, r] of rows.slice(first, first + 1000).entries()) {
        const i = first + k;
        const fail = i % FAIL_EVERY === 0;
        mkdirSync(r.rundir, { recursive: true });
        for (const [n, step] of ['build', 'check'].entries()) {
          const logfile = path.join(r.rundir, `${step}.log`);
          const bad = fail && step === 'check';
          writeFileSync(logfile, bad ? line.repeat(Math.ceil(BIG_LOG_BYTES / line.length)) : line.repeat(20));
          const status = bad ? 'FAIL' : 'PASS';
          ops.push({
            kind: 'step',
            opId: `s${i}-${n}`,
            testId: r.id,
            name: step,
            state: 'COMPLETED',
            status,
            exitCode: bad ? 1 : 0,
            logfile,
            time: now,
          });
        }
        const set = {
          state: 'COMPLETED',
          status: fail ? 'FAIL' : 'PASS',
          host: `h${i % 4}`,
          start: now - 2,
          end: now,
          comment: fail ? 'step check exited 1' : '',
        };
        ops.push({ kind: 'test', opId: `t${i}`, testId: r.id, set, time: now });
      }
      await store.write(run.id, ops);
    }
    await store.setRunState(run.id, 'done');
  } finally {
    await store.close();
  }
  return performance.now() - t0;
}

/** Median wall ms of REPS runs of `trellis report …` after one warm-up; checks the output. */
function timeReport(label, args, check) {
  const argv = [CLI, 'report', ...args, '--area', area, '-t', 'linux', '-r', 'big'];
  timeOk('node', argv);
  const times = [];
  for (let i = 0; i < REPS; i++) {
    const profArgs =
      prof && i === 0 ? ['--cpu-prof', '--cpu-prof-dir', prof, '--cpu-prof-name', `${label.replace(/\W+/g, '-')}.cpuprofile`] : [];
    const r = timeOk('node', [...profArgs, ...argv]);
    check(r.stdout);
    times.push(r.ms);
  }
  return median(times);
}

const junitCheck = (stdout) => {
  const cases = stdout.split('<testcase ').length - 1;
  if (cases !== TESTS) throw new Error(`junit had ${cases} cases, expected ${TESTS}`);
  if (!stdout.includes(`failures="${TESTS / FAIL_EVERY}"`)) throw new Error('junit: wrong failure count');
};

header(
  `reports: junit of one run of ${TESTS.toLocaleString('en-US')} tests (${TESTS / FAIL_EVERY} failing, 1 MB logs); median of ${REPS}, wall incl. Node start`,
);
figure(`setup: ${TESTS} tests × 2 steps via the direct store`, await createRun(), 'ms', 0);
const floor = median(Array.from({ length: REPS }, () => timeOk('node', ['-e', '0']).ms));
figure('node -e 0 (floor)', floor, 'ms');

// Through the server: the first command starts it; the warm-up of each figure leaves it warm.
const viaServer = timeReport('junit-server', ['junit'], junitCheck);
const direct = timeReport('junit-direct', ['junit', '--direct'], junitCheck);
verdict('report junit, through a warm server', viaServer, TARGET_MS, 'ms', 0);
verdict('report junit --direct', direct, TARGET_MS, 'ms', 0);
figure('report junit --logs all, warm server', timeReport('junit-all-server', ['junit', '--logs', 'all'], junitCheck), 'ms', 0);
figure('report junit --logs all --direct', timeReport('junit-all-direct', ['junit', '--logs', 'all', '--direct'], junitCheck), 'ms', 0);
figure(
  'report tap, warm server',
  timeReport('tap-server', ['tap'], (s) => s.startsWith('TAP version 14')),
  'ms',
  0,
);
figure(
  'report json, warm server',
  timeReport('json-server', ['json'], (s) => JSON.parse(s)),
  'ms',
  0,
);
const size = timeOk('node', [CLI, 'report', 'junit', '--area', area, '-t', 'linux', '-r', 'big']).stdout.length;
figure('junit size (default --logs failed)', size / 1024, 'KiB', 0);
