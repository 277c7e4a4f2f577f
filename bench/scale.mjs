// Scale (issue 16, items 3 and 4): a run of 100,000 tests and an area of 10,000 runs, through a
// server as users run them. Wall times include Node start; peak RSS of each CLI process comes from
// `/usr/bin/time -f %M` (else from polling /proc/<pid>/status), the server's and the dashboard's
// from their /proc/<pid>/status VmHWM (the server's read after each step, the dashboard's after it
// painted and after G and g). About 32 minutes at full size on 2 cores, most of it the two runs.
//   A. one run of SCALE_TESTS items (default 100,000) spread over SCALE_SPLIT tests (default 4),
//      each item one step `true`: `trellis run -j SCALE_JOBS` twice (two runs, server started
//      first), the first run again (everything COMPLETED: planning, registering and reading the
//      rows, nothing launched: the planning figure), then `list tests --json`, `report junit`,
//      `diff` of the two runs, the dashboard's first paint (in tmux, as bench/dashboard.mjs).
//      Targets: peak RSS of runner, server and dashboard ≤ 500 MB each.
//   B. SCALE_RUNS runs (default 10,000) of one area, each with one result of its one test: the
//      bulk opened, then fed, through the server's HTTP API (ensureRun, appendResult: what
//      `trellis run-open` and `trellis result` send), the last ones made by the CLI itself
//      (`run-open` + `result`, and `trellis run` of the test); the same for a peer area of 100
//      runs. `list runs`, `history t` and `check` timed on both areas in turn (ratio of the
//      medians; `list runs` ≤ 2.0), the dashboard opening on the newest run, and the disk used per
//      empty run, measured with the server stopped (≤ 24 KB).
// `node bench/scale.mjs A` or `B` runs one part. Knobs: SCALE_TESTS, SCALE_SPLIT, SCALE_JOBS,
// SCALE_RUNS, SCALE_REPS (rounds of the quick commands, default 5).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CLI,
  ROOT,
  figure,
  header,
  makeTempDir,
  matrixBody,
  median,
  requireBuild,
  runAsync,
  timeOk,
  timeSync,
  verdict,
  writeArea,
} from './common.mjs';

const TESTS = Number(process.env.SCALE_TESTS ?? 100_000);
const SPLIT = Number(process.env.SCALE_SPLIT ?? 4);
const JOBS = Number(process.env.SCALE_JOBS ?? 2);
const RUNS = Number(process.env.SCALE_RUNS ?? 10_000);
const REPS = Number(process.env.SCALE_REPS ?? 5);
/** Runs made by the CLI at each end of part B: `run-open` + `result` pairs, and `trellis run`s. */
const CLI_PAIRS = 10;
const CLI_RUNS = 5;
/** Requests in flight while part B fills the area through the server. */
const IN_FLIGHT = 4;
const RSS_TARGET_MB = 500;
const LIST_RATIO_TARGET = 2.0;
const EMPTY_RUN_TARGET_KB = 24;
const WIDTH = 160;
const HEIGHT = 50;

const ONLY = process.argv.slice(2).filter((a) => /^[AB]$/i.test(a));
const part = (p) => ONLY.length === 0 || ONLY.some((a) => a.toUpperCase() === p);

requireBuild();
const dist = (p) => path.join(ROOT, 'dist', 'src', p);
const { RemoteStore } = await import(dist('client/remote-store.js'));
const { shortHostname } = await import(dist('util/host.js'));
const tmp = makeTempDir('scale');
// Servers and the tmux server inherit this: no TRELLIS_DIRECT, no outer tmux.
const env = { ...process.env };
delete env.TRELLIS_DIRECT;
delete env.TMUX;
const useTime = existsSync('/usr/bin/time');
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const mb = (kB) => kB / 1024;

// ---------------------------------------------------------------------------------------------
// Processes and their memory

/** VmHWM and VmRSS of a live process, in kB. */
function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
}

/**
 * Runs `trellis ARGS` to its end: wall ms, peak RSS in kB, output. Throws when the exit code is
 * not one of `codes`, with the end of what it printed.
 */
async function trellis(args, { codes = [0] } = {}) {
  const argv = [CLI, ...args];
  let r;
  let peak = 0;
  if (useTime) {
    const out = path.join(tmp, 'time.out');
    r = await runAsync('/usr/bin/time', ['-f', '%M', '-o', out, process.execPath, ...argv], { env });
    // time writes "Command exited with non-zero status N" first when it did.
    peak = Number(readFileSync(out, 'utf8').trim().split('\n').at(-1));
  } else {
    r = await runAsync(process.execPath, argv, { env }, (child) => {
      const timer = setInterval(() => {
        try {
          peak = Math.max(peak, memory(child.pid).hwm);
        } catch {
          // exited between two reads
        }
      }, 50);
      return () => clearInterval(timer);
    });
  }
  if (!codes.includes(r.code)) {
    throw new Error(`trellis ${args.join(' ')} exited ${r.code ?? r.signal}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  }
  return { ...r, peakKB: peak };
}

/** The pid of the live server holding the area's lease. */
function serverPid(area) {
  const r = timeOk(process.execPath, [CLI, 'server', 'list', '--json', '--area', area], { env });
  const live = JSON.parse(r.stdout).find((s) => s.lease && s.status === 'live');
  if (!live) throw new Error(`no live server in ${area}:\n${r.stdout}`);
  return live.pid;
}

/** Blocks used under `dir` (du -sk), in kB. */
function diskKB(dir) {
  const r = spawnSync('du', ['-sk', dir], { encoding: 'utf8' });
  return Number(r.stdout.split('\t')[0]);
}

// ---------------------------------------------------------------------------------------------
// The dashboard in tmux (as bench/dashboard.mjs runs it): first paint from its own trace
// (TRELLIS_DASHBOARD_TRACE), wall time until the pane shows filled cells, VmHWM of its process.

const SOCK = `trellis-bench-scale-${process.pid}`;
const haveTmux = spawnSync('tmux', ['-V']).status === 0;
const quote = (s) => `'${String(s).replaceAll("'", `'\\''`)}'`;
let tmuxUp = false;

function tmux(...args) {
  const r = spawnSync('tmux', ['-L', SOCK, ...args], { encoding: 'utf8', env });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

function startTmux() {
  if (tmuxUp) return;
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'keep', '-x', String(WIDTH), '-y', String(HEIGHT), 'sleep 100000');
  tmux('set-option', '-g', 'remain-on-exit', 'on');
  const socketPath = tmux('display-message', '-p', '-t', 'keep', '#{socket_path}').trim();
  process.on('exit', () => {
    spawnSync('tmux', ['-L', SOCK, 'kill-server']);
    rmSync(socketPath, { force: true });
  });
  tmuxUp = true;
}

/** True when every line of the matrix's body ends in a cell (not `..`, not "loading..."). */
const filled = (text) => matrixBody(text) !== undefined;

const traceLines = (trace) => (existsSync(trace) ? readFileSync(trace, 'utf8').split('\n').filter(Boolean) : []);

/** The pane's node process (the command execs, so it is the pane's pid). */
function panePid(session) {
  return Number(tmux('list-panes', '-t', session, '-F', '#{pane_pid}').trim());
}

/**
 * Opens `trellis dashboard` on the area, waits until its cells show, presses `keys` one at a
 * time (each until the trace has its line), quits. Returns the trace's first paint, the wall
 * time, the run selected, VmHWM after the paint and at the end, and the keys' own times.
 */
async function dashboard(area, name, keys = []) {
  startTmux();
  const trace = path.join(tmp, `trace-${name}`);
  const cmd = `exec env TRELLIS_DASHBOARD_TRACE=${quote(trace)} ${quote(process.execPath)} ${quote(CLI)} dashboard --area ${quote(area)}`;
  const t0 = performance.now();
  tmux('new-session', '-d', '-s', name, '-x', String(WIDTH), '-y', String(HEIGHT), cmd);
  const capture = () => tmux('capture-pane', '-p', '-t', name);
  const until = async (done, what, timeoutMs = 300_000) => {
    const start = performance.now();
    for (;;) {
      const text = capture();
      if (done(text)) return text;
      if (performance.now() - start > timeoutMs) throw new Error(`dashboard: no ${what} after ${timeoutMs} ms; the pane shows:\n${text}`);
      await sleep(5);
    }
  };
  try {
    const text = await until(filled, 'filled cells');
    const wall = performance.now() - t0;
    await until(() => traceLines(trace).some((l) => l.startsWith('first-paint ')), 'first-paint trace line');
    const paintLine = traceLines(trace).find((l) => l.startsWith('first-paint '));
    const pid = panePid(name);
    const atPaint = memory(pid);
    const keyMs = [];
    for (const key of keys) {
      const before = traceLines(trace).filter((l) => l.startsWith('key ')).length;
      tmux('send-keys', '-t', name, key);
      await until(() => traceLines(trace).filter((l) => l.startsWith('key ')).length > before, `trace line for key ${key}`, 60_000);
      keyMs.push(
        Number(
          traceLines(trace)
            .filter((l) => l.startsWith('key '))
            [before].split(' ')[2],
        ),
      );
      await until(filled, `filled cells after ${key}`);
    }
    const end = memory(pid);
    return {
      paint: Number(paintLine.split(' ')[1]),
      wall,
      selected: /^ \S+ (\S+)/m.exec(text.split('\n')[1] ?? '')?.[1],
      atPaint,
      end,
      keyMs,
    };
  } finally {
    tmux('send-keys', '-t', name, 'q');
    const t1 = performance.now();
    while (tmux('display-message', '-p', '-t', name, '#{pane_dead}').trim() !== '1' && performance.now() - t1 < 5000) await sleep(20);
    tmux('kill-session', '-t', name);
  }
}

// ---------------------------------------------------------------------------------------------
// A. 100,000 tests in one run

async function partA() {
  const perTest = Math.ceil(TESTS / SPLIT);
  const total = perTest * SPLIT;
  const rows = total + SPLIT;
  console.log(
    `\n-- A. one run of ${total.toLocaleString('en-US')} items (${SPLIT} tests × ${perTest.toLocaleString('en-US')}), step \`true\`, -j ${JOBS}; load ${load()}`,
  );
  const tests = {};
  const values = Array.from({ length: perTest }, (_, i) => i + 1).join(' ');
  for (let t = 0; t < SPLIT; t++) tests[`t${t}`] = `[items]\nI ${values}\n\n[ezsteps]\nx true\n`;
  const area = writeArea(path.join(tmp, 'a'), { maxJobs: JOBS, tests });
  const a = (...args) => [...args, '--area', area];
  timeOk(process.execPath, [CLI, ...a('server', 'start')], { env });
  const spid = serverPid(area);
  const serverAfter = [];
  const sampleServer = (step) => serverAfter.push([step, memory(spid).hwm]);
  sampleServer('start');

  const ran = (r) => {
    if (!new RegExp(`\\(${total} ran\\)`).test(r.stdout)) throw new Error(`the run did not run all ${total}:\n${r.stdout.slice(-1500)}`);
  };
  const run1 = await trellis(a('run', '-t', 'linux', '-r', 'r1', '-j', String(JOBS)));
  ran(run1);
  sampleServer('run r1');
  console.log(`load ${load()}`);
  const run2 = await trellis(a('run', '-t', 'linux', '-r', 'r2', '-j', String(JOBS)));
  ran(run2);
  sampleServer('run r2');
  // Everything COMPLETED: plans, registers (finds every row there), reads the run, launches nothing.
  const plan = await trellis(a('run', '-t', 'linux', '-r', 'r1', '-j', String(JOBS)));
  if (!/\(0 ran\)/.test(plan.stdout)) throw new Error(`the run again launched something:\n${plan.stdout.slice(-1500)}`);
  sampleServer('run r1 again');
  console.log(`load ${load()}`);

  const list = await trellis(a('list', 'tests', '-t', 'linux', '-r', 'r2', '--json'));
  const listed = JSON.parse(list.stdout).length;
  if (listed !== rows) throw new Error(`list tests --json gave ${listed} rows, expected ${rows}`);
  sampleServer('list tests');
  const junit = await trellis(a('report', 'junit', '-t', 'linux', '-r', 'r2'));
  const cases = junit.stdout.split('<testcase ').length - 1;
  if (cases < total) throw new Error(`report junit had ${cases} cases, expected at least ${total}`);
  sampleServer('report junit');
  const diff = await trellis(a('diff', '-t', 'linux', '-r', 'r1', '-r', 'r2'));
  sampleServer('diff');

  let dash;
  if (haveTmux) {
    // G: to the last row (the last item of the last test), then g back to the top.
    dash = await dashboard(area, 'a', ['G', 'g']);
    sampleServer('dashboard');
  }
  const server = memory(spid);
  timeOk(process.execPath, [CLI, ...a('server', 'stop', '--all')], { env });

  console.log(
    `method: ${useTime ? '/usr/bin/time -f %M' : 'polling /proc/<pid>/status every 50 ms'} for the CLI; VmHWM for server and dashboard`,
  );
  figure(`trellis run r1 (${total} items), wall`, run1.ms / 1000, 's', 1);
  figure('  per item', run1.ms / total, 'ms', 2);
  figure(`trellis run r2, wall`, run2.ms / 1000, 's', 1);
  figure('  per item', run2.ms / total, 'ms', 2);
  figure('trellis run r1 again (all COMPLETED: plan, 0 ran)', plan.ms, 'ms', 0);
  figure(`list tests --json (${rows} rows), wall`, list.ms, 'ms', 0);
  figure(`report junit (${cases} cases), wall`, junit.ms, 'ms', 0);
  figure('diff r1 r2, wall', diff.ms, 'ms', 0);
  if (dash) {
    figure('dashboard first paint, trace', dash.paint, 'ms', 0);
    figure('  wall: tmux spawn → cells shown', dash.wall, 'ms', 0);
    figure('  G (to the last row) / g, trace', dash.keyMs[0] ?? Number.NaN, 'ms', 1);
    figure('  g, trace', dash.keyMs[1] ?? Number.NaN, 'ms', 1);
  } else console.log('dashboard: tmux is missing; not measured');
  verdict('peak RSS: trellis run r1', mb(run1.peakKB), RSS_TARGET_MB, 'MB', 0);
  verdict('peak RSS: trellis run r2', mb(run2.peakKB), RSS_TARGET_MB, 'MB', 0);
  verdict('peak RSS: trellis run r1 again (plan only)', mb(plan.peakKB), RSS_TARGET_MB, 'MB', 0);
  verdict('peak RSS: list tests --json', mb(list.peakKB), RSS_TARGET_MB, 'MB', 0);
  verdict('peak RSS: report junit', mb(junit.peakKB), RSS_TARGET_MB, 'MB', 0);
  verdict('peak RSS: diff', mb(diff.peakKB), RSS_TARGET_MB, 'MB', 0);
  if (dash) verdict('peak RSS: dashboard (VmHWM after G, g)', mb(dash.end.hwm), RSS_TARGET_MB, 'MB', 0);
  if (dash) figure('  VmHWM at first paint', mb(dash.atPaint.hwm), 'MB', 0);
  verdict('peak RSS: server (VmHWM at the end)', mb(server.hwm), RSS_TARGET_MB, 'MB', 0);
  console.log(`  server VmHWM after each step (MB): ${serverAfter.map(([s, kB]) => `${s} ${mb(kB).toFixed(0)}`).join(', ')}`);
  rmSync(area, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// B. 10,000 runs in one area

/**
 * An area of one test `t` whose runs are made as a script makes them, through the server's HTTP
 * API (ensureRun, then appendResult: what `trellis run-open` and `trellis result` send), IN_FLIGHT
 * requests at a time. `open(from, to)` and `feed(from, to)` return their wall ms; `cli()` makes
 * CLI_PAIRS runs with `trellis run-open` + `trellis result` and CLI_RUNS with `trellis run`, and
 * returns the median ms per run of each.
 */
function runArea(name, runs) {
  const dir = writeArea(path.join(tmp, name), { tests: { t: '[ezsteps]\nx true\n' } });
  const runArea = path.join(dir, 'runs');
  const a = (...args) => [...args, '--area', dir];
  const host = shortHostname();
  const ids = new Map();
  const now = Date.now() / 1000;
  let store;
  let cliSeq = 0;
  const area = {
    dir,
    runArea,
    a,
    ids,
    pid: 0,
    newest: '',
    startServer() {
      timeOk(process.execPath, [CLI, ...a('server', 'start')], { env });
      area.pid = serverPid(dir);
      store = new RemoteStore({
        runArea,
        areaDir: dir,
        invocation: 'other',
        host,
        now: () => Date.now() / 1000,
        debug: () => undefined,
        autoStart: false,
        env,
        trellisJs: CLI,
      });
    },
    /** Stops the server; returns its VmHWM (kB). */
    async stopServer() {
      await store.close();
      const hwm = memory(area.pid).hwm;
      timeOk(process.execPath, [CLI, ...a('server', 'stop', '--all')], { env });
      return hwm;
    },
    open: (from, to) =>
      each(from, to, (i) => store.ensureRun({ target: 'linux', keys: { OS: 'linux' }, runname: runName(i) }).then((r) => ids.set(i, r.id))),
    // One result per run, spread over the last 20 hours, newest last; every 97th a FAIL.
    feed: (from, to) =>
      each(from, to, (i) => {
        const start = now - ((runs - i) * 72_000) / runs;
        return store.appendResult(
          ids.get(i),
          {
            testname: 't',
            itempath: '',
            state: 'COMPLETED',
            status: i % 97 === 0 ? 'FAIL' : 'PASS',
            start,
            end: start + 1 + (i % 7),
            host,
            comment: '',
            values: [],
            areaTest: true,
          },
          { who: 'bench' },
        );
      }),
    cli() {
      const pairs = [];
      for (let k = 0; k < CLI_PAIRS; k++) {
        const rn = `cli${String(cliSeq++).padStart(3, '0')}`;
        const t0 = performance.now();
        timeOk(process.execPath, [CLI, ...a('run-open', '-t', 'linux', '-r', rn)], { env });
        timeOk(process.execPath, [CLI, ...a('result', '-t', 'linux', '-r', rn, 't', 'PASS')], { env });
        pairs.push(performance.now() - t0);
      }
      const made = [];
      for (let k = 0; k < CLI_RUNS; k++) {
        area.newest = `cli${String(cliSeq++).padStart(3, '0')}`;
        made.push(timeOk(process.execPath, [CLI, ...a('run', '-t', 'linux', '-r', area.newest)], { env }).ms);
      }
      return { pair: median(pairs), run: median(made) };
    },
    /** Blocks of the run databases of runs [from, to), per run, in kB. */
    dbKB(from, to) {
      let blocks = 0;
      for (let i = from; i < to; i++) blocks += statSync(path.join(runArea, '.db', `${ids.get(i)}.db`)).blocks;
      return (blocks * 512) / 1024 / (to - from);
    },
  };
  return area;
}

const runName = (i) => `r${String(i).padStart(5, '0')}`;

/** Runs `fn(i)` for i in [from, to), IN_FLIGHT at a time; wall ms. */
async function each(from, to, fn) {
  const t0 = performance.now();
  let next = from;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < to) await fn(next++);
    }),
  );
  return performance.now() - t0;
}

async function partB() {
  const made = CLI_PAIRS + CLI_RUNS;
  const SMALL = 100;
  console.log(`\n-- B. ${RUNS.toLocaleString('en-US')} runs in one area against ${SMALL} in another, one result each; load ${load()}`);
  // The peer: SMALL runs made the same way, its commands timed interleaved with the big area's.
  const small = runArea('b100', SMALL);
  small.startServer();
  await small.open(0, SMALL - made);
  await small.feed(0, SMALL - made);
  const cliSmall = small.cli();

  const big = runArea('b', RUNS);
  const bulk = RUNS - made;
  // Disk is measured with the server stopped: it keeps up to 128 run databases open, each with
  // its -wal and -shm files beside it.
  const disk0 = diskKB(big.runArea);
  big.startServer();
  const openMs = await big.open(0, bulk);
  const liveKB = (diskKB(big.runArea) - disk0) / bulk;
  const serverHwm = [await big.stopServer()];
  const emptyKB = (diskKB(big.runArea) - disk0) / bulk;
  const emptyDbKB = big.dbKB(0, bulk);
  big.startServer();
  const feedMs = await big.feed(0, bulk);
  serverHwm.push(await big.stopServer());
  const fedKB = (diskKB(big.runArea) - disk0) / bulk;
  const fedDbKB = big.dbKB(0, bulk);
  big.startServer();
  const cliBig = big.cli();
  console.log(`load ${load()}`);

  // The quick commands, a round of each on both areas at a time (the machine's drift falls on
  // both alike), after a warm-up round.
  const listCheck = (count) => (r) => {
    const lines = r.stdout.trimEnd().split('\n').length - 1;
    if (lines !== count) throw new Error(`list runs printed ${lines} runs, expected ${count}`);
  };
  const commands = {
    list: [(area) => area.a('list', 'runs'), (count) => listCheck(count), [0]],
    history: [(area) => area.a('history', 't'), () => () => undefined, [0]],
    // exit 1 lists what needs attention
    check: [(area) => area.a('check', '--max-age', '26h'), () => () => undefined, [0, 1]],
  };
  const times = { floor: [] };
  for (const k of ['list', 'history', 'check']) times[k] = { small: [], big: [] };
  for (let round = 0; round <= REPS; round++) {
    const t = timeSync(process.execPath, ['-e', '0']);
    if (round > 0) times.floor.push(t.ms);
    for (const k of ['list', 'history', 'check']) {
      const [args, check, codes] = commands[k];
      for (const [which, area, count] of [
        ['small', small, SMALL],
        ['big', big, RUNS],
      ]) {
        const r = timeSync(process.execPath, [CLI, ...args(area)], { env });
        if (!codes.includes(r.code))
          throw new Error(
            `trellis ${args(area).join(' ')} exited ${r.code ?? r.signal}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`,
          );
        check(count)(r);
        if (round > 0) times[k][which].push(r.ms);
      }
    }
  }
  const dash = haveTmux ? await dashboard(big.dir, 'b') : undefined;
  serverHwm.push(memory(big.pid).hwm);
  await big.stopServer();
  await small.stopServer();

  figure(`${bulk} runs opened empty via HTTP (ensureRun), wall`, openMs / 1000, 's', 1);
  figure('  per run', openMs / bulk, 'ms', 2);
  figure(`  then a result each (appendResult), wall`, feedMs / 1000, 's', 1);
  figure('  per run', feedMs / bulk, 'ms', 2);
  figure(`CLI run-open + result, median of ${CLI_PAIRS}: ${SMALL} runs`, cliSmall.pair, 'ms', 0);
  figure(`  ${RUNS} runs`, cliBig.pair, 'ms', 0);
  figure(`CLI trellis run of t, median of ${CLI_RUNS}: ${SMALL} runs`, cliSmall.run, 'ms', 0);
  figure(`  ${RUNS} runs`, cliBig.run, 'ms', 0);
  verdict(`disk per empty run (du of the run area)`, emptyKB, EMPTY_RUN_TARGET_KB, 'KB', 1);
  figure('  of which its run database', emptyDbKB, 'KB', 1);
  figure('  while the server had 128 of them open', liveKB, 'KB', 1);
  figure('disk per run with its one result', fedKB, 'KB', 1);
  figure('  of which its run database', fedDbKB, 'KB', 1);
  figure(`node -e 0 (floor), median of ${REPS}`, median(times.floor), 'ms', 0);
  for (const [k, label] of [
    ['list', 'list runs'],
    ['history', 'history t'],
    ['check', 'check --max-age 26h'],
  ]) {
    const [s100, sBig] = [median(times[k].small), median(times[k].big)];
    figure(`${label}: ${SMALL} runs, median of ${REPS}`, s100, 'ms', 0);
    figure(`  ${RUNS} runs`, sBig, 'ms', 0);
    if (k === 'list') verdict(`  ratio`, sBig / s100, LIST_RATIO_TARGET, '×', 2);
    else figure('  ratio', sBig / s100, '×', 2);
  }
  if (dash) {
    console.log(
      `dashboard opened on ${dash.selected} (the newest: ${big.newest})${dash.selected === big.newest ? '' : ' — NOT the newest'}`,
    );
    figure('dashboard first paint, trace', dash.paint, 'ms', 0);
    figure('  wall: tmux spawn → cells shown', dash.wall, 'ms', 0);
    verdict('peak RSS: dashboard (VmHWM)', mb(dash.end.hwm), RSS_TARGET_MB, 'MB', 0);
  } else console.log('dashboard: tmux is missing; not measured');
  verdict('peak RSS: server (highest VmHWM of 3 starts)', mb(Math.max(...serverHwm)), RSS_TARGET_MB, 'MB', 0);
  console.log(
    `  server VmHWM (MB): opening ${mb(serverHwm[0]).toFixed(0)}, results ${mb(serverHwm[1]).toFixed(0)}, commands + dashboard ${mb(serverHwm[2]).toFixed(0)}`,
  );
  rmSync(big.dir, { recursive: true, force: true });
  rmSync(small.dir, { recursive: true, force: true });
}

header(`scale: ${TESTS.toLocaleString('en-US')} tests in one run; ${RUNS.toLocaleString('en-US')} runs in one area`);
if (part('A')) await partA();
if (part('B')) await partB();
