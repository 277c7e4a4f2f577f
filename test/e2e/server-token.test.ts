/**
 * The area token under damage, through the built CLI: `.meta/token` emptied, garbled, grown to
 * megabytes, removed, turned into a folder or changed while a server runs — commands keep working
 * with the same server, and the file holds a valid token again (the server writes its own back, or
 * follows a new valid one). The token is never sent to an address a packet names before that
 * server proves it knows it. A user who cannot write `.meta/` is told so at once.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import t, { type Test } from 'tap';
import { readPackets } from '../../src/client/packets.js';
import { runAreaPaths } from '../../src/config/paths.js';
import { encodePacket, type Packet } from '../../src/model/protocol.js';
import { ExitCode } from '../../src/util/errors.js';
import { makeArea } from '../helpers/area.js';
import { runCli, trellisBin, type CliResult } from '../helpers/cli.js';
import { assertUserError, dump, parseJson } from '../helpers/e2e.js';

// Each command is a Node start and a server round trip: on a 2-core machine under load, minutes.
t.setTimeout(600_000);

interface RunRow {
  runname: string;
}

function setup(t: Test) {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nx true\n' } });
  const paths = runAreaPaths(path.join(area, 'runs'));
  const cli = (...args: string[]): Promise<CliResult> => runCli(t, [...args, '--area', area]);
  const packets = () => readPackets(paths.metaDir, () => undefined);
  return { area, paths, cli, packets };
}

const TOKEN = /^[0-9a-f]{64}\n?$/;

t.test('a damaged or changed token while a server runs: commands go on with that server, the file heals', async (t) => {
  const a = setup(t);
  t.equal((await a.cli('run', '-t', 'linux/x86_64', '-r', 'r1')).code, 0);
  const [server] = a.packets();
  t.ok(server, 'a server runs');
  const damage: Array<[string, () => void]> = [
    ['emptied', () => fs.writeFileSync(a.paths.tokenFile, '')],
    ['a newline only', () => fs.writeFileSync(a.paths.tokenFile, '\n')],
    ['6 MB', () => fs.writeFileSync(a.paths.tokenFile, 'a'.repeat(6_000_000))],
    ['100 random bytes', () => fs.writeFileSync(a.paths.tokenFile, Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 73 + 5) % 256)))],
    ['a short word', () => fs.writeFileSync(a.paths.tokenFile, 'ab12\n')],
    ['removed', () => fs.rmSync(a.paths.tokenFile)],
    [
      'a folder',
      () => {
        fs.rmSync(a.paths.tokenFile);
        fs.mkdirSync(a.paths.tokenFile);
      },
    ],
    ['another valid token', () => fs.writeFileSync(a.paths.tokenFile, `${'5e'.repeat(32)}\n`)],
  ];
  for (const [what, make] of damage) {
    make();
    const r = await a.cli('list', 'runs', '--json');
    t.equal(r.code, 0, `${what}: list runs works\n${dump(r)}`);
    t.same(r.code === 0 ? parseJson<RunRow[]>(r).map((x) => x.runname) : [], ['r1'], `${what}: the runs are there`);
    t.notMatch(r.stderr, /^ {4}at |internal error/m, `${what}: no stack trace`);
    t.match(fs.readFileSync(a.paths.tokenFile, 'latin1'), TOKEN, `${what}: the file holds a valid token again`);
    t.same(
      a.packets().map((f) => f.packet.pid),
      [server!.packet.pid],
      `${what}: still the one server`,
    );
  }
  t.equal(fs.readFileSync(a.paths.tokenFile, 'utf8').trim(), '5e'.repeat(32), 'a new valid token is followed, not replaced');
  fs.writeFileSync(a.paths.tokenFile, '');
  const list = parseJson<Array<{ pid: number; status: string }>>(await a.cli('server', 'list', '--json'));
  t.same(
    list.map((s) => [s.pid, s.status]),
    [[server!.packet.pid, 'live']],
    'server list calls it live',
  );
  fs.writeFileSync(a.paths.tokenFile, 'x');
  const stop = await a.cli('server', 'stop', '--all');
  t.equal(stop.code, 0, dump(stop));
  t.match(stop.stdout, new RegExp(`stopped server pid ${server!.packet.pid} `), 'server stop --all finds and stops it');
  t.same(a.packets(), [], 'no server left');
});

t.test('a damaged token and no server: the next server replaces it', async (t) => {
  const a = setup(t);
  t.equal((await a.cli('run', '-t', 'linux/x86_64', '-r', 'r1')).code, 0);
  t.equal((await a.cli('server', 'stop')).code, 0);
  fs.writeFileSync(a.paths.tokenFile, '\x00\x01garbage');
  const r = await a.cli('list', 'runs', '--json');
  t.equal(r.code, 0, dump(r));
  t.same(
    parseJson<RunRow[]>(r).map((x) => x.runname),
    ['r1'],
  );
  t.match(fs.readFileSync(a.paths.tokenFile, 'latin1'), TOKEN);
  const logs = fs
    .readdirSync(a.paths.logsDir)
    .map((f) => fs.readFileSync(path.join(a.paths.logsDir, f), 'utf8'))
    .join('\n');
  t.match(
    logs,
    /token was damaged \(it does not hold a 64-digit hex token\): replaced it with a new token/,
    'the server log says what it did',
  );
});

t.test('the token is never sent to the address a packet names before that server proves it knows it', async (t) => {
  const a = setup(t);
  t.equal((await a.cli('server', 'start')).code, 0);
  const [real] = a.packets();
  const token = fs.readFileSync(a.paths.tokenFile, 'utf8').trim();
  const seen: string[] = [];
  const fake = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
    // Answers like a server of this area would, without knowing the token.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...real!.packet, uptime: 1 }));
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => fake.close(r)));
  const port = (fake.address() as { port: number }).port;
  // A dboard packet is tried first.
  const forged: Packet = { ...real!.packet, port, pid: process.pid, invocation: 'dboard', started: Date.now() / 1000 - 1 };
  const { text, sha1 } = encodePacket(forged);
  fs.writeFileSync(path.join(a.paths.metaDir, `${sha1}.pkt`), text);

  const r = await a.cli('list', 'runs', '--debug');
  t.equal(r.code, 0, dump(r));
  t.ok(seen.length > 0, 'the forged packet was tried');
  t.notOk(
    seen.some((s) => s.includes(token)),
    `the token never reached it:\n${seen.join('\n')}`,
  );
  t.ok(
    seen.every((s) => s.startsWith('GET /v1/health ')),
    'it was only asked for its health',
  );
  t.match(r.stderr, new RegExp(`:${process.pid} at 127\\.0\\.0\\.1:${port}: its answer does not prove it knows the area token`));
  const ping = await a.cli('server', 'ping');
  t.match(ping.stdout, new RegExp(`^server pid ${real!.packet.pid} `), 'the real server is the one used');
});

/** Runs the CLI as a user who may read the run area but not write `.meta/` (nobody, when we are root). */
function runAsReader(t: Test, area: string, metaDir: string, args: string[]): Promise<CliResult> {
  const root = process.getuid?.() === 0;
  if (root) {
    // Group nogroup may read and enter everything, write nothing it does not own.
    const chgrp = (p: string) => {
      fs.chownSync(p, 0, 65534);
      const st = fs.statSync(p);
      fs.chmodSync(p, (st.mode & 0o7777) | (st.isDirectory() ? 0o050 : 0o040));
      if (st.isDirectory()) for (const e of fs.readdirSync(p)) chgrp(path.join(p, e));
    };
    chgrp(area);
    fs.chmodSync(metaDir, 0o750);
  } else {
    fs.chmodSync(metaDir, 0o550);
    t.teardown(() => fs.chmodSync(metaDir, 0o750));
  }
  return new Promise((resolve) => {
    // Through env -u: tap's process hooks (NODE_OPTIONS, added to every child it sees spawned) write
    // into the checkout, which this user may not.
    const child = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, trellisBin, ...args, '--area', area], {
      cwd: area,
      env: { ...process.env, NO_COLOR: '1', HOME: area },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(root ? { uid: 65534, gid: 65534 } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    t.teardown(() => void child.kill('SIGKILL'));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

t.test('.meta not writable and no server: one line naming .meta at once, not a lock wait blamed on others', async (t) => {
  const a = setup(t);
  t.equal((await a.cli('run', '-t', 'linux/x86_64', '-r', 'r1')).code, 0);
  t.equal((await a.cli('server', 'stop')).code, 0);
  const r = await runAsReader(t, a.area, a.paths.metaDir, ['list', 'runs']);
  const line = assertUserError(
    t,
    r,
    ExitCode.storage,
    /this user cannot start one/,
    new RegExp(`${a.paths.metaDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not writable \\(EACCES\\)`),
  );
  t.notMatch(line, /another client is starting/, 'no wrong hint');
  t.same(a.packets(), [], 'no server was started');
});
