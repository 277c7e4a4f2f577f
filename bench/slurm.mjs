// The Slurm launcher against its floor: 200 tests of `true` through `trellis run --launcher slurm`
// against the same 200 jobs submitted by a plain `sbatch` loop and waited for (until none is left
// in squeue), in the same run of this script. Slurm schedules on a one-second tick, so both are
// bounded by its throughput; the ratio says what Trellis adds (the job script, the runner's
// submissions, squeue polls and records; tests of `true` run as shell jobs, with no Node start on
// the node: docs/launchers.md). Needs a running Slurm (../shared/slurm, with
// SLURM_CI_OVERSUBSCRIBE=8 for the figures in docs/benchmarks.md). Target: ratio ≤ 1.2.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { CLI, figure, header, makeTempDir, median, requireBuild, timeOk, verdict } from './common.mjs';
import { mkdirSync, writeFileSync } from 'node:fs';

const N = Number(process.env.BENCH_SLURM_JOBS ?? 200);
const REPS = Number(process.env.BENCH_REPS ?? 2);
const TARGET = 1.2;

requireBuild();
try {
  execFileSync('scontrol', ['ping'], { stdio: 'ignore' });
} catch {
  console.error('bench: Slurm does not answer; start it with ../shared/slurm/start-slurm.sh (SLURM_CI_OVERSUBSCRIBE=8)');
  process.exit(1);
}
const tmp = makeTempDir('slurm');
const area = path.join(tmp, 'area');
mkdirSync(path.join(area, 'tests'), { recursive: true });
writeFileSync(
  path.join(area, 'trellis.config'),
  `[fields]\nOS\n\n[setup]\nmax_concurrent_jobs ${N}\n\n[jobtools]\nlauncher slurm\n\n[server]\nbind 127.0.0.1\n`,
);
writeFileSync(path.join(area, 'runconfigs.config'), '[linux]\n');
for (let i = 0; i < N; i++) {
  const dir = path.join(area, 'tests', `t${String(i).padStart(3, '0')}`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'testconfig'), '[ezsteps]\nt true\n');
}

function activeCount(ids) {
  const r = spawnSync('squeue', ['-h', '-j', ids.join(','), '-o', '%i'], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return r.status === 0 ? r.stdout.split('\n').filter((l) => l.trim() !== '').length : 0;
}

/**
 * The floor: N `sbatch --wrap true`, then wait until Slurm has none of them left. With `wrap`
 * `node -e 0`, the second peer: what one Node start per job costs here (trellis exec is one).
 */
function sbatchLoop(rep, wrap = 'true') {
  const out = path.join(tmp, `loop${rep}-${wrap === 'true' ? 'true' : 'node'}`);
  mkdirSync(out);
  const t0 = performance.now();
  const ids = [];
  for (let i = 0; i < N; i++) {
    const id = execFileSync('sbatch', ['--parsable', '--job-name=bench', `--output=${out}/%j.out`, '--wrap', wrap], { encoding: 'utf8' })
      .trim()
      .split(';')[0];
    ids.push(id);
  }
  // squeue every 50 ms: the resolution of the floor, far under Slurm's one-second tick.
  while (activeCount(ids) > 0) spawnSync('sleep', ['0.05']);
  return performance.now() - t0;
}

function trellisRun(rep) {
  const r = timeOk('node', [CLI, 'run', '--area', area, '-t', 'linux', '-r', `rep${rep}`]);
  const m = /Run linux\/\S+: (\d+) tests and items \((\d+) ran\)/.exec(r.stdout);
  if (!m || Number(m[2]) !== N || !/All selected tests passed/.test(r.stdout))
    throw new Error(`expected ${N} to pass:\n${r.stdout.slice(-800)}\n${r.stderr.slice(-800)}`);
  return r.ms;
}

header(`slurm launcher: ${N} tests of \`true\` vs a plain sbatch loop, median of ${REPS}`);
const floor = [];
const nodeLoop = [];
const trellis = [];
for (let rep = 1; rep <= REPS; rep++) {
  floor.push(sbatchLoop(rep));
  nodeLoop.push(sbatchLoop(rep, `${process.execPath} -e 0`));
  trellis.push(trellisRun(rep));
  console.log(
    `  rep ${rep}: sbatch loop ${(floor.at(-1) / 1000).toFixed(1)} s, of node -e 0 ${(nodeLoop.at(-1) / 1000).toFixed(1)} s, trellis ${(trellis.at(-1) / 1000).toFixed(1)} s`,
  );
}
figure(`sbatch loop, ${N} jobs of true submitted and gone (wall)`, median(floor) / 1000, 's');
figure(`sbatch loop, ${N} jobs of node -e 0 (wall)`, median(nodeLoop) / 1000, 's');
figure(`trellis run --launcher slurm, ${N} tests (wall)`, median(trellis) / 1000, 's');
figure('ratio node -e 0 loop / sbatch loop (a Node start per job)', median(nodeLoop) / median(floor), '×');
figure('ratio trellis / node -e 0 loop', median(trellis) / median(nodeLoop), '×');
verdict('ratio trellis / sbatch loop', median(trellis) / median(floor), TARGET, '×', 2);
