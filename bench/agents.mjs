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
// Where the time goes (Linux): the CPU each process used per test in each kind of run (runner and
// its steps, server, agents and their steps), read from /proc before and after every run, and the
// jobs' claimed → ended time from main.db.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { CLI, figure, fmt, header, makeTempDir, median, requireBuild, ROOT, timeOk, verdict, writeArea } from './common.mjs';

const N = Number(process.env.BENCH_AGENT_TESTS ?? 500);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
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

// Agents left running when the bench fails are killed on exit (the server is stopped by
// makeTempDir's clean-up).
const started = new Set();
process.on('exit', () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts `trellis agent`; resolves once it has registered. */
function startAgent(name, slots) {
  const child = spawn(process.execPath, [CLI, 'agent', '--area', area, '--name', name, '--slots', String(slots)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
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

/**
 * CPU ms a process used, its waited-for children included (utime stime cutime cstime), or with
 * `childrenOnly` those children's alone; NaN off Linux. Clock ticks are taken as 100 a second.
 */
function cpuMs(pid, childrenOnly = false) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    return ((childrenOnly ? 0 : f[11] + f[12]) + f[13] + f[14]) * 10;
  } catch {
    return Number.NaN;
  }
}

/** The pid of the run area's server, from its packet. */
function serverPid() {
  const meta = path.join(area, 'runs', '.meta');
  for (const f of readdirSync(meta).filter((n) => n.endsWith('.pkt'))) return JSON.parse(readFileSync(path.join(meta, f), 'utf8')).pid;
  throw new Error(`no server packet in ${meta}`);
}

/** One timed run, and the CPU ms each process used for it (this script's waited children = the runner). */
function timedRun(runname, launcher, jobs) {
  const srv = serverPid();
  const before = { runner: cpuMs('self', true), server: cpuMs(srv), agents: agentsCpu() };
  const ms = cli('run', '-t', 'linux', '-r', runname, '-p', 'many', '--launcher', launcher, '-j', String(jobs)).ms;
  const after = { runner: cpuMs('self', true), server: cpuMs(srv), agents: agentsCpu() };
  return { ms, cpu: Object.fromEntries(Object.keys(before).map((k) => [k, after[k] - before[k]])) };
}
/** An agent's CPU with its live children's (its step spawner, whose reaped steps count in it). */
const withChildren = (pid) => {
  let kids = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    // no such file (older kernels): the agent alone
  }
  return kids.reduce((sum, k) => sum + cpuMs(k), cpuMs(pid));
};
const agentsCpu = () => agents.reduce((sum, a) => sum + withChildren(a.child.pid), 0);

cli('server', 'start');
let agents = [startAgent('b1', 2), startAgent('b2', 2)];
await Promise.all(agents.map((a) => a.ready));
cli('run', '-t', 'linux', '-r', 'warm', '-p', 'many', '--launcher', 'agents');

const viaAgents = [];
const local = [];
for (let i = 0; i < ROUNDS; i++) {
  viaAgents.push(timedRun(`a${i}`, 'agents', 8));
  local.push(timedRun(`l${i}`, 'local', 4));
  console.log(`  round ${i + 1}: agents ${fmt(viaAgents.at(-1).ms, 0)} ms, local ${fmt(local.at(-1).ms, 0)} ms (load ${loadNow()})`);
}
const loadAfterRuns = loadNow();
await Promise.all(agents.map((a) => a.stop()));

// One idle agent: each test of the chain is queued when the one before it ends.
agents = [startAgent('idle', 1)];
await agents[0].ready;
cli('run', '-t', 'linux', '-r', 'chain', '-p', 'c%', '--launcher', 'agents');
await agents[0].stop();
const db = new Database(path.join(area, 'runs', '.db', 'main.db'), { readonly: true });
const runId = (name) => db.prepare(`SELECT id FROM runs WHERE runname = ?`).get(name).id;
const gaps = db
  .prepare(`SELECT (claimed - queued) * 1000 AS ms FROM job_queue WHERE run_id = ? AND claimed IS NOT NULL ORDER BY id`)
  .all(runId('chain'))
  .map((r) => r.ms);
// A job's time on its agent: claimed → the end the agent reported (it rides on the slot's next claim).
const onAgent = viaAgents.map((_, i) =>
  median(
    db
      .prepare(`SELECT (ended - claimed) * 1000 AS ms FROM job_queue WHERE run_id = ? AND ended IS NOT NULL`)
      .all(runId(`a${i}`))
      .map((r) => r.ms),
  ),
);
db.close();
const sorted = [...gaps].sort((a, b) => a - b);

const a = median(viaAgents.map((r) => r.ms));
const l = median(local.map((r) => r.ms));
const cpuPerTest = (runs, k) => median(runs.map((r) => r.cpu[k])) / N;
console.log(`\nload average during the timed runs (at their end): ${loadAfterRuns}`);
console.log(`--launcher agents (ms): ${viaAgents.map((x) => fmt(x.ms, 0)).join(' ')}`);
console.log(`--launcher local  (ms): ${local.map((x) => fmt(x.ms, 0)).join(' ')}`);
figure(`${N} tests, 2 agents × 2 slots, median`, a, 'ms', 0);
figure(`${N} tests, --launcher local -j 4, median`, l, 'ms', 0);
verdict('agents / local', a / l, 1.3, '×', 2);
// Each round's two runs are next to each other in time: their ratio is the steadier one when other
// work on the machine comes and goes during the bench.
figure("agents / local, median of the rounds' ratios", median(viaAgents.map((r, i) => r.ms / local[i].ms)), '×', 2);
verdict(`queued → claimed by an idle agent, median of ${gaps.length}`, median(gaps), 100, 'ms');
figure('queued → claimed, p90', sorted[Math.floor(sorted.length * 0.9)] ?? Number.NaN, 'ms');
console.log('where the time goes (medians over the rounds):');
figure('  wall per test per slot, agents', (a * 4) / N, 'ms', 2);
figure('  wall per test per slot, local', (l * 4) / N, 'ms', 2);
figure('  job claimed → its end reported, agents', median(onAgent), 'ms', 2);
for (const [k, what] of [
  ['runner', 'runner + its steps'],
  ['server', 'server'],
  ['agents', 'both agents + their steps'],
]) {
  console.log(
    `${`  CPU per test, ${what}`.padEnd(44)} ${fmt(cpuPerTest(viaAgents, k), 2).padStart(9)} ms agents, ${fmt(cpuPerTest(local, k), 2)} ms local`,
  );
}
const total = (runs) => ['runner', 'server', 'agents'].reduce((s, k) => s + cpuPerTest(runs, k), 0);
console.log(
  `${'  CPU per test, all'.padEnd(44)} ${fmt(total(viaAgents), 2).padStart(9)} ms agents, ${fmt(total(local), 2)} ms local (${os.availableParallelism()} CPUs)`,
);

function loadNow() {
  return os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}
