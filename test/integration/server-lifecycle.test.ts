/**
 * A server's life on a temp run area (design §5): in this process with startServer, and as the
 * real CLI (`trellis server start --foreground`) in a child process. Its packet appears with the
 * right fields and goes when it stops — on request, on SIGTERM, on its idle timeout — together
 * with the write lease; a second server cannot get the lease and names its holder; a kill -9'd
 * server's lease is taken over at once by the next server on this host.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { requestJson, TransportError } from '../../src/client/http.js';
import { readPackets } from '../../src/client/packets.js';
import { readAreaIdFile, validToken } from '../../src/config/meta-files.js';
import { runAreaPaths } from '../../src/config/paths.js';
import type { ServerConfig } from '../../src/config/types.js';
import { encodePacket, type HealthInfo } from '../../src/model/protocol.js';
import { readLeaseOwner } from '../../src/server/lease.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { shortHostname } from '../../src/util/host.js';
import { trellisVersion } from '../../src/util/version.js';
import { makeArea, DEFAULT_CONFIG } from '../helpers/area.js';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { dump } from '../helpers/e2e.js';
import { waitUntil } from '../helpers/run-e2e.js';

const HOST = shortHostname();
const now = () => Date.now() / 1000;
const config = (idleTimeout = 600): ServerConfig => ({
  idleTimeout,
  portRange: null,
  advertise: undefined,
  bind: '127.0.0.1',
  logLevel: 'info',
  logMaxBytes: 10 * 1024 * 1024,
  logFiles: 5,
});

interface Ctx {
  testdir(): string;
  teardown(fn: () => unknown): void;
}

/** Starts a server in this process on `runArea`, stopped at teardown if still running. */
async function serve(t: Ctx, runArea: string, over: Partial<Parameters<typeof startServer>[0]> = {}): Promise<RunningServer> {
  const server = await startServer({ runArea, invocation: 'other', config: config(), host: HOST, now, leaseWaitMs: 2000, ...over });
  t.teardown(() => server.stop('test over'));
  return server;
}

const lockDir = (runArea: string) => `${runAreaPaths(runArea).dbDir}.lock`;
const packetsIn = (runArea: string) => readPackets(runAreaPaths(runArea).metaDir, () => undefined);

/** GET /v1/health of a packet's server with the area token. */
async function health(runArea: string, port: number) {
  const token = validToken(runAreaPaths(runArea))!;
  return requestJson({ address: '127.0.0.1', port, token }, 'GET', '/v1/health', undefined, 2000);
}

/** True when nothing listens on the port any more. */
async function refused(port: number): Promise<boolean> {
  try {
    await requestJson({ address: '127.0.0.1', port, token: 'x' }, 'GET', '/v1/health', undefined, 2000);
    return false;
  } catch (err) {
    return err instanceof TransportError && err.refused;
  }
}

/** An area whose server binds to 127.0.0.1 with the given idle timeout. */
function area(t: Ctx, idle = '10m'): string {
  return makeArea(t, {
    config: `${DEFAULT_CONFIG}\n[server]\nbind 127.0.0.1\nidle_timeout ${idle}\n`,
    tests: { a: '[ezsteps]\nx true\n' },
  });
}

/** `trellis server start --foreground` on the area, once it says where it serves. */
async function foreground(t: Ctx & { testdirName: string }, dir: string, extra: string[] = []): Promise<{ cli: CliProcess; pid: number }> {
  const cli = startCli(t, ['server', 'start', '--foreground', '--area', dir, ...extra]);
  await cli.waitFor((out) => /serving .* at \S+:\d+ \(pid \d+/.test(out) || cli.child.exitCode !== null);
  const m = /\(pid (\d+)/.exec(cli.stdout);
  if (!m) throw new Error(`the server did not start\nstdout:\n${cli.stdout}\nstderr:\n${cli.stderr}`);
  return { cli, pid: Number(m[1]) };
}

t.test('in process: the packet, health, and a clean stop', async (t) => {
  const runArea = t.testdir();
  const paths = runAreaPaths(runArea);
  const before = now();
  const server = await serve(t, runArea, { invocation: 'runner' });
  const p = server.packet;
  t.match(p, { host: HOST, address: '127.0.0.1', pid: process.pid, invocation: 'runner', version: trellisVersion() });
  t.ok(p.port > 0 && p.port < 65536, 'a real port');
  t.ok(p.started >= before - 1 && p.started <= now() + 1, 'started: now');
  t.equal(p.areaId, readAreaIdFile(paths), 'the area id of .meta/area-id');
  t.equal(server.packetFile, path.join(paths.metaDir, `${encodePacket(p).sha1}.pkt`), 'named by its SHA-1');
  t.same(
    packetsIn(runArea).map((f) => f.packet),
    [p],
    'one packet, readable by clients',
  );
  t.equal(fs.statSync(server.packetFile).mode & 0o777, 0o640);
  t.ok(fs.existsSync(lockDir(runArea)), 'the lease is held');
  t.match(readLeaseOwner(paths), { host: HOST, pid: process.pid }, 'lease.json names the holder');

  const h = await health(runArea, p.port);
  t.equal(h.status, 200);
  t.match(h.body as HealthInfo, { areaId: p.areaId, pid: process.pid, invocation: 'runner' });
  const denied = await requestJson({ address: '127.0.0.1', port: p.port, token: 'wrong' }, 'GET', '/v1/health', undefined, 2000);
  t.equal(denied.status, 401, 'a wrong token: 401');

  t.equal(await server.stop('done here'), 'done here');
  t.equal(await server.stopped, 'done here', 'stopped resolves with the reason');
  t.notOk(fs.existsSync(server.packetFile), 'packet removed');
  t.notOk(fs.existsSync(lockDir(runArea)), 'lease released');
  t.equal(readLeaseOwner(paths), undefined, 'lease.json removed');
  t.ok(await refused(p.port), 'no longer listening');
  t.match(fs.readFileSync(server.logFile, 'utf8'), /serving[\s\S]*stopping: done here[\s\S]*stopped/, 'the log says why');
  t.equal(await server.stop('again'), 'done here', 'stopping twice is harmless');
});

t.test('in process: stops by itself when idle, and calls keep it alive', async (t) => {
  const runArea = t.testdir();
  const server = await serve(t, runArea, { config: config(1.5) });
  const port = server.packet.port;
  // calls keep it alive past its idle timeout
  const until = Date.now() + 2500;
  let stoppedEarly = false;
  void server.stopped.then(() => (stoppedEarly = Date.now() < until));
  while (Date.now() < until) {
    t.equal((await health(runArea, port)).status, 200, 'answers while called');
    await new Promise((r) => setTimeout(r, 400));
  }
  t.notOk(stoppedEarly, 'still up after more than its idle timeout while called');
  const reason = await server.stopped;
  t.match(reason, /idle for 1.5 s/);
  t.notOk(fs.existsSync(server.packetFile), 'packet removed');
  t.notOk(fs.existsSync(lockDir(runArea)), 'lease released');
  t.ok(await refused(port), 'no longer listening');
});

t.test('in process: a second server cannot get the lease and names the holder', async (t) => {
  const runArea = t.testdir();
  const first = await serve(t, runArea);
  const t0 = Date.now();
  await t.rejects(serve(t, runArea, { leaseWaitMs: 300 }), {
    code: 'LEASE_HELD',
    exitCode: 5,
    message: new RegExp(`held by server pid ${process.pid} on host ${HOST}`),
  });
  t.ok(Date.now() - t0 >= 300, 'it waited for the lease first');
  t.same(
    packetsIn(runArea).map((f) => f.packet.port),
    [first.packet.port],
    'no second packet',
  );
  t.equal((await health(runArea, first.packet.port)).status, 200, 'the first one is unharmed');
  t.ok(fs.existsSync(lockDir(runArea)), 'and still holds the lease');
});

t.test('in process: a removed packet is written again at the next touch', async (t) => {
  const runArea = t.testdir();
  const server = await serve(t, runArea);
  fs.unlinkSync(server.packetFile);
  await waitUntil(() => fs.existsSync(server.packetFile), 'the packet to come back', 60_000);
  t.same(
    packetsIn(runArea).map((f) => f.packet),
    [server.packet],
    'the same packet',
  );
});

t.test('in process: a server that loses its lease stops, and leaves the new holder alone', async (t) => {
  const dir = area(t);
  const runArea = path.join(dir, 'runs');
  const paths = runAreaPaths(runArea);
  const first = await serve(t, runArea);
  // Someone breaks the lease (as proper-lockfile does with a lock not refreshed for 10 s) and
  // another server takes it.
  fs.rmSync(lockDir(runArea), { recursive: true });
  const { cli, pid } = await foreground(t, dir);
  t.match(readLeaseOwner(paths), { pid }, 'the new server holds the lease');
  t.equal(await first.stopped, 'lost the write lease', 'the old one notices and stops');
  t.notOk(fs.existsSync(first.packetFile), 'its packet is gone');
  t.ok(fs.existsSync(lockDir(runArea)), 'the new holder still has its lock');
  t.match(readLeaseOwner(paths), { pid }, 'and lease.json still names it');
  t.same(
    packetsIn(runArea).map((f) => f.packet.pid),
    [pid],
    'only the new packet',
  );
  cli.child.kill('SIGTERM');
  t.equal((await cli.done).code, 0, dump(await cli.done));
});

t.test('CLI: SIGTERM stops the server, removing its packet and lease', async (t) => {
  const dir = area(t);
  const runArea = path.join(dir, 'runs');
  const { cli, pid } = await foreground(t, dir, ['--invocation', 'dboard']);
  const [f] = packetsIn(runArea);
  t.match(f?.packet, { pid, host: HOST, address: '127.0.0.1', invocation: 'dboard' }, 'its packet');
  t.equal((await health(runArea, f!.packet.port)).status, 200);
  cli.child.kill('SIGTERM');
  const r = await cli.done;
  t.equal(r.code, 0, `exits 0\n${dump(r)}`);
  t.match(r.stdout, /server stopped: interrupted/);
  t.equal(r.stderr, '', 'nothing on stderr');
  t.same(packetsIn(runArea), [], 'packet removed');
  t.notOk(fs.existsSync(lockDir(runArea)), 'lease released');
  t.ok(await refused(f!.packet.port), 'port closed');
});

t.test('CLI: the idle timeout ends the server by itself', async (t) => {
  const dir = area(t, '1s');
  const runArea = path.join(dir, 'runs');
  const { cli } = await foreground(t, dir);
  t.equal(packetsIn(runArea).length, 1, 'a packet while it runs');
  const r = await cli.done;
  t.equal(r.code, 0, dump(r));
  t.match(r.stdout, /server stopped: idle for 1 s/);
  t.same(packetsIn(runArea), [], 'packet removed');
  t.notOk(fs.existsSync(lockDir(runArea)), 'lease released (.db.lock gone)');
  t.same(
    fs.readdirSync(runAreaPaths(runArea).metaDir).filter((n) => n.endsWith('.tmp')),
    [],
    'no temp files left',
  );
});

t.test('CLI: a second server on the run area exits 5 naming the holder', async (t) => {
  const dir = area(t);
  const runArea = path.join(dir, 'runs');
  const { cli: first, pid } = await foreground(t, dir);
  const second = startCli(t, ['server', 'start', '--foreground', '--area', dir]);
  const r = await second.done;
  t.equal(r.code, 5, `LEASE_HELD: exit 5\n${dump(r)}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, `one line\n${dump(r)}`);
  t.match(lines[0], new RegExp(`^trellis: the write lease of .* is held by server pid ${pid} on host ${HOST}`));
  t.match(lines[0], /trellis server (list|stop)/, 'says what to do');
  t.same(
    packetsIn(runArea).map((f) => f.packet.pid),
    [pid],
    'the first server is still the only one',
  );
  t.equal(first.child.exitCode, null, 'and still running');
  first.child.kill('SIGTERM');
  await first.done;
});

t.test('CLI: after kill -9, the next server on this host takes the lease at once', async (t) => {
  const dir = area(t);
  const runArea = path.join(dir, 'runs');
  const paths = runAreaPaths(runArea);
  const { cli, pid } = await foreground(t, dir);
  const oldPort = packetsIn(runArea)[0]!.packet.port;
  cli.child.kill('SIGKILL');
  await cli.done;
  t.ok(fs.existsSync(lockDir(runArea)), 'the dead server left its lock behind');
  t.match(readLeaseOwner(paths), { pid }, 'and lease.json names it');
  t.equal(packetsIn(runArea).length, 1, 'and its packet');

  const t0 = Date.now();
  // no waiting allowed: the holder's pid is dead, so the lease is free now
  const next = await serve(t, runArea, { leaseWaitMs: 0 });
  t.ok(Date.now() - t0 < 5000, `took over in ${Date.now() - t0} ms`);
  t.match(readLeaseOwner(paths), { pid: process.pid }, 'the new server holds the lease');
  t.equal((await health(runArea, next.packet.port)).status, 200);
  t.ok(await refused(oldPort), 'the old port is dead');
  await next.stop('done');
  t.notOk(fs.existsSync(lockDir(runArea)), 'released');
});

t.test('the server log: JSON lines with levels and request ids, rotated by size', async (t) => {
  const runArea = path.join(t.testdir(), 'runs');
  const server = await serve(t, runArea, { config: { ...config(), logLevel: 'debug', logMaxBytes: 2048, logFiles: 2 } });
  const requests = 60;
  for (let i = 0; i < requests; i++) t.equal((await health(runArea, server.packet.port)).status, 200);
  await server.stop('log test over');
  const dir = path.dirname(server.logFile);
  const name = path.basename(server.logFile);
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(name))
    .sort();
  t.same(files, [name, `${name}.1`, `${name}.2`], 'rotated, keeping two old files');
  for (const f of files) t.ok(fs.statSync(path.join(dir, f)).size <= 2048 + 512, `${f} stays near log_size`);
  const lines = files.flatMap((f) =>
    fs
      .readFileSync(path.join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => l !== ''),
  );
  const entries = lines.map(
    (l) => JSON.parse(l) as { level: number; time: string; pid: number; host: string; msg: string; reqId?: string },
  );
  for (const e of entries) t.match(e, { level: Number, time: /^\d{4}-\d\d-\d\dT/, pid: process.pid, host: HOST, msg: String });
  const requestLines = entries.filter((e) => e.msg === 'request');
  t.ok(requestLines.length > 10, `requests at debug level (${requestLines.length} kept of ${requests})`);
  t.ok(
    requestLines.every((e) => e.level === 20 && typeof e.reqId === 'string'),
    'each with its request id',
  );
  t.equal(new Set(requestLines.map((e) => e.reqId)).size, requestLines.length, 'one id per request');
  // The write that crosses log_size rotates the file after it: the live file may be empty then.
  const newest = files
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8').trim())
    .find((text) => text !== '')!
    .split('\n');
  t.match(JSON.parse(newest[newest.length - 1]!), { level: 30, msg: 'stopped' }, 'the newest line is the stop');
});

t.test('the server log at the default level (info) keeps no request lines', async (t) => {
  const runArea = path.join(t.testdir(), 'runs');
  const server = await serve(t, runArea);
  t.equal((await health(runArea, server.packet.port)).status, 200);
  await server.stop('quiet');
  const entries = fs
    .readFileSync(server.logFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { level: number; msg: string });
  t.notOk(
    entries.some((e) => e.msg === 'request'),
    'no request lines',
  );
  const said = entries.map((e) => e.msg).join('\n');
  t.match(said, /^Server listening at http:\/\/127\.0\.0\.1:\d+\nserving .*\nstopping: quiet\nstopped$/, `what it did, in order:\n${said}`);
  t.ok(
    entries.every((e) => e.level === 30),
    'all at info',
  );
});
