// Launch overhead: what `trellis run` adds per test over bare process launching.
// 1,000 tests whose only step is `true`, run -j 2, against `xargs -P2` running `sh -c true` 1,000
// times; overhead per test = (trellis wall - xargs wall) / 1000. Then the same 1,000 as items of one
// test. Median of 3 repetitions each.
import path from 'node:path';
import { CLI, figure, header, makeTempDir, median, requireBuild, timeOk, verdict, writeArea } from './common.mjs';

const N = 1000;
const REPS = 3;
const TARGET_MS = 3;

requireBuild();
const tmp = makeTempDir('launch');

const testsArea = writeArea(path.join(tmp, 'tests-area'), {
  tests: Object.fromEntries(Array.from({ length: N }, (_, i) => [`t${String(i).padStart(4, '0')}`, '[ezsteps]\nt true\n'])),
});
const values = Array.from({ length: N }, (_, i) => i + 1).join(' ');
const itemsArea = writeArea(path.join(tmp, 'items-area'), { tests: { many: `[items]\nN ${values}\n\n[ezsteps]\nt true\n` } });

/** One `trellis run` of the area under a fresh run name; returns wall ms. */
function runTrellis(area, runname) {
  const r = timeOk('node', [CLI, 'run', '--area', area, '-t', 'linux', '-r', runname, '-j', '2']);
  const m = /Run linux\/\S+: (\d+) tests and items \((\d+) ran\)/.exec(r.stdout);
  if (!m || Number(m[2]) !== N) throw new Error(`expected ${N} to run:\n${r.stdout.slice(-500)}`);
  return r.ms;
}

function runXargs() {
  return timeOk('sh', ['-c', `seq ${N} | xargs -P2 -I{} sh -c true`]).ms;
}

header(`launch overhead: ${N} tests of \`true\`, -j 2, median of ${REPS}`);
const xargs = [];
const tests = [];
const items = [];
for (let rep = 1; rep <= REPS; rep++) {
  xargs.push(runXargs());
  tests.push(runTrellis(testsArea, `rep${rep}`));
  items.push(runTrellis(itemsArea, `rep${rep}`));
  console.log(
    `  rep ${rep}: xargs ${xargs.at(-1).toFixed(0)} ms, trellis ${N} tests ${tests.at(-1).toFixed(0)} ms, ` +
      `trellis ${N} items ${items.at(-1).toFixed(0)} ms`,
  );
}
const xargsMs = median(xargs);
figure(`xargs -P2, ${N} × sh -c true (wall)`, xargsMs, 'ms', 0);
figure(`trellis run, ${N} tests (wall)`, median(tests), 'ms', 0);
figure(`trellis run, 1 test × ${N} items (wall)`, median(items), 'ms', 0);
verdict('overhead per test, tests', (median(tests) - xargsMs) / N, TARGET_MS, 'ms', 2);
verdict('overhead per test, items', (median(items) - xargsMs) / N, TARGET_MS, 'ms', 2);
