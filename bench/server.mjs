// Servers (issue #3): what going through the run area's server costs, against the targets.
//   1. discovery + health check with a live server           target ≤ 30 ms
//   2. cold start: no server → first answered request          target ≤ 1.5 s
//   3. after kill -9 of the server, the next command succeeds  target ≤ 3 s
//   4. 50 concurrent clients sending single-op state updates  target ≥ 5,000 updates/s, p99 ≤ 25 ms
//      (beside it: raw better-sqlite3 and DirectStore in-process for the same writes)
//   5. 1,000 items of `true` through a warm server vs --direct target ≤ 20% more wall time
//   6. signed writes (a session's HMAC) vs unsigned ones: the server's CPU per write, rounds of
//      each in turn against one server                         target ≤ 1.10×
// Every area binds its server to 127.0.0.1 ([server] bind), so all traffic stays on loopback.
// The load clients of 4 run in child processes (`--client` mode of this script), not in the
// bench process. Every server this script starts is stopped at the end.
import { fork, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, ROOT, header, makeTempDir, median, requireBuild, timeOk, writeArea } from './common.mjs';

const dist = (p) => path.join(ROOT, 'dist', 'src', p);
// `node bench/server.mjs 4 5` runs only parts 4 and 5; no argument: all of them.
const ONLY = process.argv
  .slice(2)
  .filter((a) => /^[1-6]$/.test(a))
  .map(Number);
const part = (n) => ONLY.length === 0 || ONLY.includes(n);

if (process.argv[2] === '--client') {
  await clientMain();
} else {
  await main();
}

// ---------------------------------------------------------------------------------------------
// Load client (child process): `clients` loops, each sending one single-op write at a time.

async function clientMain() {
  // Listen before anything async: the parent sends the setup right away.
  const inbox = [];
  let wake = () => undefined;
  process.on('message', (m) => {
    inbox.push(m);
    wake();
  });
  const receive = async () => {
    while (inbox.length === 0) await new Promise((r) => (wake = r));
    return inbox.shift();
  };
  const { requestJson } = await import(dist('client/http.js'));
  const setup = await receive();
  const { endpoint, runId, clients, tag, warmupMs, durationMs } = setup;
  const states = [
    { state: 'LAUNCHED', status: 'n/a' },
    { state: 'RUNNING', status: 'n/a' },
    { state: 'COMPLETED', status: 'PASS' },
  ];
  let seq = 0;
  let acked = 0;
  let errors = 0;
  let lastError = '';
  /** One client: cycles through its tests, one request in flight; `record` gets each latency. */
  async function loop(ids, until, record) {
    let i = 0;
    while (performance.now() < until) {
      const testId = ids[i % ids.length];
      const set = states[Math.floor(i / ids.length) % states.length];
      i++;
      const op = { kind: 'test', opId: `${tag}-${seq++}`, testId, set, time: Date.now() / 1000 };
      const t0 = performance.now();
      try {
        const a = await requestJson(endpoint, 'POST', '/v1/store/write', { runId, ops: [op] }, 30_000);
        const ms = performance.now() - t0;
        if (a.status === 200) {
          acked++;
          record(ms, performance.now());
        } else {
          errors++;
          lastError = `HTTP ${a.status}: ${JSON.stringify(a.body).slice(0, 200)}`;
        }
      } catch (err) {
        errors++;
        lastError = String(err.message ?? err);
      }
    }
  }
  // Warm-up: connections opened, JIT warm on both sides; then wait for the common start.
  const warmEnd = performance.now() + warmupMs;
  await Promise.all(clients.map((ids) => loop(ids, warmEnd, () => undefined)));
  process.send({ type: 'ready' });
  await receive();
  const latencies = [];
  const perSecond = [];
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(
    clients.map((ids) =>
      loop(ids, end, (ms, at) => {
        latencies.push(ms);
        const s = Math.floor((at - start) / 1000);
        perSecond[s] = (perSecond[s] ?? 0) + 1;
      }),
    ),
  );
  const elapsed = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const result = {
    type: 'done',
    cpuMs: (cpu.user + cpu.system) / 1000,
    latencies,
    perSecond: Array.from(perSecond, (x) => x ?? 0),
    elapsed,
    acked,
    errors,
    lastError,
  };
  // Disconnect only once the (large) message is out: disconnecting at once can drop it.
  process.send(result, () => process.disconnect());
}

// ---------------------------------------------------------------------------------------------

async function main() {
  requireBuild();
  const Database = createRequire(path.join(ROOT, 'package.json'))('better-sqlite3');
  const { findServer, checkHealth } = await import(dist('client/discovery.js'));
  const { readPackets } = await import(dist('client/packets.js'));
  const { validToken, readAreaIdFile } = await import(dist('config/meta-files.js'));
  const { runAreaPaths } = await import(dist('config/paths.js'));
  const { shortHostname } = await import(dist('util/host.js'));
  const { openDirectStore } = await import(dist('store/direct-store.js'));
  const { RUN_MIGRATIONS } = await import(dist('db/run-schema.js'));

  const HOST = shortHostname();
  const tmp = makeTempDir('server');
  // Servers started by clients inherit the environment: never let TRELLIS_DIRECT leak in.
  const env = { ...process.env };
  delete env.TRELLIS_DIRECT;
  const discovery = { host: HOST, now: () => Date.now() / 1000, debug: () => undefined };

  /** Every server pid seen, to stop any left behind when the bench ends (also on a crash). */
  const seenServers = new Set();
  const areas = [];
  process.on('exit', () => {
    for (const pid of seenServers) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone already
      }
    }
  });

  /** An area whose server listens on loopback only; its run area is `<area>/runs`. */
  function makeArea(name, tests = { a: '[ezsteps]\nt true\n' }) {
    const dir = writeArea(path.join(tmp, name), { tests });
    writeFileSync(path.join(dir, 'trellis.config'), '[fields]\nOS\n\n[setup]\nmax_concurrent_jobs 2\n\n[server]\nbind 127.0.0.1\n');
    areas.push(dir);
    return { dir, runArea: path.join(dir, 'runs'), paths: runAreaPaths(path.join(dir, 'runs')) };
  }
  const cli = (area, ...args) => timeOk(process.execPath, [CLI, ...args, '--area', area.dir], { env });
  // BENCH_SERVER_PROF=<dir>: the servers of parts 4 and 5 run with --cpu-prof (profile written there
  // when they stop); started in the foreground by this script rather than by `server start`.
  async function startServerFor(area) {
    if (!process.env.BENCH_SERVER_PROF) return cli(area, 'server', 'start');
    const args = [
      '--cpu-prof',
      `--cpu-prof-dir=${process.env.BENCH_SERVER_PROF}`,
      CLI,
      'server',
      'start',
      '--foreground',
      '--invocation',
      'other',
      '--area',
      area.dir,
    ];
    const child = spawn(process.execPath, args, { env, stdio: 'ignore', detached: true });
    child.unref();
    await waitFor(() => packets(area).some((f) => f.packet.pid === child.pid), 20_000, 'the profiled server');
    return child;
  }
  const packets = (area) => readPackets(area.paths.metaDir, () => undefined);
  function serverPids(area) {
    const pids = packets(area).map((f) => f.packet.pid);
    for (const p of pids) seenServers.add(p);
    return pids;
  }
  const stopAll = (area) => cli(area, 'server', 'stop', '--all');
  function gone(pid) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state === 'Z' || state === 'X';
    } catch {
      return true;
    }
  }
  async function waitFor(cond, ms, what) {
    const deadline = performance.now() + ms;
    while (!cond()) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const pct = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  };
  const cpuMs = (pid) => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2)
      .split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, at USER_HZ = 100
  };
  const results = [];
  // Like common.mjs's figure/verdict, with room for longer labels and targets either way.
  const figure = (label, value, unit, digits = 1) => console.log(`${label.padEnd(50)} ${value.toFixed(digits).padStart(9)} ${unit}`);
  const report = (label, value, target, unit, digits, higherIsBetter = false) => {
    const ok = higherIsBetter ? value >= target : value <= target;
    console.log(
      `${label.padEnd(50)} ${value.toFixed(digits).padStart(9)} ${unit}   target ${higherIsBetter ? '≥' : '≤'} ${target} ${unit}: ${ok ? 'met' : 'MISSED'}`,
    );
    results.push({ label, value, target, unit, digits, ok, higherIsBetter });
  };

  header('servers: discovery, cold start, kill -9 takeover, 50-client load, run through a server');

  try {
    // ---------------------------------------------------------------- 1. discovery + health
    if (part(1)) console.log('\n-- 1. discovery + health check with a live server (target ≤ 30 ms)');
    if (part(1)) {
      const area = makeArea('ping');
      cli(area, 'server', 'start');
      serverPids(area);
      let t0 = performance.now();
      const first = await findServer(area.paths, discovery);
      const firstMs = performance.now() - t0;
      if (!first) throw new Error('findServer found no server after `trellis server start`');
      const times = [];
      for (let i = 0; i < 200; i++) {
        t0 = performance.now();
        const c = await findServer(area.paths, discovery);
        times.push(performance.now() - t0);
        if (!c) throw new Error('findServer lost the server');
      }
      const pingWall = [];
      const pingInner = [];
      for (let i = 0; i < 10; i++) {
        const r = cli(area, 'server', 'ping');
        pingWall.push(r.ms);
        const m = /took ([\d.]+) ms/.exec(r.stdout);
        if (!m) throw new Error(`unexpected ping output: ${r.stdout}`);
        pingInner.push(Number(m[1]));
      }
      const direct = [];
      for (let i = 0; i < 10; i++) direct.push(timeOk(process.execPath, ['-e', '0']).ms);
      report('findServer in-process, median of 200', median(times), 30, 'ms', 2);
      report('findServer in-process, p95 of 200', pct(times, 95), 30, 'ms', 2);
      figure('findServer in-process, first call (new socket)', firstMs, 'ms', 2);
      report('`server ping` own figure (new process), median', median(pingInner), 30, 'ms', 2);
      figure('`server ping` wall time, median of 10', median(pingWall), 'ms', 0);
      figure('  floor: `node -e 0`, median of 10', median(direct), 'ms', 0);
      stopAll(area);
    }

    // ---------------------------------------------------------------- 2. cold start
    if (part(2)) console.log('\n-- 2. cold start: no server → first answered request (target ≤ 1.5 s)');
    if (part(2)) {
      const ROUNDS = 5;
      const cold = [];
      const directFresh = [];
      const warm = [];
      const coldExisting = [];
      for (let i = 0; i < ROUNDS; i++) {
        const area = makeArea(`cold${i}`);
        const r = cli(area, 'list', 'runs');
        if (!/No runs/.test(r.stdout)) throw new Error(`unexpected list runs output: ${r.stdout}`);
        cold.push(r.ms);
        if (serverPids(area).length !== 1) throw new Error('expected one server after a cold `list runs`');
        warm.push(cli(area, 'list', 'runs').ms);
        stopAll(area);
        // The usual case: the run area exists, its server stopped (idle timeout).
        coldExisting.push(cli(area, 'list', 'runs').ms);
        serverPids(area);
        stopAll(area);
        directFresh.push(cli(makeArea(`colddirect${i}`), 'list', 'runs', '--direct').ms);
      }
      // The server alone: spawn `server start --foreground`, poll its packet + /health.
      const spawnToHealth = [];
      for (let i = 0; i < ROUNDS; i++) {
        const area = makeArea(`spawn${i}`);
        const t0 = performance.now();
        const child = spawn(process.execPath, [CLI, 'server', 'start', '--foreground', '--invocation', 'other', '--area', area.dir], {
          env,
          stdio: 'ignore',
        });
        seenServers.add(child.pid);
        const exited = new Promise((r) => child.once('exit', r));
        let ok = false;
        while (!ok) {
          if (performance.now() - t0 > 20_000) throw new Error('the foreground server did not answer within 20 s');
          const token = validToken(area.paths);
          const mine = packets(area).find((f) => f.packet.pid === child.pid);
          if (mine && token !== undefined) ok = (await checkHealth(mine, token, readAreaIdFile(area.paths), HOST)).ok;
          if (!ok) await new Promise((r) => setTimeout(r, 2));
        }
        spawnToHealth.push(performance.now() - t0);
        child.kill('SIGTERM');
        await exited;
      }
      report(`\`list runs\`, fresh area, no server (median ${ROUNDS})`, median(cold), 1500, 'ms', 0);
      figure(`  range`, Math.min(...cold), 'ms', 0);
      figure(`  …to`, Math.max(...cold), 'ms', 0);
      report(`\`list runs\`, existing area, no server (med ${ROUNDS})`, median(coldExisting), 1500, 'ms', 0);
      report(`spawn server → /health answered (med ${ROUNDS})`, median(spawnToHealth), 1500, 'ms', 0);
      figure('`list runs`, same area, server warm (median)', median(warm), 'ms', 0);
      figure('`list runs --direct`, fresh area (median)', median(directFresh), 'ms', 0);
    }

    // ---------------------------------------------------------------- 3. kill -9
    if (part(3)) console.log('\n-- 3. kill -9 of the server, then the next command (target ≤ 3 s)');
    if (part(3)) {
      const ROUNDS = 5;
      const area = makeArea('kill9');
      cli(area, 'list', 'runs');
      const after = [];
      for (let i = 0; i < ROUNDS; i++) {
        const [pid] = serverPids(area);
        if (pid === undefined) throw new Error('no server packet before kill -9');
        process.kill(pid, 'SIGKILL');
        await waitFor(() => gone(pid), 2000, `server ${pid} to die`);
        const r = cli(area, 'list', 'runs');
        after.push(r.ms);
        const now = serverPids(area);
        if (now.length !== 1 || now[0] === pid) throw new Error(`expected one new server after kill -9, packets name ${now.join(', ')}`);
      }
      report(`\`list runs\` right after kill -9 (median ${ROUNDS})`, median(after), 3000, 'ms', 0);
      report(`\`list runs\` right after kill -9 (worst of ${ROUNDS})`, Math.max(...after), 3000, 'ms', 0);
      stopAll(area);
    }

    // ---------------------------------------------------------------- 4. 50 clients
    const CLIENTS = 50;
    const PER_CLIENT = 20;
    const PROCS = 2;
    const DURATION_MS = 5000;
    const WARMUP_MS = 1000;
    const COMPARE_N = 20_000;
    if (part(4))
      console.log(
        `\n-- 4. ${CLIENTS} concurrent clients, single-op state updates for ${DURATION_MS / 1000} s ` +
          `(targets ≥ 5,000 updates/s, p99 ≤ 25 ms); clients in ${PROCS} child processes`,
      );
    if (part(4)) {
      const area = makeArea('load');
      // Register the run and its tests through the direct store first, then start the server.
      const ds = openDirectStore(area.runArea, { host: HOST });
      const run = await ds.ensureRun({ target: 'linux', keys: { OS: 'linux' }, runname: 'load' });
      const rows = await ds.registerTests(
        run.id,
        Array.from({ length: CLIENTS * PER_CLIENT }, (_, i) => ({ testname: `t${i}`, itempath: '', priority: 0, rundir: '' })),
      );
      await ds.close();
      await startServerFor(area);
      const [serverPid] = serverPids(area);
      const conn = await findServer(area.paths, discovery);
      if (!conn) throw new Error('no server for the load area');
      const ids = rows.map((r) => r.id);
      // One client alone, one write at a time, from this process: the round trip a runner waits for.
      const { requestJson } = await import(dist('client/http.js'));
      const single = [];
      for (let i = 0; i < 3000; i++) {
        const op = {
          kind: 'test',
          opId: `one-${i}`,
          testId: ids[i % ids.length],
          set: { state: 'RUNNING', status: 'n/a' },
          time: Date.now() / 1000,
        };
        const t0 = performance.now();
        const a = await requestJson(conn.endpoint, 'POST', '/v1/store/write', { runId: run.id, ops: [op] }, 30_000);
        if (i >= 500) single.push(performance.now() - t0);
        if (a.status !== 200) throw new Error(`write answered ${a.status}: ${JSON.stringify(a.body)}`);
      }
      const children = [];
      for (let p = 0; p < PROCS; p++) {
        const mine = [];
        for (let c = p; c < CLIENTS; c += PROCS) mine.push(ids.slice(c * PER_CLIENT, (c + 1) * PER_CLIENT));
        const child = fork(fileURLToPath(import.meta.url), ['--client'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        const messages = [];
        let wake;
        child.on('message', (m) => {
          messages.push(m);
          wake?.();
        });
        const next = async (type) => {
          for (;;) {
            const i = messages.findIndex((m) => m.type === type);
            if (i >= 0) return messages.splice(i, 1)[0];
            if (child.exitCode !== null) throw new Error(`load client ${p} exited ${child.exitCode}`);
            await new Promise((r) => {
              wake = r;
              setTimeout(r, 200);
            });
          }
        };
        child.send({
          endpoint: conn.endpoint,
          runId: run.id,
          clients: mine,
          tag: `load${p}`,
          warmupMs: WARMUP_MS,
          durationMs: DURATION_MS,
        });
        children.push({ child, next });
      }
      await Promise.all(children.map((c) => c.next('ready')));
      const cpu0 = cpuMs(serverPid);
      const t0 = performance.now();
      for (const c of children) c.child.send({ type: 'go' });
      const done = await Promise.all(children.map((c) => c.next('done')));
      const wall = performance.now() - t0;
      const serverCpu = cpuMs(serverPid) - cpu0;
      const latencies = done.flatMap((d) => d.latencies);
      const total = done.reduce((s, d) => s + d.latencies.length, 0);
      const errors = done.reduce((s, d) => s + d.errors, 0);
      const elapsed = Math.max(...done.map((d) => d.elapsed));
      const perSecond = [];
      for (const d of done) {
        for (const [i, n] of d.perSecond.entries()) perSecond[i] = (perSecond[i] ?? 0) + n;
      }
      const fullSeconds = perSecond.slice(0, Math.floor(DURATION_MS / 1000));
      const ackedAll = done.reduce((s, d) => s + d.acked, 0);
      stopAll(area);
      // Every acknowledged write (warm-up included) must be in the run database exactly once.
      const db = new Database(path.join(area.paths.dbDir, `${run.id}.db`), { readonly: true });
      const applied = db.prepare(`SELECT count(*) AS n FROM applied_ops WHERE op_id LIKE 'load%'`).get().n;
      db.close();
      if (errors > 0)
        console.log(
          `  ${errors} requests failed; last: ${done
            .map((d) => d.lastError)
            .filter(Boolean)
            .at(-1)}`,
        );
      if (applied !== ackedAll) throw new Error(`${ackedAll} writes were acknowledged but ${applied} are in the run database`);

      report(`updates/s through the server, ${CLIENTS} clients`, (total * 1000) / elapsed, 5000, 'updates/s', 0, true);
      figure(`  slowest whole second of ${fullSeconds.length}`, Math.min(...fullSeconds), 'updates/s', 0);
      figure('  latency p50', pct(latencies, 50), 'ms', 2);
      report('latency p99', pct(latencies, 99), 25, 'ms', 2);
      figure('  latency max', Math.max(...latencies), 'ms', 1);
      figure('  server CPU during the load (of wall)', (serverCpu / wall) * 100, '%', 0);
      figure('  server CPU per update', (serverCpu * 1000) / total, 'µs', 0);
      const clientCpu = done.reduce((s, d) => s + d.cpuMs, 0);
      figure('  client CPU per update (both processes)', (clientCpu * 1000) / total, 'µs', 0);
      figure('  CPU budget per update at 5,000/s on 2 cores', 2e6 / 5000, 'µs', 0);
      console.log(
        `  ${total} updates in ${(elapsed / 1000).toFixed(2)} s; ${applied} ops in the run db (all acked, warm-up too); ${errors} errors`,
      );

      // Raw better-sqlite3, the same writes, one transaction per update, in this process.
      const raw = new Database(path.join(tmp, 'raw-load.db'));
      raw.pragma('journal_mode = WAL');
      raw.pragma('synchronous = NORMAL');
      raw.pragma('foreign_keys = ON');
      for (const m of RUN_MIGRATIONS) raw.exec(m.up);
      const insertTest = raw.prepare(`INSERT INTO tests (testname, itempath, updated) VALUES (?, '', 0)`);
      raw.transaction(() => {
        for (let i = 0; i < CLIENTS * PER_CLIENT; i++) insertTest.run(`t${i}`);
      })();
      const claim = raw.prepare(`INSERT INTO applied_ops (op_id, time) VALUES (?, ?) ON CONFLICT DO NOTHING`);
      const save = raw.prepare(`UPDATE tests SET state = ?, status = ?, updated = ? WHERE id = ?`);
      const event = raw.prepare(`INSERT INTO events (time, test_id, kind, detail, who) VALUES (?, ?, 'state', ?, '')`);
      const apply = raw.transaction((opId, testId, state, status, time) => {
        if (claim.run(opId, time).changes !== 1) return;
        save.run(state, status, time, testId);
        event.run(time, testId, `${state}/${status}`);
      });
      const STATES = [
        ['LAUNCHED', 'n/a'],
        ['RUNNING', 'n/a'],
        ['COMPLETED', 'PASS'],
      ];
      let t = performance.now();
      for (let i = 0; i < COMPARE_N; i++) {
        const [state, status] = STATES[Math.floor(i / 1000) % 3];
        apply(`raw-${i}`, (i % (CLIENTS * PER_CLIENT)) + 1, state, status, Date.now() / 1000);
      }
      const rawRate = (COMPARE_N * 1000) / (performance.now() - t);
      raw.close();

      // DirectStore.write, one op per call, in this process (same run area layout, fresh).
      const dArea = makeArea('load-direct');
      const store = openDirectStore(dArea.runArea, { host: HOST });
      const dRun = await store.ensureRun({ target: 'linux', keys: { OS: 'linux' }, runname: 'load' });
      const dRows = await store.registerTests(
        dRun.id,
        Array.from({ length: CLIENTS * PER_CLIENT }, (_, i) => ({ testname: `t${i}`, itempath: '', priority: 0, rundir: '' })),
      );
      t = performance.now();
      for (let i = 0; i < COMPARE_N; i++) {
        const [state, status] = STATES[Math.floor(i / 1000) % 3];
        await store.write(dRun.id, [
          { kind: 'test', opId: `d-${i}`, testId: dRows[i % dRows.length].id, set: { state, status }, time: Date.now() / 1000 },
        ]);
      }
      const directRate = (COMPARE_N * 1000) / (performance.now() - t);
      await store.close();
      figure('  one client alone: round trip of a write, p50', pct(single, 50), 'ms', 2);
      figure('  one client alone: round trip of a write, p99', pct(single, 99), 'ms', 2);
      figure(`  raw better-sqlite3, 1 tx per update`, rawRate, 'updates/s', 0);
      figure(`  DirectStore.write in-process, 1 op per call`, directRate, 'updates/s', 0);
    }

    // ---------------------------------------------------------------- 5. a run through the server
    const ITEMS = 1000;
    const RUN_ROUNDS = 5;
    if (part(5))
      console.log(`\n-- 5. \`trellis run\` of 1 test × ${ITEMS} items of \`true\`, -j 2: warm server vs --direct (target ≤ +20%)`);
    if (part(5)) {
      const values = Array.from({ length: ITEMS }, (_, i) => i + 1).join(' ');
      const area = makeArea('run', { many: `[items]\nN ${values}\n\n[ezsteps]\nt true\n` });
      // CPU of the runner (and its children) from /usr/bin/time when installed; the server's from /proc.
      const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
      const timeFile = path.join(tmp, 'time.out');
      let n = 0;
      /** One run under a fresh name: wall ms and the runner's CPU ms (NaN without /usr/bin/time). */
      const run = (...extra) => {
        const args = [CLI, 'run', '-t', 'linux', '-r', `r${n++}`, '-j', '2', '--area', area.dir, ...extra];
        const r = TIME
          ? timeOk(TIME, ['-f', '%U %S', '-o', timeFile, process.execPath, ...args], { env })
          : timeOk(process.execPath, args, { env });
        if (process.env.BENCH_DEBUG)
          console.log(
            r.stdout
              .split('\n')
              .filter((l) => /^Run /.test(l))
              .join('\n'),
            r.stderr
              .split('\n')
              .filter((l) => !/^\s*(PASS|RUN)/.test(l))
              .slice(-30)
              .join('\n'),
          );
        const m = /Run linux\/\S+: (\d+) tests and items \((\d+) ran\)/.exec(r.stdout);
        if (!m || Number(m[2]) !== ITEMS) throw new Error(`expected ${ITEMS} to run:\n${r.stdout.slice(-500)}`);
        const cpu = TIME
          ? readFileSync(timeFile, 'utf8')
              .trim()
              .split('\n')
              .at(-1)
              .split(' ')
              .reduce((s, x) => s + Number(x) * 1000, 0)
          : NaN;
        return { ms: r.ms, cpu };
      };
      await startServerFor(area);
      const [warmPid] = serverPids(area);
      const direct = [];
      const served = [];
      const ratios = [];
      for (let i = 0; i < RUN_ROUNDS; i++) {
        // Alternate which goes first, so a load change on the machine does not favour one side.
        const d = i % 2 === 0 ? run('--direct') : undefined;
        const s0 = cpuMs(warmPid);
        const s = run();
        s.serverCpu = cpuMs(warmPid) - s0;
        const d2 = d ?? run('--direct');
        direct.push(d2);
        served.push(s);
        ratios.push(s.ms / d2.ms);
        console.log(
          `  round ${i + 1}: --direct ${d2.ms.toFixed(0)} ms (CPU ${(d2.cpu / 1000).toFixed(2)} s), warm server ${s.ms.toFixed(0)} ms ` +
            `(CPU runner ${(s.cpu / 1000).toFixed(2)} s + server ${(s.serverCpu / 1000).toFixed(2)} s)`,
        );
      }
      const cold = [];
      for (let i = 0; i < 2; i++) {
        stopAll(area);
        cold.push(run(...(process.env.BENCH_DEBUG ? ['--debug'] : [])).ms);
        serverPids(area);
        console.log(`  cold ${i + 1}: server started by the run ${cold.at(-1).toFixed(0)} ms`);
      }
      stopAll(area);
      if (process.env.BENCH_DEBUG) {
        const logs = path.join(area.runArea, '.meta', 'logs');
        for (const f of readdirSync(logs)) console.log(`--- ${f}\n${readFileSync(path.join(logs, f), 'utf8').trim()}`);
      }
      const dMs = median(direct.map((r) => r.ms));
      const sMs = median(served.map((r) => r.ms));
      figure(`\`trellis run --direct\` (median ${RUN_ROUNDS})`, dMs, 'ms', 0);
      figure(`\`trellis run\`, warm server (median ${RUN_ROUNDS})`, sMs, 'ms', 0);
      report('extra wall time through a warm server', (sMs / dMs - 1) * 100, 20, '%', 1);
      figure('  same, median of the per-round ratios', (median(ratios) - 1) * 100, '%', 1);
      figure(
        '  same, fastest run of each',
        (Math.min(...served.map((r) => r.ms)) / Math.min(...direct.map((r) => r.ms)) - 1) * 100,
        '%',
        1,
      );
      if (TIME) {
        figure('  CPU --direct: runner + its children', median(direct.map((r) => r.cpu)), 'ms', 0);
        figure('  CPU warm server: runner + its children', median(served.map((r) => r.cpu)), 'ms', 0);
        figure('  CPU warm server: the server', median(served.map((r) => r.serverCpu)), 'ms', 0);
      }
      figure('`trellis run`, cold start included (median 2)', median(cold), 'ms', 0);
      figure('  extra wall time, cold start included', (median(cold) / dMs - 1) * 100, '%', 1);
    }

    // ---------------------------------------------------------------- 6. signed vs unsigned writes
    const SIGN_ROUNDS = 8;
    const SIGN_WRITES = 3000;
    if (part(6))
      console.log(
        `\n-- 6. server CPU per write, signed vs unsigned: ${SIGN_ROUNDS} rounds of ${SIGN_WRITES} writes each, in turn (target ≤ 1.10×)`,
      );
    if (part(6)) {
      const area = makeArea('signed');
      const ds = openDirectStore(area.runArea, { host: HOST });
      const run = await ds.ensureRun({ target: 'linux', keys: { OS: 'linux' }, runname: 'signed' });
      const rows = await ds.registerTests(
        run.id,
        Array.from({ length: 100 }, (_, i) => ({ testname: `t${i}`, itempath: '', priority: 0, rundir: '' })),
      );
      await ds.close();
      await startServerFor(area);
      const [serverPid] = serverPids(area);
      const conn = await findServer(area.paths, discovery);
      if (!conn) throw new Error('no server for the signing area');
      const { requestJson } = await import(dist('client/http.js'));
      const { RequestSigner } = await import(dist('client/signer.js'));
      const signer = new RequestSigner({
        runArea: area.runArea,
        env: { TRELLIS_ID_DIR: path.join(tmp, 'id') },
        host: HOST,
        debug: () => undefined,
      });
      const session = await signer.session(conn);
      if (!session) throw new Error('no signing session');
      let n = 0;
      // On-CPU time from schedstat (ns), not stat's 10 ms ticks: rounds are short, so that the
      // pairs see the same machine (other work comes and goes by the second).
      const cpuNs = () => Number(readFileSync(`/proc/${serverPid}/schedstat`, 'utf8').split(' ')[0]);
      const round = async (signed) => {
        const cpu0 = cpuNs();
        for (let i = 0; i < SIGN_WRITES; i++) {
          const op = {
            kind: 'test',
            opId: `s-${n++}`,
            testId: rows[i % rows.length].id,
            set: { state: 'RUNNING', status: 'n/a' },
            time: Date.now() / 1000,
          };
          const p = '/v1/store/write';
          const body = { runId: run.id, ops: [op], options: { who: `${session.user}@${HOST}` } };
          const sign = signed ? (payload) => session.headers('POST', p, payload) : undefined;
          const a = await requestJson(conn.endpoint, 'POST', p, body, 30_000, undefined, undefined, sign);
          if (a.status !== 200) throw new Error(`write answered ${a.status}: ${JSON.stringify(a.body)}`);
        }
        return (cpuNs() - cpu0) / 1000 / SIGN_WRITES;
      };
      await round(false);
      await round(true);
      const plain = [];
      const signed = [];
      for (let r = 0; r < SIGN_ROUNDS; r++) {
        if (r % 2 === 0) {
          plain.push(await round(false));
          signed.push(await round(true));
        } else {
          signed.push(await round(true));
          plain.push(await round(false));
        }
      }
      figure('  server CPU per unsigned write (median)', median(plain), 'µs', 0);
      figure('  server CPU per signed write (median)', median(signed), 'µs', 0);
      const ratios = signed.map((x, i) => x / plain[i]);
      figure('  pair ratios: lowest / highest', Math.min(...ratios), '×', 3);
      figure('  pair ratios: highest', Math.max(...ratios), '×', 3);
      report('signed / unsigned server CPU per write (median of pairs)', median(ratios), 1.1, '×', 3);
      stopAll(area);
    }
  } finally {
    for (const a of areas) {
      try {
        if (readdirSync(path.join(a, 'runs', '.meta')).some((f) => f.endsWith('.pkt'))) {
          timeOk(process.execPath, [CLI, 'server', 'stop', '--all', '--area', a], { env });
        }
      } catch {
        // no run area, or already stopped
      }
    }
  }

  const missed = results.filter((r) => !r.ok);
  console.log(
    `\n${results.length - missed.length} of ${results.length} targets met${missed.length ? `; missed: ${missed.map((r) => r.label).join('; ')}` : ''}`,
  );
}
