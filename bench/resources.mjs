// Shared resources (issue 12): how soon a test waiting for a resource starts after its holder
// gives it back, when the holder and the waiter are two runner processes (`trellis run` twice,
// one server). Measured from the holder's last step's end (`date +%s%N`, its last command) to the
// waiter's step start (`date +%s%N`, its first): the holder's runner sees its step exit and gives
// the share back through the server, the waiter's change feed long poll wakes, it claims the
// share and launches its test. The floor is the same hand-over inside one runner with no
// resource: test b waits on test a (`waiton`), from a's step end to b's step start. Median of
// TRIES tries each; target ≤ 200 ms.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, figure, fmt, header, makeTempDir, median, requireBuild, timeOk, verdict, writeArea } from './common.mjs';

const TRIES = Number(process.env.TRIES ?? 7);
const TARGET_MS = 200;

requireBuild();
header('resources: a waiter in another runner starts after the holder gives the share back');

const dir = makeTempDir('resources');
const area = writeArea(path.join(dir, 'area'), {
  maxJobs: 2,
  tests: {
    hold:
      '[requirements]\nresources deploy\n\n[ezsteps]\n' +
      'hold  while [ ! -e "$MT_RUN_AREA_HOME/go" ]; do sleep 0.005; done; rm -f "$MT_RUN_AREA_HOME/go"; ' +
      'date +%s%N > "$MT_RUN_AREA_HOME/$MT_RUNNAME.end"\n',
    use: '[requirements]\nresources deploy\n\n[ezsteps]\nuse  date +%s%N > "$MT_RUN_AREA_HOME/$MT_RUNNAME.start"\n',
    a: '[ezsteps]\na  date +%s%N > "$MT_RUN_AREA_HOME/$MT_RUNNAME.end"\n',
    b: '[requirements]\nwaiton a\n\n[ezsteps]\nb  date +%s%N > "$MT_RUN_AREA_HOME/$MT_RUNNAME.start"\n',
  },
});
writeFileSync(path.join(area, 'trellis.config'), `${readFileSync(path.join(area, 'trellis.config'), 'utf8')}\n[resources]\ndeploy 1\n`);
const env = { ...process.env, NO_COLOR: '1' };
const nanos = (name) => BigInt(readFileSync(path.join(area, name), 'utf8').trim());
/** ms from the step end recorded under run `from` to the step start recorded under run `to`. */
const gapMs = (from, to) => Number(nanos(`${to}.start`) - nanos(`${from}.end`)) / 1e6;

/** Starts `trellis run`; resolves with its output once it exits 0. */
function startRun(runname, pattern, onOutput = () => undefined) {
  const child = spawn(process.execPath, [CLI, 'run', '--area', area, '-t', 'linux', '-r', runname, '-p', pattern], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const done = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      onOutput(out);
    });
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`run ${runname} exited ${code}:\n${out}`))));
  });
  return { child, done };
}

// A warm server for both runners, as a user's runs would find it.
timeOk(process.execPath, [CLI, 'list', 'runs', '--area', area], { env });

const handOver = [];
for (let i = 0; i < TRIES; i++) {
  const holder = startRun(`h${i}`, 'hold');
  // The waiter is started once the holder holds the share, and the share is given back once the
  // waiter says it waits.
  await waitFor(() => existsSync(path.join(area, 'runs', 'linux', `h${i}`, 'hold')));
  let waiting;
  const seen = new Promise((resolve) => (waiting = resolve));
  const waiter = startRun(`w${i}`, 'use', (out) => /^WAITING +use/m.test(out) && waiting());
  await seen;
  writeFileSync(path.join(area, 'go'), '');
  await Promise.all([holder.done, waiter.done]);
  handOver.push(gapMs(`h${i}`, `w${i}`));
}

const floor = [];
for (let i = 0; i < TRIES; i++) {
  await startRun(`f${i}`, 'b').done;
  floor.push(gapMs(`f${i}`, `f${i}`));
}

const h = median(handOver);
const f = median(floor);
console.log(`hand-over tries (ms): ${handOver.map((x) => fmt(x)).join(' ')}`);
console.log(`floor tries (ms):     ${floor.map((x) => fmt(x)).join(' ')}`);
verdict('holder gives back → waiter starts, median', h, TARGET_MS, 'ms');
figure('floor: a ends → b (waiton a) starts, one runner', f, 'ms');
figure('hand-over / floor', h / f, '×', 2);

/** Resolves once `pred` holds, checking every 10 ms (a file another process writes). */
async function waitFor(pred) {
  while (!pred()) await new Promise((r) => setTimeout(r, 10));
}
