// The agent pool (issue 13), two figures:
// 1. 500 tests of `true` (one test of 500 items) over two `trellis agent` processes of 2 slots each,
//    wall time of `trellis run --launcher agents`, against the same run with `--launcher local -j 4`
//    in the same script, alternated ROUNDS times; medians and their ratio (target ≤ 1.3). The
//    agents' slots hold the run to 4 jobs at a time; the runner is given -j 8 so that the queue
//    holds the next jobs when a slot frees. Server and agents are started first and warm, as a
//    pool's are.
// 2. How soon an idle agent takes a job that became ready: a chain of CHAIN tests, each waiting on
//    the one before, through one idle agent; from main.db's job_queue, `claimed - queued` of each
//    job (median and p90; target ≤ 100 ms).
// Both agents and the runner share this machine's cores; on a real pool the agents' hosts are
// others. Figures are ratios against a peer measured here: process creation varies day to day.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CLI, figure, fmt, header, makeTempDir, median, requireBuild, ROOT, timeOk, verdict, writeArea } from './common.mjs';

const N = Number(process.env.BENCH_AGENT_TESTS ?? 500);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CHAIN = Number(process.env.CHAIN ?? 30);
requireBuild();
header(`agents: ${N} tests of true over 2 agents × 2 slots vs --launcher local -j 4; claim latency`);

const Database = createRequire(path.join(ROOT, 'package.json'))('better-sqlite3');
const dir = makeTempDir('agents');
const items = Array.from({ length: N }, (_, i) => i + 1).join(' ');
const chain = {};
for (let i = 1; i <= CHAIN; i++) chain[`c${i}`] = `${i > 1 ? `[requirements]\nwaiton c${i - 1}\n\n` : ''}[ezsteps]\nx true\n`;
const area = writeArea(path.join(dir, 'area'), { maxJobs: 8, tests: { many: `[items]\nN ${items}\n\n[ezsteps]\nx true\n`, ...chain } });
const env = { ...process.env, NO_COLOR: '1' };
const cli = (...args) => timeOk(process.execPath, [CLI, ...args, '--area', area], { env });

/** Starts `trellis agent`; resolves once it has registered. */
function startAgent(name, slots) {
  const child = spawn(process.execPath, [CLI, 'agent', '--area', area, '--name', name, '--slots', String(slots)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes(`agent ${name} on `)) resolve();
    });
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => reject(new Error(`agent ${name} exited ${code}:\n${out}`)));
  });
  ready.catch(() => undefined);
  return {
    child,
    ready,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('close', resolve);
        child.kill('SIGTERM');
      }),
  };
}

cli('server', 'start');
let agents = [startAgent('b1', 2), startAgent('b2', 2)];
await Promise.all(agents.map((a) => a.ready));
cli('run', '-t', 'linux', '-r', 'warm', '-p', 'many', '--launcher', 'agents');

const viaAgents = [];
const local = [];
for (let i = 0; i < ROUNDS; i++) {
  viaAgents.push(cli('run', '-t', 'linux', '-r', `a${i}`, '-p', 'many', '--launcher', 'agents', '-j', '8').ms);
  local.push(cli('run', '-t', 'linux', '-r', `l${i}`, '-p', 'many', '--launcher', 'local', '-j', '4').ms);
}
await Promise.all(agents.map((a) => a.stop()));

// One idle agent: each test of the chain is queued when the one before it ends.
agents = [startAgent('idle', 1)];
await agents[0].ready;
cli('run', '-t', 'linux', '-r', 'chain', '-p', 'c%', '--launcher', 'agents');
await agents[0].stop();
const db = new Database(path.join(area, 'runs', '.db', 'main.db'), { readonly: true });
const runId = db.prepare(`SELECT id FROM runs WHERE runname = 'chain'`).get().id;
const gaps = db
  .prepare(`SELECT (claimed - queued) * 1000 AS ms FROM job_queue WHERE run_id = ? AND claimed IS NOT NULL ORDER BY id`)
  .all(runId)
  .map((r) => r.ms);
db.close();
const sorted = [...gaps].sort((a, b) => a - b);

const a = median(viaAgents);
const l = median(local);
console.log(`--launcher agents (ms): ${viaAgents.map((x) => fmt(x, 0)).join(' ')}`);
console.log(`--launcher local  (ms): ${local.map((x) => fmt(x, 0)).join(' ')}`);
figure(`${N} tests, 2 agents × 2 slots, median`, a, 'ms', 0);
figure(`${N} tests, --launcher local -j 4, median`, l, 'ms', 0);
verdict('agents / local', a / l, 1.3, '×', 2);
verdict(`queued → claimed by an idle agent, median of ${gaps.length}`, median(gaps), 100, 'ms');
figure('queued → claimed, p90', sorted[Math.floor(sorted.length * 0.9)] ?? Number.NaN, 'ms');
