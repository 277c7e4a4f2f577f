// `trellis diff` of two 10,000-test runs: wall time of the whole command (Node start included),
// through the run area's server and with --direct, text and --json; and the comparison alone
// (diffRuns over the rows, in this process). Median of 5 after one warm-up.
import path from 'node:path';
import { CLI, ROOT, figure, header, makeTempDir, median, requireBuild, timeSync, verdict, writeArea } from './common.mjs';

const TESTS = 10_000;
const REPS = 5;
const TARGET_MS = 1000;

requireBuild();
const { openDirectStore } = await import(path.join(ROOT, 'dist/src/store/direct-store.js'));
const { diffRuns } = await import(path.join(ROOT, 'dist/src/report/diff.js'));
const tmp = makeTempDir('diff');
const area = writeArea(path.join(tmp, 'area'), { tests: { a: '[ezsteps]\nt true\n' } });

/**
 * Two runs through the store: `old` mostly PASS, `new` with 99 tests worse, 99 better, 50 gone
 * and 50 added (t00000–t00049 gone, one of each kind among them), the rest the same.
 */
async function createRuns() {
  const t0 = performance.now();
  const store = openDirectStore(path.join(area, 'runs'), { host: 'bench' });
  try {
    const fill = async (runname, names, statusOf) => {
      const run = await store.ensureRun({ target: 'linux', keys: { OS: 'linux' }, runname });
      const rows = await store.registerTests(
        run.id,
        names.map((testname) => ({ testname, itempath: '', priority: 0, rundir: '' })),
      );
      const now = Date.now() / 1000;
      for (let i = 0; i < rows.length; i += 2000) {
        const ops = rows.slice(i, i + 2000).map((r) => ({
          kind: 'test',
          opId: `${runname}-${r.id}`,
          testId: r.id,
          time: now,
          set: { state: 'COMPLETED', status: statusOf(r.testname), start: now - 1, end: now },
        }));
        await store.write(run.id, ops);
      }
    };
    const name = (i) => `t${String(i).padStart(5, '0')}`;
    const base = Array.from({ length: TESTS }, (_, i) => name(i));
    await fill('old', base, (n) => (Number(n.slice(1)) % 100 === 1 ? 'FAIL' : 'PASS'));
    const next = [...base.slice(50), ...Array.from({ length: 50 }, (_, i) => name(TESTS + i))];
    await fill('new', next, (n) => {
      const i = Number(n.slice(1));
      return i % 100 === 0 ? 'FAIL' : 'PASS';
    });
  } finally {
    await store.close();
  }
  return performance.now() - t0;
}

/** Median wall ms of REPS runs after a warm-up; exit 1 (something got worse) is expected. */
function timeDiff(extra) {
  const args = [CLI, 'diff', '--area', area, '-t', 'linux', '-r', 'old', '-r', 'new', ...extra];
  const check = (r) => {
    if (r.code !== 1) throw new Error(`diff exited ${r.code}\n${r.stderr}`);
    return r.ms;
  };
  check(timeSync('node', args));
  return median(Array.from({ length: REPS }, () => check(timeSync('node', args))));
}

/** The comparison alone: both runs' rows read once, diffRuns timed in this process. */
async function timeCompare() {
  const store = openDirectStore(path.join(area, 'runs'), { host: 'bench' });
  try {
    const [oldRun, newRun] = [await store.findRun('linux', 'old'), await store.findRun('linux', 'new')];
    const t0 = performance.now();
    const [a, b] = [await store.listTests(oldRun.id), await store.listTests(newRun.id)];
    const read = performance.now() - t0;
    diffRuns(a, b);
    const times = Array.from({ length: REPS }, () => {
      const t1 = performance.now();
      const d = diffRuns(a, b);
      if (d.counts.worse !== 99) throw new Error(`expected 99 worse, got ${JSON.stringify(d.counts)}`);
      return performance.now() - t1;
    });
    return { read, compare: median(times) };
  } finally {
    await store.close();
  }
}

header(`trellis diff of two ${TESTS}-test runs; median of ${REPS}, wall incl. Node start`);
figure(`setup: 2 runs × ${TESTS} tests via the direct store`, await createRuns(), 'ms', 0);
const floor = median(Array.from({ length: REPS }, () => timeSync('node', ['-e', '0']).ms));
const viaServer = timeDiff([]);
const json = timeDiff(['--json']);
const direct = timeDiff(['--direct']);
const { read, compare } = await timeCompare();
figure('node -e 0 (floor)', floor, 'ms');
verdict('trellis diff (through the server)', viaServer, TARGET_MS, 'ms');
verdict('trellis diff --json (through the server)', json, TARGET_MS, 'ms');
verdict('trellis diff --direct', direct, TARGET_MS, 'ms');
figure('  of which listTests × 2, direct, in-process', read, 'ms');
figure('  of which diffRuns alone', compare, 'ms');
