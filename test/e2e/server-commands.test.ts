/**
 * `trellis server start|list|stop|ping` through the built CLI, on areas in temp folders: what
 * each prints, its exit code, and what it leaves in `.meta/`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import t, { type Test } from 'tap';
import { readPackets } from '../../src/client/packets.js';
import { runAreaPaths } from '../../src/config/paths.js';
import { encodePacket, type Packet } from '../../src/model/protocol.js';
import type { ServerRow } from '../../src/report/records-json.js';
import { readLeaseOwner } from '../../src/server/lease.js';
import { shortHostname } from '../../src/util/host.js';
import { makeArea } from '../helpers/area.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { assertUserError, dump, parseJson } from '../helpers/e2e.js';
import { waitUntil } from '../helpers/run-e2e.js';
import { isPidAlive } from '../helpers/servers.js';

const HOST = shortHostname();

interface Ctx {
  testdir(): string;
  teardown(fn: () => unknown): void;
  testdirName: string;
}

function setup(t: Ctx) {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nx true\n' } });
  const runArea = path.join(area, 'runs');
  const paths = runAreaPaths(runArea);
  const cli = (...args: string[]): Promise<CliResult> => runCli(t, [...args, '--area', area]);
  const packets = () => readPackets(paths.metaDir, () => undefined);
  return { area, runArea, paths, cli, packets };
}

/** Writes a well-formed packet into `metaDir`, touched `age` seconds ago; returns its file. */
function plant(metaDir: string, packet: Packet, age = 0): string {
  const { text, sha1 } = encodePacket(packet);
  const file = path.join(metaDir, `${sha1}.pkt`);
  fs.writeFileSync(file, text, { mode: 0o640 });
  const when = Date.now() / 1000 - age;
  fs.utimesSync(file, when, when);
  return file;
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** `trellis server start`, returning the pid it names. */
async function start(t: Test, cli: (...a: string[]) => Promise<CliResult>, ...extra: string[]): Promise<number> {
  const r = await cli('server', 'start', ...extra);
  t.equal(r.code, 0, `server start\n${dump(r)}`);
  const m = /^started server pid (\d+) on host \S+ at 127\.0\.0\.1:\d+ \(log .*\.log\)$/m.exec(r.stdout);
  if (!m) throw new Error(`unexpected output\n${dump(r)}`);
  return Number(m[1]);
}

t.test('server ping with no server: exit 7 NO_SERVER in one line, and starts none', async (t) => {
  const { cli, packets, paths } = setup(t);
  const r = await cli('server', 'ping');
  assertUserError(t, r, 7, /no server is running for .*runs/, /trellis server start/);
  t.same(packets(), [], 'no server was started');
  t.notOk(fs.existsSync(paths.tokenFile), 'nor a token made');
});

t.test('server list and stop with no server', async (t) => {
  const { cli, runArea } = setup(t);
  const list = await cli('server', 'list');
  t.equal(list.code, 0, dump(list));
  t.equal(list.stdout, `No servers for ${runArea}; any trellis command starts one, or: trellis server start\n`);
  t.same(parseJson(await cli('server', 'list', '--json')), []);
  const stop = await cli('server', 'stop');
  t.equal(stop.code, 0, dump(stop));
  t.equal(stop.stdout, `No server is running for ${runArea}\n`);
  t.equal((await cli('server', 'stop', '--all')).stdout, `No server is running for ${runArea}\n`);
});

t.test('server start, start again, ping, list, stop', async (t) => {
  const { cli, packets, paths } = setup(t);
  const pid = await start(t, cli, '--invocation', 'runner');
  t.ok(isPidAlive(pid), 'the server runs on after the command');
  t.same(
    packets().map((f) => [f.packet.pid, f.packet.invocation]),
    [[pid, 'runner']],
    'its packet',
  );

  const again = await cli('server', 'start');
  t.equal(again.code, 0, dump(again));
  t.match(
    again.stdout,
    new RegExp(`^already running: server pid ${pid} on host ${HOST} at 127\\.0\\.0\\.1:\\d+ \\(invocation runner\\)\\n$`),
  );
  t.equal(packets().length, 1, 'no second server');

  const ping = await cli('server', 'ping');
  t.equal(ping.code, 0, dump(ping));
  t.equal(ping.stdout.split('\n').filter((l) => l).length, 1, 'one line');
  t.match(
    ping.stdout,
    new RegExp(
      `^server pid ${pid} on host ${HOST} at 127\\.0\\.0\\.1:\\d+ \\(invocation runner, up .*\\) answered; discovery and health check took [\\d.]+ ms\\n$`,
    ),
  );
  t.equal(ping.stderr, '');

  const table = await cli('server', 'list');
  t.equal(table.code, 0, dump(table));
  const lines = table.stdout.trimEnd().split('\n');
  t.match(lines[0], /^HOST\s+ADDRESS\s+PID\s+INVOCATION\s+UPTIME\s+HEARTBEAT\s+STATUS\s+LEASE$/);
  t.equal(lines.length, 2, 'one server');
  t.match(lines[1], new RegExp(`^${HOST}\\s+127\\.0\\.0\\.1:\\d+\\s+${pid}\\s+runner\\s+\\S+\\s+\\d+s\\s+live\\s+yes$`));

  const rows = parseJson<ServerRow[]>(await cli('server', 'list', '--json'));
  t.match(rows, [{ host: HOST, address: '127.0.0.1', pid, invocation: 'runner', status: 'live', lease: true, packet: packets()[0]!.file }]);
  t.match(rows[0]?.started, /^\d{4}-\d\d-\d\dT/);

  const stop = await cli('server', 'stop');
  t.equal(stop.code, 0, dump(stop));
  t.match(stop.stdout, new RegExp(`^stopped server pid ${pid} on host ${HOST} at 127\\.0\\.0\\.1:\\d+\\n$`));
  t.same(packets(), [], 'its packet is gone when stop returns');
  await waitUntil(() => !isPidAlive(pid), 'the server process to exit');
  t.notOk(fs.existsSync(`${paths.dbDir}.lock`), 'lease released');
  t.equal(readLeaseOwner(paths), undefined);
  assertUserError(t, await cli('server', 'ping'), 7, /no server is running/);
});

t.test('server list: live, stale, unreachable and other-area rows; ping removes a stale dead one', async (t) => {
  const { cli, packets, paths } = setup(t);
  const pid = await start(t, cli);
  const live = packets()[0]!.packet;
  const dead = await deadPid();
  const port = await closedPort();
  const staleDead = plant(paths.metaDir, { ...live, pid: dead, port, started: live.started - 1000 }, 60);
  const staleLive = plant(paths.metaDir, { ...live, pid: process.pid, port, started: live.started - 2000 }, 60);
  const staleFar = plant(paths.metaDir, { ...live, host: 'elsewhere', pid: dead, port, started: live.started - 3000 }, 60);
  const unreachable = plant(paths.metaDir, { ...live, pid: process.pid, port, started: live.started - 500 });
  const other = plant(paths.metaDir, { ...live, pid: process.pid, areaId: 'f'.repeat(32), started: live.started - 100 });

  const rows = parseJson<ServerRow[]>(await cli('server', 'list', '--json'));
  const byFile = new Map(rows.map((r) => [r.packet, r]));
  t.equal(rows.length, 6, 'every packet is listed');
  t.match(byFile.get(packets().find((f) => f.packet.pid === pid)!.file), { status: 'live', lease: true });
  t.match(byFile.get(staleDead), { status: 'stale', lease: false, pid: dead });
  t.match(byFile.get(staleLive), { status: 'stale', lease: false });
  t.match(byFile.get(staleFar), { status: 'stale', host: 'elsewhere' });
  t.match(byFile.get(unreachable), { status: 'unreachable', lease: false });
  t.match(byFile.get(other), { status: 'other-area', lease: false });
  t.ok((byFile.get(staleDead)?.heartbeatAge ?? 0) >= 59, 'heartbeat age from the mtime');
  t.same(
    rows.map((r) => r.packet),
    [staleFar, staleLive, staleDead, unreachable, other, packets().find((f) => f.packet.pid === pid)!.file],
    'oldest first',
  );

  // Its heartbeat is its mtime: on a loaded machine the commands above can take longer than the 30 s
  // after which it would read as stale, so touch it again, as its server would.
  const now = Date.now() / 1000;
  fs.utimesSync(unreachable, now, now);
  const table = await cli('server', 'list');
  for (const status of ['live', 'stale', 'unreachable', 'other-area'])
    t.match(table.stdout, new RegExp(`\\s${status}(\\s|$)`, 'm'), `the table shows ${status}`);
  t.equal(fs.existsSync(staleDead), true, 'list only looks');

  // a client (ping) uses the live server and removes only the packets provably gone
  const ping = await cli('server', 'ping', '--debug');
  t.equal(ping.code, 0, dump(ping));
  t.match(ping.stdout, new RegExp(`^server pid ${pid} `));
  t.notOk(fs.existsSync(staleDead), 'the stale packet of a dead pid on this host is removed');
  t.match(ping.stderr, /removing stale packet/);
  t.ok(fs.existsSync(staleLive), 'a stale packet whose pid lives is kept');
  t.ok(fs.existsSync(staleFar), 'a stale packet of another host is kept (nothing proves it gone)');
  t.ok(fs.existsSync(other), 'a packet of another area is kept');
});

t.test('server stop --all stops the live server and leaves what is not one', async (t) => {
  const { cli, packets, paths } = setup(t);
  const pid = await start(t, cli);
  const live = packets()[0]!.packet;
  const unreachable = plant(paths.metaDir, { ...live, pid: process.pid, port: await closedPort(), started: live.started - 10 });
  const stop = await cli('server', 'stop', '--all');
  t.equal(stop.code, 0, dump(stop));
  t.equal(stop.stdout.split('\n').filter((l) => l).length, 1, `one server stopped\n${dump(stop)}`);
  t.match(stop.stdout, new RegExp(`^stopped server pid ${pid} `));
  await waitUntil(() => !isPidAlive(pid), 'the server to exit');
  t.same(
    packets().map((f) => f.file),
    [unreachable],
    'only the unreachable packet remains',
  );
  t.ok(isPidAlive(process.pid), 'and the pid it names was not signalled');
});

t.test('server stop of a server killed -9: its packet is removed, and a command starts a new one', async (t) => {
  const { cli, packets } = setup(t);
  const pid = await start(t, cli);
  process.kill(pid, 'SIGKILL');
  await waitUntil(() => !isPidAlive(pid), 'the server to die');
  t.equal(packets().length, 1, 'the dead server left its packet');
  const list = await cli('list', 'runs');
  t.equal(list.code, 0, dump(list));
  const now = packets();
  t.equal(now.length, 1, 'the dead packet was replaced');
  t.not(now[0]?.packet.pid, pid, 'by a new server');
  const stop = await cli('server', 'stop');
  t.match(stop.stdout, new RegExp(`^stopped server pid ${now[0]!.packet.pid} `));
});

t.test('any data command starts a server (invocation other) that server commands then see', async (t) => {
  const { cli, packets } = setup(t);
  const r = await cli('list', 'runs');
  t.equal(r.code, 0, dump(r));
  const [f] = packets();
  t.match(f?.packet, { invocation: 'other', host: HOST, address: '127.0.0.1' });
  const again = await cli('list', 'runs');
  t.equal(again.code, 0);
  t.same(
    packets().map((g) => g.packet.pid),
    [f!.packet.pid],
    'the next command uses the same server',
  );
  const run = await cli('run', '-t', 'linux/x86_64', '-r', 'r1');
  t.equal(run.code, 0, dump(run));
  t.same(
    packets().map((g) => g.packet.pid),
    [f!.packet.pid],
    'so does a run',
  );
});
