/**
 * kill -9 at a random point of a 300-test run: of the runner (then the run is run again, as a
 * user would), of the server (the runner must carry on through another), of `trellis exec` (a
 * launcher command runs each test through exec; then the run is run again). Each test's one step
 * appends its name to a marks file; every tenth test waits on the one before it.
 *
 * Counted per round, from the marks and the SQLite files:
 * - lost: a test not COMPLETED/PASS in the end (its result never recorded)
 * - doubled: a test whose step ran to its end more than once (a finished test run again)
 * - corrupt: a PASS with no mark, a dependent that ran before its prerequisite ended, step rows or
 *   the run's summary not matching its tests, a database failing SQLite's quick_check
 * - crashes: a trellis command (other than the one killed) with exit 70 or a stack trace
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  cli,
  damagedDatabases,
  isAlive,
  isCrash,
  randomInt,
  readRun,
  serverPids,
  startCli,
  stopServersUnder,
  TARGET,
  waitUntil,
  writeArea,
  type CliResult,
  type Scenario,
  type ScenarioContext,
  type Tally,
} from './fault-kit.js';

const TESTS = 300;
const name = (i: number) => `t${String(i).padStart(3, '0')}`;

/** The area of `count` tests; `config` adds to trellis.config (a launcher for the exec scenario). */
function writeKillArea(dir: string, config: string, count: number): string {
  const tests: Record<string, string> = {};
  for (let i = 1; i <= count; i++) {
    const waiton = i % 10 === 0 ? `[requirements]\nwaiton ${name(i - 1)}\n\n` : '';
    tests[name(i)] = `${waiton}[ezsteps]\nmark echo "$MT_TEST_NAME" >> "$MT_RUN_AREA_HOME/marks-$MT_RUNNAME"\n`;
  }
  return writeArea(dir, tests, config);
}

function readMarks(file: string): string[] {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  } catch {
    return [];
  }
}

/** Everything a round must leave: each test PASS once, in order, with matching rows and summary. */
function checkRound(tally: Tally, area: string, runname: string, count: number, what: string): void {
  const runArea = path.join(area, 'runs');
  const marks = readMarks(path.join(area, `marks-${runname}`));
  const stored = readRun(runArea, runname);
  if (typeof stored === 'string') {
    tally.add('corrupt', 1, `${what}: cannot read the run: ${stored}`);
    return;
  }
  const times = new Map<string, number>();
  const first = new Map<string, number>();
  marks.forEach((m, i) => {
    times.set(m, (times.get(m) ?? 0) + 1);
    if (!first.has(m)) first.set(m, i);
  });
  const notPass = stored.tests.filter((t) => t.state !== 'COMPLETED' || t.status !== 'PASS');
  const missing = count - stored.tests.length;
  tally.add(
    'lost',
    notPass.length + Math.max(0, missing),
    `${what}: ${notPass.length} not COMPLETED/PASS (${notPass
      .slice(0, 3)
      .map((t) => `${t.testname} ${t.state}/${t.status}`)
      .join(', ')}), ${missing} rows missing`,
  );
  const twice = [...times].filter(([, n]) => n > 1);
  tally.add(
    'doubled',
    twice.reduce((s, [, n]) => s + n - 1, 0),
    `${what}: finished tests run again: ${twice
      .slice(0, 5)
      .map(([t, n]) => `${t}×${n}`)
      .join(', ')}${twice.length > 5 ? ', …' : ''}`,
  );
  const unmarked = stored.tests.filter((t) => t.status === 'PASS' && !times.has(t.testname));
  tally.add(
    'corrupt',
    unmarked.length,
    `${what}: PASS without its step having run: ${unmarked
      .slice(0, 3)
      .map((t) => t.testname)
      .join(', ')}`,
  );
  let early = 0;
  for (let i = 10; i <= count; i += 10) {
    const dep = first.get(name(i));
    const pre = first.get(name(i - 1));
    if (dep !== undefined && (pre === undefined || pre > dep)) early++;
  }
  tally.add('corrupt', early, `${what}: dependents that ran before their prerequisite ended`);
  const badSteps = stored.tests.filter((t) => t.steps !== 1);
  tally.add(
    'corrupt',
    badSteps.length,
    `${what}: tests without exactly one step row: ${badSteps
      .slice(0, 3)
      .map((t) => `${t.testname}:${t.steps}`)
      .join(', ')}`,
  );
  const summaryOk = stored.total === count && stored.counts['PASS'] === count - notPass.length && stored.state === 'done';
  if (!summaryOk) tally.add('corrupt', 1, `${what}: main.db says ${stored.state}, total ${stored.total}, ${JSON.stringify(stored.counts)}`);
  const damaged = damagedDatabases(runArea);
  tally.add('corrupt', damaged.length, `${what}: quick_check fails on ${damaged.join(', ')}`);
}

function noteCrash(tally: Tally, r: CliResult, what: string): void {
  if (isCrash(r)) tally.add('crashes', 1, `${what}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
}

/** Pids of `trellis exec` processes working for `area`. */
function execPids(area: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (/trellis\.js\0exec\0/.test(cmd) && cmd.includes(area)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

type Victim = 'runner' | 'server' | 'exec';

/** One round: start the run, wait for `k` marks, kill the victim, finish the run, check. */
async function round(tally: Tally, area: string, runname: string, victim: Victim, count: number, ctx: ScenarioContext): Promise<void> {
  const marksFile = path.join(area, `marks-${runname}`);
  const runArea = path.join(area, 'runs');
  const k = randomInt(Math.min(10, count / 6), count - Math.min(10, count / 6));
  const run = startCli(['run', '-t', TARGET, '-r', runname, '--area', area]);
  let ended = false;
  void run.done.then(() => (ended = true));
  const reached = await waitUntil(() => ended || readMarks(marksFile).length >= k, Math.max(60_000, ctx.deadline - Date.now() + 120_000));
  let killed = 'nothing (the run ended first)';
  if (reached && !ended) {
    const pids = victim === 'runner' ? [run.child.pid!] : victim === 'server' ? serverPids(runArea) : execPids(area);
    const pid = pids[randomInt(0, pids.length - 1)];
    if (pid !== undefined) {
      process.kill(pid, 'SIGKILL');
      killed = `${victim} pid ${pid} after ${readMarks(marksFile).length} marks`;
      await waitUntil(() => !isAlive(pid), 10_000);
    }
  }
  const first = await run.done;
  if (victim !== 'runner') noteCrash(tally, first, `${runname}: the run`);
  ctx.log(`  ${runname}: killed ${killed}; the run exited ${first.code ?? first.signal}`);
  if (victim !== 'server') {
    // As a user would: run it again; what completed is kept, the rest runs.
    const again = await cli(['run', '-t', TARGET, '-r', runname, '--area', area]);
    noteCrash(tally, again, `${runname}: the run again`);
  }
  checkRound(tally, area, runname, count, `${runname} (${killed})`);
}

function killScenario(label: string, victim: Victim, config: string, weight: number, count = TESTS): Scenario {
  return {
    name: label,
    weight,
    planned: (rounds) => rounds,
    async run(tally, ctx) {
      const area = writeKillArea(path.join(ctx.dir, 'area'), config, count);
      try {
        // A round is not started when the last one says it would not end within the budget.
        let lastMs = 0;
        for (let i = 1; i <= ctx.rounds && (i === 1 || Date.now() + lastMs < ctx.deadline); i++) {
          const t0 = Date.now();
          await round(tally, area, `${victim[0]}${i}`, victim, count, ctx);
          lastMs = Date.now() - t0;
          tally.tries++;
        }
      } finally {
        stopServersUnder(area);
      }
    },
  };
}

export const KILL_SCENARIOS: Scenario[] = [
  killScenario('kill -9 of the runner, 300-test run', 'runner', '', 3),
  killScenario('kill -9 of the server, 300-test run', 'server', '', 3),
  // Every test through `trellis exec` on this host: `env` is the launcher command (a prefix). Each
  // exec is a Node start, so a round takes about a minute on a quiet 2-core machine: its 20 rounds
  // want `--only exec --budget 1500` (docs/reliability.md).
  killScenario('kill -9 of exec, 300-test run', 'exec', '\n[jobtools]\nlauncher env\n', 3),
];
