// Dashboard (issue #4): the real `trellis dashboard` in tmux (160 × 50), against the targets.
//   1. first paint, 50 runs × 2,000 rows, server already up           target ≤ 1 s
//      (also: cold start, where the dashboard starts the server itself; floor: bare blessed in tmux)
//   2. key presses on that matrix (j, pagedown, l, L, G, g, / filter, u, space, Enter, q)
//                                                                      target ≤ 100 ms
//   3. peak RSS after scrolling across 500 runs × 5,000 rows           target ≤ 200 MB
//   4. live update: a write through the server → the cell changes     target ≤ 1 s
// Rows are tests and items: 2,000 = 100 tests × (1 + 19 items), 5,000 = 250 tests × (1 + 19 items).
// The run areas are written through the direct store (dist/): the runs are created in order by
// this process, then 2 child processes (`--fill` mode) each register and write half of them, one
// registerTests and one write per run. Each item gets a status from a fixed mix (95% PASS, 1.5%
// FAIL, 1% WARN, 1% SKIP, 0.5% WAIVED, 0.3% ABORT, 0.4% RUNNING, 0.3% not started); tests roll up
// from their items.
// The dashboard writes its own timings (TRELLIS_DASHBOARD_TRACE): `first-paint <ms since process
// start>`, `key <name> <ms to handle and draw>`. Wall times are taken around tmux: spawn → the
// pane shows the cells, send-keys → the pane changes. Every area binds its server to 127.0.0.1.
// `node bench/dashboard.mjs 1 2` runs only the parts named (3 alone skips the small area).
// BENCH_DASHBOARD_AREAS=<dir> keeps the generated areas there and reuses them next time (nothing
// is cached without it). BENCH_DASHBOARD_PROF=<dir> runs every dashboard under --cpu-prof;
// BENCH_DASHBOARD_NODE_OPTIONS is passed to the dashboards as NODE_OPTIONS (e.g.
// `--max-old-space-size=128`, `--heapsnapshot-signal=SIGUSR2`; they start in the current folder).
import { execFile, fork, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CLI, ROOT, header, makeTempDir, matrixBody, median, requireBuild, stopServersUnder, timeOk, writeArea } from './common.mjs';

const dist = (p) => path.join(ROOT, 'dist', 'src', p);
const ONLY = process.argv
  .slice(2)
  .filter((a) => /^[1-4]$/.test(a))
  .map(Number);
const part = (n) => ONLY.length === 0 || ONLY.includes(n);

const WIDTH = 160;
const HEIGHT = 50;
const ITEMS = 19;
const SMALL = { runs: 50, tests: 100 }; // 100 × (1 + 19) = 2,000 rows
const BIG = { runs: 500, tests: 250 }; // 250 × (1 + 19) = 5,000 rows
const REPS = 5;
const TARGET_PAINT_MS = 1000;
const TARGET_KEY_MS = 100;
const TARGET_RSS_MB = 200;
const TARGET_LIVE_MS = 1000;

/** Child processes writing the generated rows (SQLite is synchronous: one core each). */
const FILLERS = 2;
/** A fresh store every so many runs: each filler then holds few run databases and their caches. */
const PER_STORE = 100;

if (process.argv[2] === '--fill') {
  await fillMain();
  process.exit(0);
}

requireBuild();
const { openDirectStore } = await import(dist('store/direct-store.js'));
const { RemoteStore } = await import(dist('client/remote-store.js'));
const { readPackets } = await import(dist('client/packets.js'));
const { runAreaPaths } = await import(dist('config/paths.js'));
const { shortHostname } = await import(dist('util/host.js'));

const execFileP = promisify(execFile);
const tmp = makeTempDir('dashboard');
// Areas kept outside the temp folder get their servers stopped too, also when the bench fails.
if (process.env.BENCH_DASHBOARD_AREAS) process.on('exit', () => stopServersUnder(path.resolve(process.env.BENCH_DASHBOARD_AREAS)));
// Servers and the tmux server inherit the environment: never let TRELLIS_DIRECT leak in.
const env = { ...process.env };
delete env.TRELLIS_DIRECT;
delete env.TMUX;
const SOCK = `trellis-bench-${process.pid}`;
const quote = (s) => `'${String(s).replaceAll("'", `'\\''`)}'`;
const PROF = process.env.BENCH_DASHBOARD_PROF ? path.resolve(process.env.BENCH_DASHBOARD_PROF) : undefined;
// NODE_OPTIONS for the dashboards only (e.g. --max-old-space-size=128, --heapsnapshot-signal=SIGUSR2);
// --cpu-prof is not allowed there, so BENCH_DASHBOARD_PROF puts it on the command line.
const NODE_OPTIONS = process.env.BENCH_DASHBOARD_NODE_OPTIONS ?? '';
const NODE_ARGS = PROF ? `--cpu-prof --cpu-prof-dir=${quote(PROF)} ` : '';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Figures

const results = [];
const figure = (label, value, unit, digits = 1) => console.log(`${label.padEnd(56)} ${value.toFixed(digits).padStart(9)} ${unit}`);
const report = (label, value, target, unit, digits = 1) => {
  const ok = value <= target;
  console.log(`${label.padEnd(56)} ${value.toFixed(digits).padStart(9)} ${unit}   target ≤ ${target} ${unit}: ${ok ? 'met' : 'MISSED'}`);
  results.push({ label, value, target, unit, ok });
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

// ---------------------------------------------------------------------------------------------
// Run areas

/** xorshift: the same status mix every time, different per run. */
function random(seed) {
  let x = seed * 2654435761 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** An item's outcome; undefined leaves it NOT_STARTED. */
function outcome(r) {
  if (r < 0.95) return { state: 'COMPLETED', status: 'PASS' };
  if (r < 0.965) return { state: 'COMPLETED', status: 'FAIL' };
  if (r < 0.975) return { state: 'COMPLETED', status: 'WARN' };
  if (r < 0.985) return { state: 'COMPLETED', status: 'SKIP' };
  if (r < 0.99) return { state: 'COMPLETED', status: 'WAIVED' };
  if (r < 0.993) return { state: 'COMPLETED', status: 'ABORT' };
  if (r < 0.997) return { state: 'RUNNING', status: 'n/a' };
  return undefined;
}

/**
 * An area with `runs` runs (r0 oldest … newest) of `tests` tests × (1 + ITEMS) rows, written
 * through the direct store; returns its folder and how long that took (undefined when reused).
 * The runs are created here, in order (the dashboard shows the newest first); their rows are
 * written by FILLERS child processes (`--fill` mode of this script), each on its own runs.
 */
async function makeArea(name, { runs, tests }) {
  const keep = process.env.BENCH_DASHBOARD_AREAS;
  const dir = path.join(keep ? path.resolve(keep) : tmp, name);
  const done = path.join(dir, '.bench-complete');
  if (keep && existsSync(done)) return { dir, ms: undefined };
  writeArea(dir, { tests: {} });
  const runArea = path.join(dir, 'runs');
  const t0 = performance.now();
  const ids = [];
  for (let first = 0; first < runs; first += PER_STORE) {
    const store = openDirectStore(runArea, { host: 'bench' });
    try {
      for (let r = first; r < Math.min(first + PER_STORE, runs); r++) {
        ids.push({ id: (await store.ensureRun({ target: 'linux', keys: { OS: 'linux' }, runname: `r${r}` })).id, r, last: r === runs - 1 });
      }
    } finally {
      await store.close();
    }
  }
  const jobs = Array.from({ length: FILLERS }, (_, f) => ({ runArea, tests, runs: ids.filter((_, i) => i % FILLERS === f) }));
  await Promise.all(
    jobs.map(
      (job) =>
        new Promise((resolve, reject) => {
          const child = fork(fileURLToPath(import.meta.url), ['--fill'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
          child.send(job);
          child.on('error', reject);
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`a filler exited ${code}`))));
        }),
    ),
  );
  const ms = performance.now() - t0;
  if (keep) writeFileSync(done, '');
  return { dir, ms };
}

/** `--fill` mode: registers and writes the rows of the runs it is sent, one batch of each per run. */
async function fillMain() {
  const job = await new Promise((resolve) => process.once('message', resolve));
  const { openDirectStore } = await import(dist('store/direct-store.js'));
  for (let first = 0; first < job.runs.length; first += PER_STORE) {
    const store = openDirectStore(job.runArea, { host: 'bench' });
    try {
      for (const { id, r, last } of job.runs.slice(first, first + PER_STORE)) {
        const regs = [];
        for (let t = 0; t < job.tests; t++) {
          regs.push({ testname: `t${t}`, itempath: '', priority: 0, rundir: '' });
          for (let i = 0; i < ITEMS; i++) regs.push({ testname: `t${t}`, itempath: `i${i}`, priority: 0, rundir: '' });
        }
        const rows = await store.registerTests(id, regs);
        const rnd = random(r + 1);
        const now = Date.now() / 1000;
        const ops = [];
        for (const row of rows) {
          if (row.itempath === '') continue; // rolled up from its items
          const set = outcome(rnd());
          if (set)
            ops.push({
              kind: 'test',
              opId: `gen-${row.id}`,
              testId: row.id,
              set: { ...set, start: now - 2, end: set.state === 'COMPLETED' ? now - 1 : null },
              time: now,
            });
        }
        await store.write(id, ops);
        await store.setRunState(id, last ? 'running' : 'done');
      }
    } finally {
      await store.close();
    }
  }
  process.disconnect();
}

// ---------------------------------------------------------------------------------------------
// The CLI, servers, tmux

const cli = (dir, ...args) => timeOk(process.execPath, [CLI, ...args, '--area', dir], { env });
const packets = (dir) => readPackets(runAreaPaths(path.join(dir, 'runs')).metaDir, () => undefined);
const serverPid = (dir) => packets(dir)[0]?.packet.pid;

function tmux(...args) {
  const r = spawnSync('tmux', ['-L', SOCK, ...args], { encoding: 'utf8', env });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}
/** The pane's text (with attributes, `-e`, when a change may be only the selection's inverse). */
async function capture(session, escapes = false) {
  const { stdout } = await execFileP('tmux', ['-L', SOCK, 'capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', session], { env });
  return stdout;
}

if (spawnSync('tmux', ['-V']).status !== 0) {
  console.error('bench: tmux is missing; install it to run this bench');
  process.exit(1);
}
// One tmux server for the whole bench, started before any timing: a keeper session holds it up.
tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'keep', '-x', String(WIDTH), '-y', String(HEIGHT), 'sleep 100000');
tmux('set-option', '-g', 'remain-on-exit', 'on');
const socketPath = tmux('display-message', '-p', '-t', 'keep', '#{socket_path}').trim();
process.on('exit', () => {
  spawnSync('tmux', ['-L', SOCK, 'kill-server']);
  // tmux leaves its socket behind.
  rmSync(socketPath, { force: true });
});

let sessions = 0;
/** Starts `trellis dashboard` in a new tmux session; `t0` is taken just before tmux is asked. */
function startDashboard(dir) {
  const session = `d${++sessions}`;
  const trace = path.join(tmp, `trace-${session}`);
  const nodeOpts = NODE_OPTIONS ? `NODE_OPTIONS=${quote(NODE_OPTIONS)} ` : '';
  const cmd = `exec env -u TRELLIS_DIRECT ${nodeOpts}TRELLIS_DASHBOARD_TRACE=${quote(trace)} ${quote(process.execPath)} ${NODE_ARGS}${quote(CLI)} dashboard --area ${quote(dir)}`;
  const t0 = performance.now();
  tmux('new-session', '-d', '-s', session, '-c', process.cwd(), '-x', String(WIDTH), '-y', String(HEIGHT), cmd);
  return { session, trace, t0, dir };
}

/** The trace file's lines so far. */
function traceLines(d) {
  try {
    return readFileSync(d.trace, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  } catch {
    return [];
  }
}

/** The pane's process: node itself (the command execs), or a node below it. */
function dashboardPid(d) {
  const pid = Number(tmux('list-panes', '-t', d.session, '-F', '#{pane_pid}').trim());
  const isNode = (p) => readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'node';
  if (isNode(pid)) return pid;
  const children = (p) => readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  const queue = children(pid);
  while (queue.length) {
    const p = queue.shift();
    if (isNode(p)) return p;
    queue.push(...children(p));
  }
  throw new Error(`no node process under pane pid ${pid}`);
}

function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { hwm: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
}

/** Polls the pane every ~5 ms until `done(text)`; ms since `t0`. */
async function waitPane(d, done, { t0 = performance.now(), timeoutMs = 60_000, escapes = false, what = 'the pane' } = {}) {
  for (;;) {
    const text = await capture(d.session, escapes);
    const now = performance.now();
    if (done(text)) return now - t0;
    if (now - t0 > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the pane shows:\n${text}\ntrace:\n${traceLines(d).join('\n')}`);
    }
    await sleep(5);
  }
}
const waitFilled = (d, opts = {}) => waitPane(d, (t) => matrixBody(t) !== undefined, { what: 'the matrix to fill', ...opts });

/** The trace's first-paint figure, once it is written. */
async function firstPaint(d) {
  for (let i = 0; i < 2000; i++) {
    const line = traceLines(d).find((l) => l.startsWith('first-paint '));
    if (line) return Number(line.split(' ')[1]);
    await sleep(5);
  }
  throw new Error('no first-paint line in the trace');
}

/** Sends one key and waits for the dashboard's trace line of it; returns that line's ms. */
async function pressKey(d, key, literal = false) {
  const before = traceLines(d).length;
  tmux('send-keys', '-t', d.session, ...(literal ? ['-l'] : []), key);
  const t0 = performance.now();
  for (;;) {
    const lines = traceLines(d);
    const keyLines = lines.slice(before).filter((l) => l.startsWith('key '));
    if (keyLines.length > 0) {
      const [, name, ms] = keyLines[0].split(' ');
      return { name, ms: Number(ms) };
    }
    if (performance.now() - t0 > 10_000) throw new Error(`no trace line for key ${key}; the pane shows:\n${await capture(d.session)}`);
    await sleep(2);
  }
}

/** Quits with q and closes the session. */
async function quit(d) {
  try {
    tmux('send-keys', '-t', d.session, 'q');
    const t0 = performance.now();
    while (tmux('display-message', '-p', '-t', d.session, '#{pane_dead}').trim() !== '1' && performance.now() - t0 < 5000) await sleep(10);
  } finally {
    tmux('kill-session', '-t', d.session);
  }
}

/** The run line (second line): ` linux r49  done  100 tests…`; the selected run's name. */
const selectedRun = (text) => /^ linux (\S+)/m.exec(text.split('\n')[1] ?? '')?.[1];

// ---------------------------------------------------------------------------------------------

header(`dashboard: trellis dashboard in tmux ${WIDTH}×${HEIGHT}; first paint, keys, RSS, live updates`);

let small;
if (part(1) || part(2) || part(4)) {
  const rows = SMALL.tests * (1 + ITEMS);
  small = await makeArea('small', SMALL);
  if (small.ms === undefined) console.log(`setup: reused ${small.dir} (BENCH_DASHBOARD_AREAS)`);
  else figure(`setup: ${SMALL.runs} runs × ${rows} rows via the direct store`, small.ms, 'ms', 0);
  cli(small.dir, 'server', 'start');
}

try {
  // -------------------------------------------------------------- 1. first paint
  if (part(1)) {
    console.log(
      `\n-- 1. first paint, ${SMALL.runs} runs × ${SMALL.tests * (1 + ITEMS)} rows, ${REPS} times (target ≤ ${TARGET_PAINT_MS} ms); load ${load()}`,
    );
    const warm = { trace: [], wall: [], frame: [] };
    for (let i = 0; i < REPS; i++) {
      const d = startDashboard(small.dir);
      // The first frame (title, "loading...") splits start-up from loading the cells.
      warm.frame.push(await waitPane(d, (t) => t.startsWith('trellis dashboard'), { t0: d.t0, what: 'the first frame' }));
      warm.wall.push(await waitFilled(d, { t0: d.t0 }));
      warm.trace.push(await firstPaint(d));
      await quit(d);
    }
    const cold = { trace: [], wall: [] };
    for (let i = 0; i < REPS; i++) {
      cli(small.dir, 'server', 'stop', '--all');
      const d = startDashboard(small.dir);
      cold.wall.push(await waitFilled(d, { t0: d.t0 }));
      cold.trace.push(await firstPaint(d));
      await quit(d);
    }
    // The floor: node + blessed drawing the same text in the same tmux, no data to fetch.
    const d = startDashboard(small.dir);
    await waitFilled(d);
    const frame = path.join(tmp, 'frame.txt');
    writeFileSync(frame, await capture(d.session));
    await quit(d);
    const bare = [];
    const script =
      `import blessed from 'blessed'; import { readFileSync } from 'node:fs';` +
      `const s = blessed.screen({ smartCSR: true, warnings: false }); const b = blessed.box({ parent: s, width: '100%', height: '100%', tags: false });` +
      `b.setContent(readFileSync(process.argv[1], 'utf8').trimEnd()); s.render(); setInterval(() => {}, 1e6);`;
    for (let i = 0; i < REPS; i++) {
      const session = `bare${i}`;
      const t0 = performance.now();
      tmux(
        'new-session',
        '-d',
        '-s',
        session,
        '-c',
        ROOT,
        '-x',
        String(WIDTH),
        '-y',
        String(HEIGHT),
        `exec ${quote(process.execPath)} --input-type=module -e ${quote(script)} ${quote(frame)}`,
      );
      bare.push(await waitPane({ session, trace: '' }, (t) => matrixBody(t) !== undefined, { t0, what: 'the bare blessed screen' }));
      tmux('kill-session', '-t', session);
    }
    report(`first paint, trace (all followed runs), median of ${REPS}`, median(warm.trace), TARGET_PAINT_MS, 'ms', 0);
    report(`first paint, trace, worst of ${REPS}`, Math.max(...warm.trace), TARGET_PAINT_MS, 'ms', 0);
    report(`first paint, wall: tmux spawn → screen filled, median`, median(warm.wall), TARGET_PAINT_MS, 'ms', 0);
    report(`first paint, wall, worst of ${REPS}`, Math.max(...warm.wall), TARGET_PAINT_MS, 'ms', 0);
    figure(`  of which: tmux spawn → first frame (title), median`, median(warm.frame), 'ms', 0);
    figure(`cold (dashboard starts the server): trace, median`, median(cold.trace), 'ms', 0);
    figure(`  worst of ${REPS}`, Math.max(...cold.trace), 'ms', 0);
    figure(`cold: wall, median`, median(cold.wall), 'ms', 0);
    figure(`  worst of ${REPS}`, Math.max(...cold.wall), 'ms', 0);
    figure(`  floor: bare blessed screen, same text, wall, median`, median(bare), 'ms', 0);
  }

  // -------------------------------------------------------------- 2. keys
  if (part(2)) {
    console.log(
      `\n-- 2. key presses, ${SMALL.runs} runs × ${SMALL.tests * (1 + ITEMS)} rows (target ≤ ${TARGET_KEY_MS} ms); load ${load()}`,
    );
    const d = startDashboard(small.dir);
    await waitFilled(d, { t0: d.t0 });
    // [kind, tmux key, literal?]: a scripted session over every kind of key.
    const script = [
      ...Array(50).fill(['j', 'j']),
      ...Array(10).fill(['pagedown', 'NPage']),
      ...Array(20).fill(['l', 'l']),
      ...Array(5).fill(['L', 'L']),
      ['G', 'G'],
      ['g', 'g'],
      ['/ (prompt)', '/'],
      ...['t', '1', '%'].map((c) => ['typing', c, true]),
      ['Enter (apply filter)', 'Enter'],
      ['u (clear filter)', 'u'],
      ['space (fold)', 'Space'],
      ['Enter (detail)', 'Enter'],
      ['q (leave detail)', 'q'],
    ];
    const byKind = new Map();
    const all = [];
    for (const [kind, key, literal] of script) {
      const { ms } = await pressKey(d, key, literal);
      if (!byKind.has(kind)) byKind.set(kind, []);
      byKind.get(kind).push(ms);
      all.push(ms);
    }
    // End to end for a few keys: send-keys → the pane (with attributes) differs.
    const e2e = [];
    // The selection is on the last run now: move left.
    const e2eKeys = [...Array(10).fill('j'), ...Array(5).fill('h'), 'H', 'H', 'G', 'g', 'NPage'];
    for (const key of e2eKeys) {
      const before = await capture(d.session, true);
      const t0 = performance.now();
      tmux('send-keys', '-t', d.session, key);
      e2e.push(await waitPane(d, (t) => t !== before, { t0, escapes: true, timeoutMs: 5000, what: `key ${key} to show` }));
      await sleep(20);
    }
    const sendCost = [];
    const captureCost = [];
    for (let i = 0; i < 20; i++) {
      let t0 = performance.now();
      tmux('send-keys', '-t', 'keep', '-l', 'x');
      sendCost.push(performance.now() - t0);
      t0 = performance.now();
      await capture(d.session, true);
      captureCost.push(performance.now() - t0);
    }
    const pid = dashboardPid(d);
    const mem = memory(pid);
    await quit(d);
    console.log(
      `  ${'key (trace: handle + draw)'.padEnd(24)} ${'n'.padStart(4)} ${'median'.padStart(8)} ${'p95'.padStart(8)} ${'max'.padStart(8)}  ms`,
    );
    for (const [kind, xs] of byKind) {
      console.log(
        `  ${kind.padEnd(24)} ${String(xs.length).padStart(4)} ${median(xs).toFixed(2).padStart(8)} ${pct(xs, 95).toFixed(2).padStart(8)} ${Math.max(
          ...xs,
        )
          .toFixed(2)
          .padStart(8)}`,
      );
    }
    report(`every key (${all.length}), trace, median`, median(all), TARGET_KEY_MS, 'ms', 2);
    report(`every key, trace, p95`, pct(all, 95), TARGET_KEY_MS, 'ms', 2);
    report(`every key, trace, max`, Math.max(...all), TARGET_KEY_MS, 'ms', 2);
    report(`end to end: send-keys → pane changed, median of ${e2e.length}`, median(e2e), TARGET_KEY_MS, 'ms', 1);
    report(`end to end, max`, Math.max(...e2e), TARGET_KEY_MS, 'ms', 1);
    figure(`  floor: one tmux send-keys, median`, median(sendCost), 'ms', 1);
    figure(`  floor: one tmux capture-pane -e, median`, median(captureCost), 'ms', 1);
    figure(`dashboard VmHWM after the keys (50 × 2,000)`, mem.hwm, 'MB', 0);
  }

  // -------------------------------------------------------------- 4. live updates (small area, before the big one)
  if (part(4)) {
    console.log(`\n-- 4. live update: write → the cell shows it (target ≤ ${TARGET_LIVE_MS} ms); load ${load()}`);
    const d = startDashboard(small.dir);
    await waitFilled(d, { t0: d.t0 });
    const text0 = await capture(d.session);
    const runname = selectedRun(text0);
    // The first item row on screen (t0/i0), first column (the newest run).
    const cellOf = (text) => {
      const body = matrixBody(text) ?? [];
      const row = body.find((l) => /^ {3}i0\s/.test(l));
      return row?.trim().split(/\s+/)[1];
    };
    const runArea = path.join(small.dir, 'runs');
    const store = new RemoteStore({
      runArea,
      areaDir: small.dir,
      invocation: 'other',
      host: shortHostname(),
      now: () => Date.now() / 1000,
      debug: () => undefined,
      autoStart: false,
      env,
      trellisJs: CLI,
    });
    const run = (await store.listRuns()).find((r) => r.runname === runname);
    const test = await store.getTest(run.id, 't0', 'i0');
    let shown = cellOf(text0);
    const next = () => (shown === 'FAIL' ? 'WAIVED' : 'FAIL');
    const remote = { write: [], total: [] };
    for (let i = 0; i < 10; i++) {
      // A different phase of the dashboard's poll loop each time.
      await sleep(100 + ((i * 37) % 300));
      const status = next();
      const t0 = performance.now();
      await store.write(run.id, [
        { kind: 'test', opId: `live-${i}-${Date.now()}`, testId: test.id, set: { state: 'COMPLETED', status }, time: Date.now() / 1000 },
      ]);
      remote.write.push(performance.now() - t0);
      remote.total.push(await waitPane(d, (t) => cellOf(t) === status, { t0, timeoutMs: 10_000, what: `t0/i0 to show ${status}` }));
      shown = status;
    }
    await store.close();
    // The same through a new process: `trellis set-state-status`, the CLI's start included.
    const viaCli = { total: [], cli: [] };
    for (let i = 0; i < REPS; i++) {
      await sleep(100 + ((i * 53) % 300));
      const status = next();
      const t0 = performance.now();
      let cliMs;
      const child = execFileP(
        process.execPath,
        [CLI, 'set-state-status', `COMPLETED,${status}`, '-t', 'linux', '-r', runname, '-p', 't0/i0', '--area', small.dir],
        { env },
      ).then(() => {
        cliMs = performance.now() - t0;
      });
      viaCli.total.push(await waitPane(d, (t) => cellOf(t) === status, { t0, timeoutMs: 10_000, what: `t0/i0 to show ${status}` }));
      await child;
      viaCli.cli.push(cliMs);
      shown = status;
    }
    // A writer that bypasses the server (--direct): the server finds it on its periodic recheck.
    const direct = [];
    const ds = openDirectStore(runArea, { host: 'bench' });
    for (let i = 0; i < REPS; i++) {
      await sleep(100 + ((i * 53) % 300));
      const status = next();
      const t0 = performance.now();
      await ds.write(run.id, [
        { kind: 'test', opId: `direct-${i}-${Date.now()}`, testId: test.id, set: { state: 'COMPLETED', status }, time: Date.now() / 1000 },
      ]);
      direct.push(await waitPane(d, (t) => cellOf(t) === status, { t0, timeoutMs: 10_000, what: `t0/i0 to show ${status}` }));
      shown = status;
    }
    await ds.close();
    await quit(d);
    report(`write through the server (RemoteStore) → shown, median of 10`, median(remote.total), TARGET_LIVE_MS, 'ms', 0);
    report(`  worst of 10`, Math.max(...remote.total), TARGET_LIVE_MS, 'ms', 0);
    figure(`  of which the write's round trip, median`, median(remote.write), 'ms', 1);
    figure(`\`trellis set-state-status\` spawned → shown, median of ${REPS}`, median(viaCli.total), 'ms', 0);
    figure(`  the CLI's own wall time, median`, median(viaCli.cli), 'ms', 0);
    figure(`--direct writer (server rechecks) → shown, median of ${REPS}`, median(direct), 'ms', 0);
    figure(`  worst of ${REPS}`, Math.max(...direct), 'ms', 0);
  }

  if (small) cli(small.dir, 'server', 'stop', '--all');

  // -------------------------------------------------------------- 3. peak RSS, big area
  if (part(3)) {
    const rows = BIG.tests * (1 + ITEMS);
    console.log(`\n-- 3. peak RSS, ${BIG.runs} runs × ${rows} rows (target ≤ ${TARGET_RSS_MB} MB); load ${load()}`);
    const big = await makeArea('big', BIG);
    if (big.ms === undefined) console.log(`setup: reused ${big.dir} (BENCH_DASHBOARD_AREAS)`);
    else figure(`setup: ${BIG.runs} runs × ${rows} rows (${((BIG.runs * rows) / 1e6).toFixed(1)}M) via the direct store`, big.ms, 'ms', 0);
    console.log(`load ${load()}`);
    cli(big.dir, 'server', 'start');
    const d = startDashboard(big.dir);
    const wall = await waitFilled(d, { t0: d.t0 });
    const paint = await firstPaint(d);
    const pid = dashboardPid(d);
    const atPaint = memory(pid);
    // Across every run: L until the last (oldest, r0) is selected, each time until its cells show.
    const fill = [];
    const keys = [];
    const rssAlong = [];
    let text = await capture(d.session);
    let presses = 0;
    while (selectedRun(text) !== 'r0') {
      if (++presses > BIG.runs) throw new Error(`L never reached the last run; the pane shows:\n${text}`);
      const t0 = performance.now();
      keys.push((await pressKey(d, 'L')).ms);
      fill.push(await waitFilled(d, { t0, what: 'the cells after L' }));
      rssAlong.push(memory(pid).rss);
      text = await capture(d.session);
    }
    while (selectedRun(text) !== `r${BIG.runs - 1}`) {
      if (++presses > 2 * BIG.runs) throw new Error(`H never reached the first run; the pane shows:\n${text}`);
      const t0 = performance.now();
      keys.push((await pressKey(d, 'H')).ms);
      fill.push(await waitFilled(d, { t0, what: 'the cells after H' }));
      text = await capture(d.session);
    }
    for (const key of ['G', 'g', 'G', 'g']) {
      keys.push((await pressKey(d, key)).ms);
      await waitFilled(d);
    }
    const after = memory(pid);
    const spid = serverPid(big.dir);
    const server = spid ? memory(spid) : { hwm: NaN, rss: NaN };
    await quit(d);
    cli(big.dir, 'server', 'stop', '--all');
    report(`dashboard peak RSS (VmHWM) after scrolling all runs + rows`, after.hwm, TARGET_RSS_MB, 'MB', 0);
    figure(`  VmRSS at the end`, after.rss, 'MB', 0);
    figure(`  VmHWM / VmRSS right after first paint`, atPaint.hwm, 'MB', 0);
    figure(`  …VmRSS`, atPaint.rss, 'MB', 0);
    console.log(
      `  VmRSS after every 4th L (MB): ${rssAlong
        .filter((_, i) => i % 4 === 3)
        .map((x) => x.toFixed(0))
        .join(' ')}`,
    );
    figure(`  server VmHWM / VmRSS (for information)`, server.hwm, 'MB', 0);
    figure(`  …VmRSS`, server.rss, 'MB', 0);
    figure(`first paint at ${BIG.runs} × ${rows}: trace`, paint, 'ms', 0);
    figure(`  wall`, wall, 'ms', 0);
    figure(`L/H presses (${fill.length}) → new cells shown, median`, median(fill), 'ms', 0);
    figure(`  p95`, pct(fill, 95), 'ms', 0);
    figure(`  max`, Math.max(...fill), 'ms', 0);
    figure(`keys (L, H, G, g) at this size, trace, median`, median(keys), 'ms', 2);
    figure(`  max`, Math.max(...keys), 'ms', 2);
  }
} finally {
  if (small) spawnSync(process.execPath, [CLI, 'server', 'stop', '--all', '--area', small.dir], { env });
}

const missed = results.filter((r) => !r.ok);
console.log(`\n${results.length - missed.length} of ${results.length} figures within target`);
