/**
 * What `.meta/` may hold that a client must not trust, and what the server refuses, through the
 * built CLI: packets pointing at another area's server or at something that is not a Trellis
 * server, malformed and planted packet files, forged start times, stale packets; requests without
 * the token; and --direct, which uses no server at all.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import t, { type Test } from 'tap';
import { readPackets } from '../../src/client/packets.js';
import { runAreaPaths } from '../../src/config/paths.js';
import { encodePacket, sha1, type Packet } from '../../src/model/protocol.js';
import { makeArea } from '../helpers/area.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { dump, parseJson } from '../helpers/e2e.js';
import { findPacketFiles, isPidAlive } from '../helpers/servers.js';

// About 40 CLI processes, one after another: 140 s with two copies at a load of 6 on 2 cores. tap's
// default 120 s cut the file off mid-command, which read as a hung `server ping` in CI.
t.setTimeout(600_000);

interface Ctx {
  testdir(): string;
  teardown(fn: () => unknown): void;
}

interface RunRow {
  runname: string;
}

/** A fresh area (in its own folder under the test's) with its CLI and packet reader. */
function setup(t: Ctx & { testdirName: string }, name = 'area') {
  // t.testdir() empties the folder each time it is called: call it for the first area only
  if (!fs.existsSync(t.testdirName)) t.testdir();
  const dir = path.join(t.testdirName, name);
  const area = makeArea({ testdir: () => dir, teardown: (fn) => t.teardown(fn) }, { tests: { a: '[ezsteps]\nx true\n' } });
  const runArea = path.join(area, 'runs');
  const paths = runAreaPaths(runArea);
  const cli = (...args: string[]): Promise<CliResult> => runCli(t, [...args, '--area', area]);
  const packets = () => readPackets(paths.metaDir, () => undefined);
  return { area, runArea, paths, cli, packets };
}
type Setup = ReturnType<typeof setup>;

/** Writes a well-formed packet into `metaDir`, touched `age` seconds ago. */
function plant(metaDir: string, packet: Packet, age = 0): string {
  const { text, sha1: s } = encodePacket(packet);
  const file = path.join(metaDir, `${s}.pkt`);
  fs.writeFileSync(file, text, { mode: 0o640 });
  const when = Date.now() / 1000 - age;
  fs.utimesSync(file, when, when);
  return file;
}

/** Starts the area's server with `trellis server start`; returns its packet. */
async function startServer(t: Test, s: Setup): Promise<Packet> {
  const r = await s.cli('server', 'start');
  t.equal(r.code, 0, `server start\n${dump(r)}`);
  const [f] = s.packets();
  if (!f) throw new Error(`no packet after server start\n${dump(r)}`);
  return f.packet;
}

/** The pid `trellis server ping` names. */
async function pingPid(s: Setup): Promise<number> {
  const r = await s.cli('server', 'ping');
  const m = /^server pid (\d+) /.exec(r.stdout);
  if (r.code !== 0 || !m) throw new Error(`ping failed\n${dump(r)}`);
  return Number(m[1]);
}

/** Gives a run area a token and an area id (as its first server does) but leaves no server. */
async function initMeta(t: Test, s: Setup): Promise<void> {
  await startServer(t, s);
  t.equal((await s.cli('server', 'stop')).code, 0, 'server stop');
  t.equal(s.packets().length, 0, 'no server left');
}

/** An HTTP listener on 127.0.0.1, closed at teardown. */
async function listen(t: Ctx, server: net.Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return (server.address() as net.AddressInfo).port;
}

t.test("a packet pointing at another area's server is not used", async (t) => {
  const b = setup(t, 'b');
  t.equal((await b.cli('run', '-t', 'linux/x86_64', '-r', 'b-only')).code, 0, 'a run in area b');
  const bPacket = b.packets()[0]!.packet;

  // area a has its own token and area id, and no server; someone drops b's packet into its .meta
  const a = setup(t, 'a');
  await initMeta(t, a);
  const copied = path.join(a.paths.metaDir, path.basename(b.packets()[0]!.file));
  fs.copyFileSync(b.packets()[0]!.file, copied);
  const forged = plant(a.paths.metaDir, { ...bPacket, areaId: fs.readFileSync(a.paths.areaIdFile, 'utf8').trim(), invocation: 'dboard' });

  const r = await a.cli('list', 'runs', '--json', '--debug');
  t.equal(r.code, 0, dump(r));
  t.same(
    parseJson<RunRow[]>({ ...r, stdout: r.stdout }).map((x) => x.runname),
    [],
    "b's runs are not shown as a's",
  );
  t.match(
    r.stderr,
    new RegExp(`server \\S+:${bPacket.pid} at 127\\.0\\.0\\.1:${bPacket.port}: it refuses the area token`),
    "b's server refuses a's token",
  );
  const own = a.packets().find((f) => f.packet.pid !== bPacket.pid);
  t.ok(own, 'a started its own server');
  t.equal(await pingPid(a), own!.packet.pid, 'and uses it');
  t.ok(fs.existsSync(copied) && fs.existsSync(forged), 'the foreign packets are left alone (their server is alive)');
  t.ok(isPidAlive(bPacket.pid), "b's server is unharmed");
  t.same(
    parseJson<RunRow[]>(await b.cli('list', 'runs', '--json')).map((x) => x.runname),
    ['b-only'],
    "b's runs unchanged",
  );
});

t.test("a packet pointing at another area's server sharing the token is refused by area id", async (t) => {
  const b = setup(t, 'b');
  t.equal((await b.cli('run', '-t', 'linux/x86_64', '-r', 'b-only')).code, 0, 'a run in area b');
  const bFile = b.packets()[0]!.file;
  const bPacket = b.packets()[0]!.packet;

  // area c got b's token (its .meta/token copied from b) but is another run area
  const c = setup(t, 'c');
  fs.mkdirSync(c.paths.metaDir, { recursive: true, mode: 0o750 });
  fs.copyFileSync(b.paths.tokenFile, c.paths.tokenFile);
  await initMeta(t, c);
  const cArea = fs.readFileSync(c.paths.areaIdFile, 'utf8').trim();
  t.not(cArea, fs.readFileSync(b.paths.areaIdFile, 'utf8').trim(), 'two area ids');

  fs.copyFileSync(bFile, path.join(c.paths.metaDir, path.basename(bFile)));
  plant(c.paths.metaDir, { ...bPacket, areaId: cArea, invocation: 'dboard' });
  const r = await c.cli('list', 'runs', '--json', '--debug');
  t.equal(r.code, 0, dump(r));
  t.same(
    parseJson<RunRow[]>(r).map((x) => x.runname),
    [],
    "b's runs are not shown as c's",
  );
  t.match(r.stderr, /it serves another area/, 'the health check names the other area');
  t.notMatch(r.stderr, /refuses the area token/, 'the token was accepted: the area id is what refused it');
  const own = c.packets().find((f) => f.packet.areaId === cArea && f.packet.pid !== bPacket.pid);
  t.ok(own, 'c started its own server');
  t.equal(await pingPid(c), own!.packet.pid);

  const list = parseJson<Array<{ pid: number; status: string }>>(await c.cli('server', 'list', '--json'));
  t.same(
    list.filter((x) => x.pid === bPacket.pid).map((x) => x.status),
    ['other-area', 'other-area'],
    'server list says other-area',
  );
});

t.test('packets pointing at something that is not a Trellis server are not used', async (t) => {
  const a = setup(t);
  await initMeta(t, a);
  const areaId = fs.readFileSync(a.paths.areaIdFile, 'utf8').trim();
  const seen: string[] = [];
  const garbage = await listen(
    t,
    http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"areaId": [garbage');
    }),
  );
  const wrongJson = await listen(
    t,
    http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ hello: 'world' }));
    }),
  );
  const silent = await listen(
    t,
    net.createServer(() => undefined),
  ); // accepts, never answers
  // answers a byte at a time, so the connection is never silent (this once held commands forever)
  const trickling = await listen(
    t,
    http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1_000_000 });
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 100);
      res.on('close', () => clearInterval(timer));
    }),
  );
  const base: Packet = {
    host: 'h9',
    address: '127.0.0.1',
    port: 1,
    pid: process.pid,
    invocation: 'dboard',
    started: Date.now() / 1000 - 5,
    version: '0.1.0',
    areaId,
  };
  const files = [garbage, wrongJson, silent, trickling].map((port, i) =>
    plant(a.paths.metaDir, { ...base, port, started: base.started - i }),
  );

  const r = await a.cli('list', 'runs', '--debug');
  t.equal(r.code, 0, dump(r));
  t.match(r.stdout, /^No runs/m, 'the command works');
  t.ok(seen.includes('GET /v1/health'), 'the garbage server was asked (and not believed)');
  t.match(r.stderr, /its answer does not prove it knows the area token/, 'an answer without the proof is not believed');
  t.match(r.stderr, new RegExp(`:${silent}: no answer within 2000 ms`), 'the silent one timed out');
  t.match(r.stderr, new RegExp(`:${trickling}: no answer within 2000 ms`), 'so did the one that trickles');
  const own = a.packets().filter((f) => f.packet.host !== 'h9');
  t.equal(own.length, 1, 'its own server was started');
  t.equal(await pingPid(a), own[0]!.packet.pid, 'and is the one used');
  for (const f of files) t.ok(fs.existsSync(f), 'nothing proves those gone: kept');
});

t.test('malformed and planted packet files do not break commands', async (t) => {
  const a = setup(t);
  const pkt = await startServer(t, a);
  const meta = a.paths.metaDir;
  const valid = encodePacket({ ...pkt, invocation: 'dboard', pid: process.pid }).text;
  const outside = path.join(t.testdirName, 'outside.pkt');
  fs.writeFileSync(outside, valid);
  const put = (bytes: string | Buffer, name = sha1(bytes)) => fs.writeFileSync(path.join(meta, `${name}.pkt`), bytes);
  put(Buffer.from([0, 1, 2, 255, 254]));
  put(valid.slice(0, 30));
  put('');
  put(`${valid.trimEnd()}${' '.repeat(5000)}\n`);
  put(valid, sha1('forged name'));
  put('{"host":"x"}\n');
  fs.symlinkSync(outside, path.join(meta, `${sha1(valid)}.pkt`));
  fs.mkdirSync(path.join(meta, `${sha1('a folder')}.pkt`));
  execFileSync('mkfifo', [path.join(meta, `${sha1('a fifo')}.pkt`)]);
  fs.writeFileSync(path.join(meta, 'junk.pkt'), valid);

  const r = await a.cli('list', 'runs', '--debug');
  t.equal(r.code, 0, dump(r));
  t.match(r.stdout, /^No runs/m);
  t.equal((r.stderr.match(/ignoring packet/g) ?? []).length, 9, `a note for each bad packet\n${r.stderr}`);
  t.match(r.stderr, /cannot open it \(ELOOP\)/, 'the symlink is not followed');
  t.equal(await pingPid(a), pkt.pid, 'the real server is used, not the one the symlinked packet names');
  const run = await a.cli('run', '-t', 'linux/x86_64', '-r', 'r1');
  t.equal(run.code, 0, dump(run));
  t.same(
    parseJson<RunRow[]>(await a.cli('list', 'runs', '--json')).map((x) => x.runname),
    ['r1'],
  );
  t.equal(fs.readFileSync(outside, 'utf8'), valid, 'the symlink target is untouched');
  t.equal(a.packets().length, 1, 'still one server');
});

t.test('a packet claiming a future start time does not win', async (t) => {
  const a = setup(t);
  const pkt = await startServer(t, a);
  // control: a forged dboard packet for the same (working) port with a sane start time wins,
  // so the forged one below is really in the running
  const control = plant(a.paths.metaDir, { ...pkt, pid: process.pid, invocation: 'dboard', started: Date.now() / 1000 - 1 });
  t.equal(await pingPid(a), process.pid, 'control: a dboard packet wins over an other one');
  fs.unlinkSync(control);

  plant(a.paths.metaDir, { ...pkt, pid: process.pid, invocation: 'dboard', started: Date.now() / 1000 + 3600 });
  t.equal(await pingPid(a), pkt.pid, 'the future dboard packet goes last: the real server wins');
  const r = await a.cli('list', 'runs', '--debug');
  t.equal(r.code, 0, dump(r));
  t.notMatch(r.stderr, new RegExp(`server \\S+:${process.pid} `), 'the forged packet was not even tried');
});

t.test('a stale packet of a dead pid is ignored, and removed', async (t) => {
  const a = setup(t);
  const pkt = await startServer(t, a);
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  // it points at the live server's port and would win (dboard, young) were it not stale
  const stale = plant(a.paths.metaDir, { ...pkt, pid: child.pid!, invocation: 'dboard', started: Date.now() / 1000 - 61 }, 60);
  const staleLive = plant(a.paths.metaDir, { ...pkt, pid: process.pid, invocation: 'dboard', started: Date.now() / 1000 - 62 }, 60);
  const r = await a.cli('list', 'runs', '--debug');
  t.equal(r.code, 0, dump(r));
  t.notMatch(r.stderr, new RegExp(`server \\S+:(${child.pid}|${process.pid}) `), 'neither stale packet was tried');
  t.notOk(fs.existsSync(stale), 'the dead one is removed');
  t.ok(fs.existsSync(staleLive), 'the one whose pid lives is only ignored');
  t.equal(await pingPid(a), pkt.pid, 'the live server is used');
});

t.test('requests without the token get 401 and change nothing', async (t) => {
  const a = setup(t);
  const pkt = await startServer(t, a);
  const send = (pathname: string, body: unknown, headers: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: pkt.port, method: 'POST', path: pathname, headers: { 'content-type': 'application/json', ...headers } },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  const spec = { spec: { target: 'linux/x86_64', keys: { OS: 'linux', ARCH: 'x86_64' }, runname: 'intruder' } };
  for (const headers of [{}, { authorization: 'Bearer 0000' }, { authorization: `Bearer ${'0'.repeat(64)}` }] as Array<
    Record<string, string>
  >) {
    const r = await send('/v1/store/ensureRun', spec, headers);
    t.equal(r.status, 401, `ensureRun ${JSON.stringify(headers)}: 401`);
    t.match(JSON.parse(r.body), { error: { code: 'UNAUTHORIZED' } });
    t.equal((await send('/v1/shutdown', {}, headers)).status, 401, 'shutdown: 401');
  }
  t.same(parseJson<RunRow[]>(await a.cli('list', 'runs', '--json')), [], 'no run was created');
  t.ok(isPidAlive(pkt.pid), 'the server was not stopped');
  t.equal(await pingPid(a), pkt.pid);
  const token = fs.readFileSync(a.paths.tokenFile, 'utf8').trim();
  t.equal((await send('/v1/store/ensureRun', spec, { authorization: `Bearer ${token}` })).status, 200, 'with the token: accepted');
  t.same(
    parseJson<RunRow[]>(await a.cli('list', 'runs', '--json')).map((x) => x.runname),
    ['intruder'],
  );
});

t.test('--direct and TRELLIS_DIRECT=1 use no server', async (t) => {
  const a = setup(t);
  const run = await a.cli('run', '-t', 'linux/x86_64', '-r', 'd1', '--direct');
  t.equal(run.code, 0, dump(run));
  const list = await a.cli('list', 'runs', '--json', '--direct');
  t.equal(list.code, 0, dump(list));
  t.same(
    parseJson<RunRow[]>(list).map((x) => x.runname),
    ['d1'],
  );
  const env = await runCli(t, ['list', 'runs', '--json', '--area', a.area], { env: { TRELLIS_DIRECT: '1' } });
  t.same(
    parseJson<RunRow[]>(env).map((x) => x.runname),
    ['d1'],
    'TRELLIS_DIRECT=1',
  );
  t.same(findPacketFiles(a.area), [], 'no packet appeared');
  t.notOk(fs.existsSync(a.paths.tokenFile), 'no token was made');
  t.notOk(fs.existsSync(`${a.paths.dbDir}.lock`), 'no lease taken');
  // and a server started later sees what --direct wrote
  const pkt = await startServer(t, a);
  t.same(
    parseJson<RunRow[]>(await a.cli('list', 'runs', '--json')).map((x) => x.runname),
    ['d1'],
  );
  t.equal(await pingPid(a), pkt.pid);
});
