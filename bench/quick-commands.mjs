// Quick commands against a bare Node start: `trellis --help`, `list runs`, `show`, `server ping`
// (the last three through a warm server, as people and scripts meet them) and `node -e 0`, wall
// time of the whole process, interleaved round by round (each round runs every command once, in a
// rotating order) so that the machine's drift falls on all of them alike. Median of ROUNDS.
// The in-test helpers (`trellis step`, `set-value`, …) start no Node at all: bench/in-test.mjs.
// Target (issue 16): each ≤ 1.5 × `node -e 0`.
import path from 'node:path';
import { CLI, figure, header, makeTempDir, median, requireBuild, timeOk, verdict } from './common.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const TARGET = 1.5;

requireBuild();
const tmp = makeTempDir('quick');
const area = path.join(tmp, 'area');
timeOk('node', [CLI, 'init', area]);
const at = ['--area', area];
const run = ['-t', 'linux/x86_64', '-r', 'first'];
timeOk('node', [CLI, 'run', ...at, ...run]);

const commands = [
  { label: 'node -e 0', args: ['-e', '0'] },
  { label: 'trellis --help', args: [CLI, '--help'] },
  { label: 'trellis list runs', args: [CLI, 'list', 'runs', ...at] },
  { label: 'trellis show TEST', args: [CLI, 'show', ...at, ...run, 'hello'] },
  { label: 'trellis server ping', args: [CLI, 'server', 'ping', ...at] },
];
// One unmeasured round: page cache, the server's first answers.
for (const c of commands) timeOk('node', c.args);
const times = commands.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < commands.length; k++) {
    const i = (round + k) % commands.length;
    times[i].push(timeOk('node', commands[i].args).ms);
  }
}
timeOk('node', [CLI, 'server', 'stop', '--all', ...at]);

header(`quick commands vs node -e 0, wall incl. Node start, median of ${ROUNDS} interleaved rounds`);
const floor = median(times[0]);
figure('node -e 0 (ms)', floor, 'ms');
commands.slice(1).forEach((c, k) => {
  figure(`${c.label} (ms)`, median(times[k + 1]), 'ms');
  verdict(`ratio ${c.label} / node -e 0`, median(times[k + 1]) / floor, TARGET, '×', 2);
});
