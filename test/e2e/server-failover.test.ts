/**
 * Failover through the built CLI: the run area's server is killed with -9 in the middle of a
 * 500-item run. The runner and the in-test helpers (`trellis step`, `trellis set-value`) find
 * the server gone, one of them starts a new server (which takes over the lease of the dead one
 * at once: same host, dead pid), and every call is sent again through it. The run must end as if
 * nothing happened: every item PASS, every result recorded exactly once (write ops carry ids),
 * none lost, no item run twice.
 *
 * The in-test helpers are whole Node processes (~0.15 s of CPU each), so only every 20th item
 * calls them: 1500 of them would take minutes on a 2-core machine.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { readPackets } from '../../src/client/packets.js';
import { runAreaPaths } from '../../src/config/paths.js';
import { makeArea } from '../helpers/area.js';
import { parseJson } from '../helpers/e2e.js';
import { checkExecutions, checkRecordedOnce, itemsTestconfig, RELEASE_FILE, type ItemsSpec } from '../helpers/failover.js';
import { listTests, readLines, startRun, statesOf, trellis, waitUntil } from '../helpers/run-e2e.js';
import { isPidAlive } from '../helpers/servers.js';

/** Items from 150 on wait until the server has been killed. */
const SPEC: ItemsSpec = { n: 500, sleep: 0.05, reportEvery: 20, doneFile: 'done', holdFrom: 150 };
/** How many items must have finished before the server is killed. */
const KILL_AFTER = 120;
const CONFIG = '[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs 8\n';

interface ServerRow {
  host: string;
  pid: number;
  status: string;
  lease: boolean;
}

t.test('kill -9 of the server mid-run: a new server takes over, every result recorded exactly once', async (t) => {
  const t0 = Date.now();
  const area = makeArea(t, { config: CONFIG, tests: { t: itemsTestconfig(SPEC) } });
  const runArea = path.join(area, 'runs');
  const packets = () => readPackets(runAreaPaths(runArea).metaDir, () => undefined);
  const doneFile = path.join(area, SPEC.doneFile);

  const proc = startRun(t, area, 'r');
  await waitUntil(() => readLines(doneFile).length >= KILL_AFTER, `${KILL_AFTER} items done`, 60_000, proc);

  const before = packets();
  t.equal(before.length, 1, 'one server serves the run', { packets: before.map((f) => f.packet) });
  const old = before[0]!;
  const doneAtKill = readLines(doneFile).length;
  process.kill(old.packet.pid, 'SIGKILL');
  const tKill = Date.now();
  await waitUntil(() => !isPidAlive(old.packet.pid), `server ${old.packet.pid} gone`);
  t.ok(doneAtKill < SPEC.n && proc.child.exitCode === null, `killed mid-run (${doneAtKill} of ${SPEC.n} items done)`);
  fs.writeFileSync(path.join(area, RELEASE_FILE), '');

  const res = await proc.done;
  t.comment(`killed after ${((tKill - t0) / 1000).toFixed(1)} s; the run ended ${((Date.now() - tKill) / 1000).toFixed(1)} s later`);
  t.equal(res.code, 0, 'the run exits 0', { output: res.stdout + res.stderr });
  t.match(res.stdout, new RegExp(`PASS ${SPEC.n}\\b`), `the summary counts ${SPEC.n} PASS`);
  checkExecutions(t, area, SPEC);

  // A new server took over; the dead one's packet is gone.
  const after = packets();
  t.equal(after.length, 1, 'one packet left', { packets: after.map((f) => f.packet) });
  const fresh = after[0]!;
  t.not(fresh.packet.pid, old.packet.pid, 'a new server (another pid)');
  t.ok(isPidAlive(fresh.packet.pid), 'the new server runs');
  t.notOk(fs.existsSync(old.file), "the killed server's packet was removed");
  // Same host, dead pid: the lease is broken at once, not after it goes stale (8-10 s).
  const takeover = fresh.packet.started - tKill / 1000;
  t.ok(takeover < 7, `the new server started ${takeover.toFixed(1)} s after the kill, without waiting for the lease to go stale`);

  const list = await trellis(t, area, ['server', 'list', '--json']);
  t.equal(list.code, 0, 'server list exits 0', { output: list.stdout + list.stderr });
  t.same(
    parseJson<ServerRow[]>(list).map((r) => ({ pid: r.pid, status: r.status, lease: r.lease })),
    [{ pid: fresh.packet.pid, status: 'live', lease: true }],
    'server list: one live server, holding the lease',
  );

  // What the CLI reports: all items and their parent COMPLETED/PASS.
  const expected: Record<string, string> = { t: 'COMPLETED/PASS' };
  for (let i = 1; i <= SPEC.n; i++) expected[`t/${i}`] = 'COMPLETED/PASS';
  t.same(statesOf(await listTests(t, area, 'r')), expected, `all ${SPEC.n} items COMPLETED/PASS`);

  // What the database holds: each result exactly once.
  checkRecordedOnce(t, runArea, 't', SPEC);
  t.comment(`took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});
