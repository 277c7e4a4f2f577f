/**
 * Failover through the built CLI: the run area's server is killed with -9 in the middle of a
 * 500-item run. The runner and the in-test helpers (`trellis step`, `trellis set-value`) find
 * the server gone, one of them starts a new server (which takes over the lease of the dead one
 * at once: same host, dead pid), and every call is sent again through it. The run must end as if
 * nothing happened: every item PASS, every result recorded exactly once (write ops carry ids),
 * none lost, no item run twice.
 *
 * The in-test helpers are whole Node processes (~0.15 s of CPU each), so only every
 * REPORT_EVERY-th item calls them; 1500 of them would take minutes on a 2-core machine.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { readPackets } from '../../src/client/packets.js';
import { runAreaPaths } from '../../src/config/paths.js';
import { makeArea } from '../helpers/area.js';
import { parseJson } from '../helpers/e2e.js';
import { listTests, readLines, startRun, statesOf, trellis, waitUntil } from '../helpers/run-e2e.js';
import { isPidAlive } from '../helpers/servers.js';

const N = 500;
const REPORT_EVERY = 20;
/** How many items must have finished before the server is killed. */
const KILL_AFTER = 120;

interface ServerRow {
  host: string;
  pid: number;
  status: string;
  lease: boolean;
  packet: string;
}

/**
 * Each item sleeps a little and notes its number in `done` (one line per execution, so an item
 * run twice shows); every REPORT_EVERY-th item also reports a step and a value through the server.
 */
const STEP = [
  'sleep 0.05',
  `if [ $((N % ${REPORT_EVERY})) = 0 ]; then trellis step check --state start && trellis set-value v "$N" --expected "$N" && trellis step check --state end --status PASS || exit 1; fi`,
  'echo "$N" >> "$MT_RUN_AREA_HOME/done"',
].join('; ');

const TESTCONFIG = `[items]\nN ${Array.from({ length: N }, (_, i) => i + 1).join(' ')}\n\n[ezsteps]\nwork  ${STEP}\n`;
const CONFIG = '[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs 8\n';

t.test('kill -9 of the server mid-run: a new server takes over, every result recorded exactly once', async (t) => {
  const t0 = Date.now();
  const area = makeArea(t, { config: CONFIG, tests: { t: TESTCONFIG } });
  const runArea = path.join(area, 'runs');
  const paths = runAreaPaths(runArea);
  const packets = () => readPackets(paths.metaDir, () => undefined);
  const doneFile = path.join(area, 'done');

  const proc = startRun(t, area, 'r');
  await waitUntil(() => readLines(doneFile).length >= KILL_AFTER, `${KILL_AFTER} items done`, 60_000, proc);

  const before = packets();
  t.equal(before.length, 1, 'one server serves the run', { packets: before.map((f) => f.packet) });
  const old = before[0]!;
  const doneAtKill = readLines(doneFile).length;
  process.kill(old.packet.pid, 'SIGKILL');
  await waitUntil(() => !isPidAlive(old.packet.pid), `server ${old.packet.pid} gone`);
  t.ok(doneAtKill < N && proc.child.exitCode === null, `killed mid-run (${doneAtKill} of ${N} items done)`);

  const tKill = Date.now();
  const res = await proc.done;
  t.comment(`killed after ${((tKill - t0) / 1000).toFixed(1)} s; the run ended ${((Date.now() - tKill) / 1000).toFixed(1)} s later`);
  t.equal(res.code, 0, 'the run exits 0', { output: res.stdout + res.stderr });
  t.match(res.stdout, new RegExp(`PASS ${N}\\b`), `the summary counts ${N} PASS`);

  // Every item ran exactly once.
  const executions = readLines(doneFile);
  t.equal(executions.length, N, `${N} executions of the step`);
  t.same([...new Set(executions)].length, N, 'no item ran twice');

  // A new server took over; the dead one's packet is gone.
  const after = packets();
  t.equal(after.length, 1, 'one packet left', { packets: after.map((f) => f.packet) });
  const fresh = after[0]!;
  t.not(fresh.packet.pid, old.packet.pid, 'a new server (another pid)');
  t.ok(isPidAlive(fresh.packet.pid), 'the new server runs');
  t.notOk(fs.existsSync(old.file), "the killed server's packet was removed");
  t.not(fresh.file, old.file);

  const list = await trellis(t, area, ['server', 'list', '--json']);
  t.equal(list.code, 0, 'server list exits 0', { output: list.stdout + list.stderr });
  const rows = parseJson<ServerRow[]>(list);
  t.same(
    rows.map((r) => ({ pid: r.pid, status: r.status, lease: r.lease })),
    [{ pid: fresh.packet.pid, status: 'live', lease: true }],
    'server list: one live server, holding the lease',
  );

  // What the CLI reports: all 500 items and their parent COMPLETED/PASS.
  const states = statesOf(await listTests(t, area, 'r'));
  const expected: Record<string, string> = { t: 'COMPLETED/PASS' };
  for (let i = 1; i <= N; i++) expected[`t/${i}`] = 'COMPLETED/PASS';
  t.same(states, expected, `all ${N} items COMPLETED/PASS`);

  // What the database holds: each result exactly once.
  const runDbs = fs.readdirSync(paths.dbDir).filter((f) => /^\d+\.db$/.test(f));
  t.same(runDbs.length, 1, 'one run database', { files: runDbs });
  const db = new Database(path.join(paths.dbDir, runDbs[0]!), { readonly: true, fileMustExist: true });
  t.teardown(() => db.close());

  const items = db.prepare(`SELECT id, itempath FROM tests WHERE testname = 't' AND itempath <> ''`).all() as Array<{ id: number; itempath: string }>;
  t.equal(items.length, N, `${N} item rows`);
  const itemOf = new Map(items.map((r) => [r.id, r.itempath]));

  // State changes: each item went NOT_STARTED → LAUNCHED → RUNNING → COMPLETED/PASS, once.
  const history = new Map<number, string[]>();
  for (const e of db.prepare(`SELECT test_id AS testId, detail FROM events WHERE kind = 'state' ORDER BY seq`).all() as Array<{ testId: number; detail: string }>) {
    if (!itemOf.has(e.testId)) continue;
    history.set(e.testId, [...(history.get(e.testId) ?? []), e.detail]);
  }
  const wrongHistory = [...itemOf].filter(([id]) => history.get(id)?.join(' ') !== 'NOT_STARTED/n/a LAUNCHED/n/a RUNNING/n/a COMPLETED/PASS');
  t.same(
    wrongHistory.map(([id, p]) => ({ item: p, states: history.get(id) })),
    [],
    'every item has one state event each of NOT_STARTED, LAUNCHED, RUNNING and COMPLETED/PASS',
  );
  const completed = db
    .prepare(`SELECT test_id AS testId, count(*) AS n FROM events WHERE kind = 'state' AND detail LIKE 'COMPLETED/%' GROUP BY test_id`)
    .all() as Array<{ testId: number; n: number }>;
  t.equal(completed.filter((c) => itemOf.has(c.testId) && c.n === 1).length, N, 'exactly one COMPLETED event per item');

  // Values: one row per reporting item, none for the others.
  const data = db.prepare(`SELECT test_id AS testId, name, value, status FROM test_data`).all() as Array<{ testId: number; name: string; value: string; status: string }>;
  const reporting = items.filter((r) => Number(r.itempath) % REPORT_EVERY === 0);
  t.equal(reporting.length, N / REPORT_EVERY);
  t.same(
    data.map((d) => `${itemOf.get(d.testId)}:${d.name}=${d.value}:${d.status}`).sort(),
    reporting.map((r) => `${r.itempath}:v=${r.itempath}:PASS`).sort(),
    'exactly one value per reporting item, and no other',
  );

  // Steps: `work` (the runner's) for every item, `check` (trellis step) for the reporting ones.
  const steps = db.prepare(`SELECT test_id AS testId, name, state, status FROM steps`).all() as Array<{ testId: number; name: string; state: string; status: string }>;
  const stepKeys = steps.filter((s) => itemOf.has(s.testId)).map((s) => `${itemOf.get(s.testId)}:${s.name}:${s.state}/${s.status}`);
  t.equal(new Set(stepKeys).size, stepKeys.length, 'no duplicate step rows');
  const expectedSteps: string[] = [];
  for (const r of items) {
    expectedSteps.push(`${r.itempath}:work:COMPLETED/PASS`);
    if (Number(r.itempath) % REPORT_EVERY === 0) expectedSteps.push(`${r.itempath}:check:COMPLETED/PASS`);
  }
  t.same(stepKeys.sort(), expectedSteps.sort(), 'each item has its steps, each once, COMPLETED/PASS');

  t.comment(`took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});
