// In-test helpers (issue 11): 100 `$MT_MEGATEST -step` calls made by one test's runscript, against
// 100 starts of `node -e 0` made by the same kind of script in the same run. Each script times its
// own loop (date +%s%N before and after), so the run's start and end are not counted. Also: 100
// `trellis step` calls (the same channel through bin/trellis), and, for reference, 100 calls of the
// old path (Node starting, then a call to the run area's server) with the channel switched off.
// Target: the -step calls take at most 0.2 of the node starts' wall. Median of 3 runs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, figure, header, makeTempDir, median, requireBuild, timeOk, verdict, writeArea } from './common.mjs';

const N = 100;
const REPS = 3;
const TARGET = 0.2;

requireBuild();
const tmp = makeTempDir('in-test');

/** A runscript that times a loop of N runs of `body` (with $i) into $MT_TEST_RUN_DIR/loop.ms. */
const timed = (body) => `#!/bin/sh
t0=$(date +%s%N)
i=0
while [ $i -lt ${N} ]; do
  i=$((i + 1))
  ${body} || exit 1
done
t1=$(date +%s%N)
echo $(( (t1 - t0) / 1000 )) > "$MT_TEST_RUN_DIR/loop.us"
`;

const LOOPS = {
  megatest: timed('$MT_MEGATEST -step s$i :state end :status 0'),
  trellis: timed('trellis step s$i --state end --status PASS'),
  node: timed('node -e 0'),
  oldpath: timed('env -u TRELLIS_CHANNEL trellis step s$i --state end --status PASS'),
};
const area = writeArea(path.join(tmp, 'area'), {
  maxJobs: 1,
  tests: Object.fromEntries(Object.keys(LOOPS).map((name) => [name, '[setup]\nrunscript loop.sh\n'])),
});
for (const [name, text] of Object.entries(LOOPS)) {
  const file = path.join(area, 'tests', name, 'loop.sh');
  timeOk('sh', ['-c', `cat > '${file}' && chmod +x '${file}'`], { input: text });
}

/** One run of every test, one at a time (-j 1: the loops never share the CPUs with each other). */
function runOnce(rep) {
  timeOk('node', [CLI, 'run', '--area', area, '-t', 'linux', '-r', `rep${rep}`, '-j', '1']);
  const ms = {};
  for (const name of Object.keys(LOOPS)) {
    ms[name] = Number(readFileSync(path.join(area, 'runs', 'linux', `rep${rep}`, name, 'loop.us'), 'utf8')) / 1000;
  }
  return ms;
}

header(`in-test helpers: ${N} calls from one runscript, against ${N} starts of node -e 0; median of ${REPS}`);
const runs = Array.from({ length: REPS }, (_, i) => runOnce(i + 1));
const med = (name) => median(runs.map((r) => r[name]));
for (const name of Object.keys(LOOPS)) {
  console.log(`  ${name.padEnd(9)} ${runs.map((r) => `${r[name].toFixed(0)} ms`).join(', ')}`);
}
figure(`${N} starts of node -e 0 (the floor's peer)`, med('node'), 'ms', 0);
figure(`${N} $MT_MEGATEST -step calls`, med('megatest'), 'ms', 0);
figure(`${N} trellis step calls (channel)`, med('trellis'), 'ms', 0);
figure(`${N} trellis step calls (Node + server)`, med('oldpath'), 'ms', 0);
figure('per -step call', med('megatest') / N, 'ms', 2);
verdict('-step calls / node -e 0 starts', med('megatest') / med('node'), TARGET, '×', 3);
verdict('trellis step calls / node -e 0 starts', med('trellis') / med('node'), TARGET, '×', 3);
figure('old path / channel (trellis step)', med('oldpath') / med('trellis'), '×', 1);
