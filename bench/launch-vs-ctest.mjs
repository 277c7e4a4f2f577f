// Launch overhead against CTest (issue #16 item 1): 1,000 tests, each one script that runs `true`,
// the same scripts for both. `ctest -j2` on a CMake project that adds each script as a test, and
// `trellis run -j 2` of an area whose tests run the same scripts, with --direct and through a
// warm server. Rounds interleave them; the figure is each Trellis median over CTest's median
// (target ≤ 1.0). Configuring the CMake project is not timed (a build does it once), nor is
// starting the server. Needs `ctest` (Debian's cmake); without it the script says so and stops.
// Also in the rounds, a floor: a bare Node program doing only what any launcher that keeps the
// design's per-test record must do (design §3: each test's work folder with its files copied and
// its step's log), nothing else — make the folder, copy the testconfig, open the log, spawn the
// step's `sh -c` into it, two at a time. No database, no state, no scheduling: the least a
// Trellis run can cost, so Trellis / floor says what is left to win and floor / CTest what cannot be.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, figure, header, makeTempDir, median, requireBuild, timeOk, verdict, writeArea } from './common.mjs';

const N = Number(process.env.BENCH_N ?? 1000);
const REPS = Number(process.env.BENCH_REPS ?? 3);

requireBuild();
if (spawnSync('ctest', ['--version']).error) {
  console.log('ctest is not installed (apt-get install cmake): nothing to compare with');
  process.exit(0);
}
const tmp = makeTempDir('ctest');
const scripts = path.join(tmp, 'scripts');
mkdirSync(scripts);
const names = Array.from({ length: N }, (_, i) => `t${String(i).padStart(4, '0')}`);
for (const n of names) {
  const file = path.join(scripts, `${n}.sh`);
  writeFileSync(file, '#!/bin/sh\ntrue\n');
  chmodSync(file, 0o755);
}

// CTest: one add_test per script.
const project = path.join(tmp, 'cmake');
mkdirSync(project);
writeFileSync(
  path.join(project, 'CMakeLists.txt'),
  `cmake_minimum_required(VERSION 3.10)\nproject(launch NONE)\nenable_testing()\n${names.map((n) => `add_test(NAME ${n} COMMAND ${path.join(scripts, `${n}.sh`)})`).join('\n')}\n`,
);
const build = path.join(tmp, 'build');
timeOk('cmake', ['-S', project, '-B', build]);

// Trellis: one test per script, its one step running it.
const area = writeArea(path.join(tmp, 'area'), {
  tests: Object.fromEntries(names.map((n) => [n, `[ezsteps]\nrun ${path.join(scripts, `${n}.sh`)}\n`])),
});
const env = { ...process.env };
delete env.TRELLIS_DIRECT;

// The floor: per test, the work folder, its testconfig copied, its log, its step spawned.
const floorScript = path.join(tmp, 'floor.mjs');
writeFileSync(
  floorScript,
  `import { spawn } from 'node:child_process';
import { copyFileSync, closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
const [area, out] = process.argv.slice(2);
const names = ${JSON.stringify(names)};
let next = 0;
const one = () => {
  if (next >= names.length) return;
  const name = names[next++];
  const dir = path.join(out, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(area, 'tests', name, 'testconfig'), path.join(dir, 'testconfig'));
  const fd = openSync(path.join(dir, 'run.log'), 'w');
  const child = spawn('/bin/sh', ['-c', ${JSON.stringify(scripts + path.sep)} + name + '.sh'], { cwd: dir, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.on('exit', one);
};
one();
one();
`,
);
let floors = 0;
function floor() {
  const out = path.join(tmp, `floor${floors++}`);
  const ms = timeOk('node', [floorScript, area, out]).ms;
  rmSync(out, { recursive: true, force: true });
  return ms;
}

function ctest() {
  const r = timeOk('ctest', ['--test-dir', build, '-j2', '-Q']);
  return r.ms;
}
let runs = 0;
function trellis(direct) {
  const args = [CLI, 'run', '--area', area, '-t', 'linux', '-r', `r${runs++}`, '-j', '2', ...(direct ? ['--direct'] : [])];
  const r = timeOk('node', args, { env });
  const m = /Run linux\/\S+: (\d+) tests and items \((\d+) ran\)/.exec(r.stdout);
  if (!m || Number(m[2]) !== N) throw new Error(`expected ${N} to run:\n${r.stdout.slice(-500)}`);
  return r.ms;
}

header(`launch vs CTest: ${N} tests of a script running \`true\`, -j 2, median of ${REPS}`);
timeOk('node', [CLI, 'server', 'start', '--area', area], { env });
// One of each first: caches warm, the server's code hot.
ctest();
floor();
trellis(true);
trellis(false);
const times = { ctest: [], floor: [], direct: [], server: [] };
for (let rep = 0; rep < REPS; rep++) {
  times.ctest.push(ctest());
  times.floor.push(floor());
  times.direct.push(trellis(true));
  times.server.push(trellis(false));
}
timeOk('node', [CLI, 'server', 'stop', '--all', '--area', area], { env });

const c = median(times.ctest);
const f = median(times.floor);
figure('ctest -j2 (ms)', c, 'ms', 0);
figure('floor: folder, testconfig, log, spawn (ms)', f, 'ms', 0);
figure('trellis run --direct (ms)', median(times.direct), 'ms', 0);
figure('trellis run through a warm server (ms)', median(times.server), 'ms', 0);
const ok1 = verdict('ratio --direct / ctest', median(times.direct) / c, 1.0, '×', 2);
const ok2 = verdict('ratio through a server / ctest', median(times.server) / c, 1.0, '×', 2);
figure('floor / ctest (no launcher of this design wins it)', f / c, '×', 2);
figure('trellis --direct / floor', median(times.direct) / f, '×', 2);
figure('trellis through a server / floor', median(times.server) / f, '×', 2);
figure('  per test: ctest', c / N, 'ms', 2);
figure('  per test: floor', f / N, 'ms', 2);
figure('  per test: trellis through a server', median(times.server) / N, 'ms', 2);
console.log(`\n${[ok1, ok2].filter(Boolean).length} of 2 targets met`);
