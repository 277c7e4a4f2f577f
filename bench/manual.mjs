// Tests parked on manual steps hold no job slot (issue #12): with -j 2, 100 ordinary tests run
// alone, then in a run where 100 tests already wait at a {manual} step (a first runner parked
// them and was stopped; the timed runner finds them parked and waits for their sign-offs).
// The time until the 100th ordinary test has ended should be the same (ratio ~1.00, ±10%).
// Prints both medians and their ratio.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, requireBuild, stopServersUnder } from './common.mjs';

requireBuild();
const N = 100;
const REPS = Number(process.env.BENCH_REPS ?? 5);

function makeArea(withGates) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-bench-manual-'));
  const write = (rel, text) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  write('trellis.config', '[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs 2\n\n[server]\nbind 127.0.0.1\n');
  write('runconfigs.config', '[default]\nX 1\n\n[linux/x86_64]\nY 1\n');
  for (let i = 0; i < N; i++) write(`tests/w${String(i).padStart(3, '0')}/testconfig`, '[ezsteps]\nwork sleep 0.05\n');
  if (withGates) {
    for (let i = 0; i < N; i++) {
      write(
        `tests/g${String(i).padStart(3, '0')}/testconfig`,
        '[requirements]\npriority 10\n[ezsteps]\nsign {manual} Approve gate\nafter true\n',
      );
    }
  }
  return dir;
}

/** Runs `trellis run -j 2 [extra]` until `enough(out)`, then Ctrl-C; resolves with the seconds that took. */
function runUntil(dir, extra, enough) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [CLI, 'run', '--area', dir, '-t', 'linux/x86_64', '-r', 'bench', '-j', '2', ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let seconds;
    child.stdout.on('data', (d) => {
      out += d.toString();
      if (seconds === undefined && enough(out)) {
        seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        // With gates the runner waits for their sign-offs: Ctrl-C leaves them parked.
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (d) => (out += d.toString()));
    child.on('close', (code) => (seconds === undefined ? reject(new Error(`run ended (${code}) early:\n${out}`)) : resolve(seconds)));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(withGates) {
  const times = [];
  for (let r = 0; r < REPS; r++) {
    const dir = makeArea(withGates);
    try {
      if (withGates) await runUntil(dir, ['-p', 'g%'], (out) => (out.match(/: WAITING for a sign-off/g) ?? []).length === N);
      // Alone, the area's server is started first too: both timed runs find it warm.
      else spawnSync(process.execPath, [CLI, 'server', 'start', '--area', dir], { stdio: 'ignore' });
      times.push(await runUntil(dir, [], (out) => (out.match(/^PASS\s+w\d+/gm) ?? []).length === N));
    } finally {
      stopServersUnder(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return median(times);
}

const alone = await measure(false);
const beside = await measure(true);
console.log(
  `manual: ${N} tests with -j 2: ${alone.toFixed(2)} s alone, ${beside.toFixed(2)} s beside ${N} tests parked on manual steps (median of ${REPS}); ratio ${(beside / alone).toFixed(2)}`,
);
