/**
 * Servers across hosts, with the simulated hosts of ../shared/netns/hosts.sh (network namespaces
 * h1..h3 = 10.213.0.1..3, each with its own hostname, all sharing this filesystem as NFS
 * clients would): a server started on h1 advertises h1's address; a run on h2 and commands on h3
 * use it; when it is killed with -9 mid-run, h2's client cannot tell that a process on another
 * host is dead, so the new server it starts waits for the old lease to go stale (10 s), then
 * takes over, advertising h2's address — and the run ends with every result recorded once.
 *
 * Needs root, iproute2 (`ip`) and util-linux (`unshare`); without them this test fails (CI has
 * them) rather than being skipped. The area's config has a [server] section without bind or
 * advertise, so servers listen on all interfaces; no traffic leaves the simulated hosts (the
 * test process itself never sends any to them).
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { readPackets } from '../../src/client/packets.js';
import { runAreaPaths } from '../../src/config/paths.js';
import type { ServerRow } from '../../src/report/records-json.js';
import { readLeaseOwner } from '../../src/server/lease.js';
import { dump, parseJson } from '../helpers/e2e.js';
import { checkExecutions, checkRecordedOnce, itemsTestconfig, RELEASE_FILE, type ItemsSpec } from '../helpers/failover.js';
import { readLines, TARGET, waitUntil, type TestRow } from '../helpers/run-e2e.js';
import { isPidAlive, stopServersUnder } from '../helpers/servers.js';
import { writeArea } from '../helpers/area.js';
import { hostsSh, trellisOn, upHosts } from '../helpers/sim-hosts.js';

const ADDR = { h1: '10.213.0.1', h2: '10.213.0.2', h3: '10.213.0.3' } as const;
type Host = keyof typeof ADDR;

/**
 * 120 items of 1 s, 8 at a time; those from 25 on wait until the server has been killed, and then
 * take longer than the ~10 s the takeover needs.
 */
const SPEC: ItemsSpec = { n: 120, sleep: 1, reportEvery: 5, doneFile: 'done', holdFrom: 25 };
const KILL_AFTER = 16;
/** A [server] section without bind or advertise: listen everywhere, advertise the host's IPv4. */
const CONFIG = '[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs 8\n\n[server]\nidle_timeout 5m\n';

t.test('a server on h1 serves h2 and h3; killed mid-run, h2 takes over after the lease goes stale', async (t) => {
  const t0 = Date.now();
  // Teardown, also after a failure: stop every server of the area, then remove the hosts.
  // Registered before t.testdir(): tap removes the folder after the teardowns registered before it.
  let area = '';
  await upHosts(t, 3, () => (area !== '' ? stopServersUnder(area) : undefined));
  area = writeArea(t.testdir(), { config: CONFIG, tests: { t: itemsTestconfig(SPEC) } });
  const runArea = path.join(area, 'runs');
  const paths = runAreaPaths(runArea);
  const packets = () => readPackets(paths.metaDir, () => undefined);
  const doneFile = path.join(area, SPEC.doneFile);
  const on = (host: Host, ...args: string[]) => trellisOn(t, host, [...args, '--area', area]);
  const json = async <T>(host: Host, ...args: string[]): Promise<T> => {
    const res = await on(host, ...args, '--json').done;
    if (res.code !== 0) throw new Error(`${host}: trellis ${args.join(' ')} --json failed\n${dump(res)}`);
    return parseJson<T>(res);
  };

  t.equal(hostsSh('exec', 'h2', 'hostname').trim(), 'h2', 'h2 has its own hostname');

  // A server started on h1 advertises h1's address.
  const started = await on('h1', 'server', 'start').done;
  t.equal(started.code, 0, 'server start on h1 exits 0', { output: dump(started) });
  t.match(started.stdout, /^started server pid \d+ on host h1 at 10\.213\.0\.1:\d+/m);
  const first = packets();
  t.equal(first.length, 1, 'one packet');
  const old = first[0]!;
  t.match(old.packet, { host: 'h1', address: ADDR.h1, invocation: 'other' }, "the packet advertises h1's address");

  // A run on h2 goes through h1's server.
  const runProc = on('h2', 'run', '-t', TARGET, '-r', 'r');
  const waitDone = (count: number, ms: number) =>
    waitUntil(() => readLines(doneFile).length >= count, `${count} items done`, ms).catch((err: Error) => {
      throw new Error(`${err.message}\nrun on h2 so far:\nstdout:\n${runProc.stdout}\nstderr:\n${runProc.stderr}`);
    });
  await waitDone(KILL_AFTER, 60_000);
  t.same(
    packets().map((f) => f.packet.pid),
    [old.packet.pid],
    'the run on h2 started no server of its own',
  );

  const servers = await json<ServerRow[]>('h3', 'server', 'list');
  t.same(
    servers.map((r) => ({ host: r.host, address: r.address, pid: r.pid, status: r.status, lease: r.lease })),
    [{ host: 'h1', address: ADDR.h1, pid: old.packet.pid, status: 'live', lease: true }],
    "server list on h3: h1's server, live, holding the lease",
  );
  const runs = await json<Array<{ target: string; runname: string; state: string }>>('h3', 'list', 'runs');
  t.match(runs, [{ target: TARGET, runname: 'r', state: 'running' }], 'list runs on h3 sees the run, running');
  t.equal(runs.length, 1);

  // Kill h1's server (same pid namespace: the test can).
  const doneAtKill = readLines(doneFile).length;
  process.kill(old.packet.pid, 'SIGKILL');
  const killedAt = Date.now() / 1000;
  await waitUntil(() => !isPidAlive(old.packet.pid), `server ${old.packet.pid} gone`);
  t.ok(doneAtKill < SPEC.n && runProc.child.exitCode === null, `killed mid-run (${doneAtKill} of ${SPEC.n} items done)`);
  fs.writeFileSync(path.join(area, RELEASE_FILE), '');

  const res = await runProc.done;
  t.comment(`killed after ${(killedAt - t0 / 1000).toFixed(1)} s; the run ended ${(Date.now() / 1000 - killedAt).toFixed(1)} s later`);
  t.equal(res.code, 0, 'the run on h2 exits 0', { output: dump(res) });
  t.match(res.stdout, new RegExp(`PASS ${SPEC.n}\\b`), `the summary counts ${SPEC.n} PASS`);
  checkExecutions(t, area, SPEC);

  // The new server: started by h2's client once the old lease was stale, advertising h2's address.
  const after = packets();
  t.equal(after.length, 1, 'one packet left', { packets: after.map((f) => f.packet) });
  const fresh = after[0]!;
  t.match(fresh.packet, { host: 'h2', address: ADDR.h2 }, "the new server is on h2 and advertises h2's address");
  t.not(fresh.packet.pid, old.packet.pid);
  t.ok(isPidAlive(fresh.packet.pid), 'the new server runs');
  t.notOk(fs.existsSync(old.file), "the killed server's packet was removed");
  // h2 cannot see that a pid on h1 is dead: it had to wait for the lease to go stale (10 s after
  // its last refresh, which is at most 2 s before the kill).
  t.ok(
    fresh.packet.started - killedAt >= 7,
    `the new server started ${(fresh.packet.started - killedAt).toFixed(1)} s after the kill, once the lease was stale`,
  );
  t.match(readLeaseOwner(paths), { host: 'h2', pid: fresh.packet.pid }, 'the new server holds the lease');

  const serversAfter = await json<ServerRow[]>('h3', 'server', 'list');
  t.same(
    serversAfter.map((r) => ({ host: r.host, address: r.address, pid: r.pid, status: r.status, lease: r.lease })),
    [{ host: 'h2', address: ADDR.h2, pid: fresh.packet.pid, status: 'live', lease: true }],
    "server list on h3: h2's server, live, holding the lease",
  );
  const rows = await json<TestRow[]>('h3', 'list', 'tests', '-t', TARGET, '-r', 'r');
  t.equal(rows.length, SPEC.n + 1, 'list tests on h3: every item and the test');
  t.same(
    rows.filter((r) => r.state !== 'COMPLETED' || r.status !== 'PASS').map((r) => `${r.testname}/${r.itempath} ${r.state}/${r.status}`),
    [],
    'all COMPLETED/PASS',
  );
  t.same([...new Set(rows.filter((r) => r.itempath !== '').map((r) => r.host))], ['h2'], 'every item ran on h2');

  checkRecordedOnce(t, runArea, 't', SPEC);
  t.comment(`took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});
