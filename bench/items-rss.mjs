// Memory of a big items run: `trellis run` of one test with 10,000 items (step `true`, -j 2),
// peak RSS of the CLI process and wall time. Peak RSS comes from `/usr/bin/time -v` when it is
// installed, else from polling /proc/<pid>/status every 50 ms (max of VmHWM and VmRSS).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, figure, header, makeTempDir, requireBuild, runAsync, verdict, writeArea } from './common.mjs';

const N = 10_000;
const TARGET_MB = 300;
const POLL_MS = 50;

requireBuild();
const tmp = makeTempDir('items');
const values = Array.from({ length: N }, (_, i) => i + 1).join(' ');
const area = writeArea(path.join(tmp, 'area'), { tests: { many: `[items]\nI ${values}\n\n[ezsteps]\nt true\n` } });
const runArgs = [CLI, 'run', '--area', area, '-t', 'linux', '-r', 'rss', '-j', '2'];
const useTime = process.argv.includes('--poll') ? false : existsSync('/usr/bin/time');

/** Peak RSS in kB read from /proc while the child runs; the last read is just before exit. */
function pollPeak(child, peak) {
  const read = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      for (const key of ['VmHWM', 'VmRSS']) {
        const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
        if (m) peak.kB = Math.max(peak.kB, Number(m[1]));
      }
    } catch {
      // gone between polls: the last reading stands
    }
  };
  read();
  const timer = setInterval(read, POLL_MS);
  return () => clearInterval(timer);
}

header(`items RSS: 1 test × ${N} items of \`true\`, -j 2`);
let r;
let peakKB;
let method;
if (useTime) {
  method = '/usr/bin/time -v (max RSS of the CLI process)';
  r = await runAsync('/usr/bin/time', ['-v', 'node', ...runArgs]);
  peakKB = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? NaN);
} else {
  method = `polling /proc/<pid>/status every ${POLL_MS} ms (max of VmHWM, VmRSS)`;
  const peak = { kB: 0 };
  r = await runAsync('node', runArgs, {}, (child) => pollPeak(child, peak));
  peakKB = peak.kB;
}
if (r.code !== 0 || !new RegExp(`\\(${N} ran\\)`).test(r.stdout)) {
  throw new Error(`trellis run failed (${r.code}):\n${r.stdout.slice(-1000)}\n${r.stderr.slice(-2000)}`);
}
console.log(`method: ${method}`);
figure('wall time', r.ms / 1000, 's', 1);
figure('per item (wall / items)', r.ms / N, 'ms', 2);
verdict('peak RSS of trellis run', peakKB / 1024, TARGET_MB, 'MB', 0);
