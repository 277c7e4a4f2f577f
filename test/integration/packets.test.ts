/**
 * Reading `.meta/` as a client, against real files: a good packet is read; everything else a
 * shared folder may hold (garbage, truncated JSON, empty or huge files, symlinks, folders, FIFOs,
 * forgeries whose content does not match their name) is skipped with a debug note. And what the
 * server writes there is not world-readable.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { readPackets } from '../../src/client/packets.js';
import { readAreaIdFile, readToken, validToken } from '../../src/config/meta-files.js';
import { runAreaPaths } from '../../src/config/paths.js';
import { encodePacket, MAX_PACKET_BYTES, sha1, type Packet } from '../../src/model/protocol.js';
import { ensureAreaIdFile, ensureMetaDir, keepAreaIdFile, touchPacket, writePacket } from '../../src/server/meta.js';
import { TokenKeeper } from '../../src/server/token-keeper.js';

// The modes asserted below assume the usual umask; set it so the test does not depend on the caller's.
process.umask(0o022);

const packet: Packet = {
  host: 'h1',
  address: '127.0.0.1',
  port: 40000,
  pid: 4242,
  invocation: 'runner',
  started: 1_700_000_000.5,
  version: '0.1.0',
  areaId: '0123456789abcdef0123456789abcdef',
};

interface Ctx {
  testdir(): string;
}

/** A fresh run area with an empty `.meta/`; returns its paths and a debug-note collector. */
function setup(t: Ctx) {
  const paths = runAreaPaths(t.testdir());
  ensureMetaDir(paths);
  const notes: string[] = [];
  return { paths, meta: paths.metaDir, notes, debug: (m: string) => notes.push(m) };
}

/** Writes `bytes` into `dir` under the name the content hashes to (a well-formed name). */
function plant(dir: string, bytes: string | Buffer, name = sha1(bytes)): string {
  const file = path.join(dir, `${name}.pkt`);
  fs.writeFileSync(file, bytes);
  return file;
}

const mode = (file: string) => fs.statSync(file).mode & 0o777;

t.test('a good packet is read with its SHA-1 and its mtime as heartbeat', async (t) => {
  const { meta, notes, debug } = setup(t);
  const file = writePacket(meta, packet);
  const { sha1: s, text } = encodePacket(packet);
  t.equal(file, path.join(meta, `${s}.pkt`), 'named by the SHA-1 of its bytes');
  t.equal(fs.readFileSync(file, 'utf8'), text);
  fs.utimesSync(file, 1_700_000_123, 1_700_000_123);
  const found = readPackets(meta, debug);
  t.same(found, [{ file, sha1: s, packet, touched: 1_700_000_123 }]);
  t.same(notes, [], 'no debug notes');

  t.ok(touchPacket(file, 1_700_000_200), 'touch');
  t.equal(readPackets(meta, debug)[0]?.touched, 1_700_000_200, 'touching moves the heartbeat');
  t.ok(touchPacket(file, 1_700_000_250, text), 'touch, checking the bytes');
  fs.writeFileSync(file, text.replace('"pid"', '"pi_"'));
  t.notOk(touchPacket(file, 1_700_000_260, text), 'a garbled packet is not touched: the server writes it again');
  fs.writeFileSync(file, text.slice(0, 10));
  t.notOk(touchPacket(file, 1_700_000_270, text), 'nor a truncated one');
  fs.unlinkSync(file);
  t.notOk(touchPacket(file, 1_700_000_300), 'touching a removed packet says so');
  t.same(readPackets(meta, debug), []);
});

t.test('a live server keeps .meta/area-id saying what main.db says', async (t) => {
  const { paths } = setup(t);
  const id = '0123456789abcdef0123456789abcdef';
  ensureAreaIdFile(paths, id);
  t.equal(keepAreaIdFile(paths, id), undefined, 'nothing to do');
  for (const [what, damage, why] of [
    ['emptied', () => fs.writeFileSync(paths.areaIdFile, ''), /empty/],
    ['garbled', () => fs.writeFileSync(paths.areaIdFile, 'zz\n'), /32-digit/],
    ['removed', () => fs.rmSync(paths.areaIdFile), /removed/],
    ['another id', () => fs.writeFileSync(paths.areaIdFile, `${'f'.repeat(32)}\n`), /said f{32}/],
  ] as const) {
    damage();
    t.match(keepAreaIdFile(paths, id), why, `${what}: says what was wrong`);
    t.equal(readAreaIdFile(paths), id, `${what}: written back`);
  }
  fs.writeFileSync(paths.areaIdFile, 'garbage');
  t.doesNotThrow(() => ensureAreaIdFile(paths, id), 'a starting server rewrites a damaged file rather than refusing');
  t.equal(readAreaIdFile(paths), id);
});

t.test('no .meta folder: no packets', async (t) => {
  const notes: string[] = [];
  t.same(
    readPackets(path.join(t.testdir(), 'nowhere'), (m) => notes.push(m)),
    [],
  );
  t.same(notes, []);
});

t.test('bad packets are skipped, each with a debug note, and good ones still found', async (t) => {
  const { meta, notes, debug } = setup(t);
  const good = writePacket(meta, packet);
  const valid = encodePacket({ ...packet, pid: 5151 }).text;

  const outside = path.join(t.testdirName, 'elsewhere');
  fs.mkdirSync(outside);
  const target = plant(outside, valid);

  const fifoName = sha1('fifo');
  execFileSync('mkfifo', [path.join(meta, `${fifoName}.pkt`)]);

  const huge = `${valid.trimEnd()}${' '.repeat(MAX_PACKET_BYTES + 2 - valid.length)}`;
  const bad: Record<string, string> = {
    garbage: plant(meta, Buffer.from([0xff, 0x00, 0x13, 0x37, 0xfe, 0x80])),
    truncated: plant(meta, valid.slice(0, valid.length - 20)),
    empty: plant(meta, ''),
    huge: plant(meta, huge),
    'not a packet object': plant(meta, '[1,2,3]\n'),
    'wrong field type': plant(meta, `${JSON.stringify({ ...packet, port: '40000' })}\n`),
    'content does not match name': plant(meta, valid, sha1('something else')),
    symlink: path.join(meta, `${sha1(valid)}.pkt`),
    directory: path.join(meta, `${sha1('dir')}.pkt`),
    fifo: path.join(meta, `${fifoName}.pkt`),
  };
  fs.symlinkSync(target, bad['symlink']!);
  fs.mkdirSync(bad['directory']!);
  t.equal(Buffer.byteLength(huge), MAX_PACKET_BYTES + 1, 'one byte over the limit');

  // names that are not packet names are not even looked at
  fs.writeFileSync(path.join(meta, `${sha1(valid).toUpperCase()}.pkt`), valid);
  fs.writeFileSync(path.join(meta, `${sha1(valid)}.pkt.123.abcd.tmp`), valid);
  fs.writeFileSync(path.join(meta, 'token'), 'x');

  const found = readPackets(meta, debug);
  t.same(
    found.map((f) => f.file),
    [good],
    'only the good packet',
  );
  for (const [what, file] of Object.entries(bad)) {
    t.ok(
      notes.some((n) => n.includes(file)),
      `${what}: a debug note names it`,
    );
  }
  t.equal(notes.length, Object.keys(bad).length, `one note per bad packet:\n${notes.join('\n')}`);
  const noteFor = (what: string) => notes.find((n) => n.includes(bad[what]!)) ?? '';
  t.match(noteFor('empty'), /empty/);
  t.match(noteFor('huge'), /too big/);
  t.match(noteFor('content does not match name'), /does not match/);
  t.match(noteFor('truncated'), /not JSON/);
  t.match(noteFor('garbage'), /does not match|not JSON/);
  t.match(noteFor('wrong field type'), /port/);
  t.match(noteFor('directory'), /not a regular file|EISDIR/);
  t.match(noteFor('fifo'), /not a regular file/);
  t.match(noteFor('symlink'), /ELOOP|cannot open/);
  t.ok(fs.existsSync(target), 'the symlink target is untouched');
});

t.test('a packet of exactly the size limit is still read', async (t) => {
  const { meta, notes, debug } = setup(t);
  const valid = encodePacket(packet).text;
  const padded = `${valid.trimEnd()}${' '.repeat(MAX_PACKET_BYTES - valid.length)}\n`;
  t.equal(Buffer.byteLength(padded), MAX_PACKET_BYTES);
  const file = plant(meta, padded);
  t.same(
    readPackets(meta, debug).map((f) => [f.file, f.packet]),
    [[file, packet]],
    notes.join('\n'),
  );
});

t.test('modes: .meta is 0750, packets, token and area id 0640', async (t) => {
  const { paths, meta } = setup(t);
  t.equal(mode(meta), 0o750, '.meta');
  t.equal(mode(paths.logsDir), 0o750, '.meta/logs');
  const file = writePacket(meta, packet);
  t.equal(mode(file), 0o640, 'packet');
  t.equal(fs.readdirSync(meta).filter((n) => n.endsWith('.tmp')).length, 0, 'no temp files left behind');

  const token = TokenKeeper.open(paths.tokenFile, () => undefined).current();
  t.match(token, /^[0-9a-f]{64}$/, 'a 256-bit random token');
  t.equal(mode(paths.tokenFile), 0o640, 'token');
  t.equal(validToken(paths), token);
  t.equal(TokenKeeper.open(paths.tokenFile, () => undefined).current(), token, 'created once: the second keeper reads it back');

  ensureAreaIdFile(paths, packet.areaId);
  t.equal(mode(paths.areaIdFile), 0o640, 'area id');
  t.equal(readAreaIdFile(paths), packet.areaId);
  t.doesNotThrow(() => ensureAreaIdFile(paths, packet.areaId), 'the same id again is fine');
  t.throws(() => ensureAreaIdFile(paths, 'f'.repeat(32)), { code: 'AREA_MISMATCH' }, 'another area id is refused');
  for (const f of [file, paths.tokenFile, paths.areaIdFile]) t.equal(mode(f) & 0o007, 0, `${path.basename(f)}: nothing for others`);
});

t.test('the token reads as missing before any server, as damaged when it is not a token', async (t) => {
  const { paths } = setup(t);
  t.same(readToken(paths), { kind: 'missing' });
  t.equal(readAreaIdFile(paths), undefined);
  const damaged: Array<[string, () => void, RegExp]> = [
    ['empty', () => fs.writeFileSync(paths.tokenFile, ''), /empty/],
    ['a newline', () => fs.writeFileSync(paths.tokenFile, '\n'), /blanks/],
    ['short', () => fs.writeFileSync(paths.tokenFile, 'abc\n'), /64-digit/],
    ['upper case', () => fs.writeFileSync(paths.tokenFile, 'A'.repeat(64)), /64-digit/],
    [
      'random bytes',
      () => fs.writeFileSync(paths.tokenFile, Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 37 + 11) % 256))),
      /64-digit/,
    ],
    ['6 MB', () => fs.writeFileSync(paths.tokenFile, 'a'.repeat(6_000_000)), /6000000 bytes/],
    ['a folder', () => fs.mkdirSync(paths.tokenFile), /not a regular file/],
    ['a FIFO', () => execFileSync('mkfifo', [paths.tokenFile]), /not a regular file/],
    ['a symlink', () => fs.symlinkSync('/etc/hostname', paths.tokenFile), /symbolic link/],
  ];
  for (const [what, make, why] of damaged) {
    fs.rmSync(paths.tokenFile, { recursive: true, force: true });
    make();
    const read = readToken(paths);
    t.equal(read.kind, 'damaged', `${what}: damaged`);
    t.match(read.kind === 'damaged' ? read.why : '', why, `${what}: says why`);
    t.equal(validToken(paths), undefined, `${what}: no token to send`);
    const keeper = TokenKeeper.open(paths.tokenFile, () => undefined);
    t.equal(validToken(paths), keeper.current(), `${what}: a server replaces it with a new token`);
  }
});

t.test('a server follows the token file: adopts a new valid token, writes its own back over damage', async (t) => {
  const { paths } = setup(t);
  const log: string[] = [];
  const keeper = TokenKeeper.open(paths.tokenFile, (l) => log.push(l));
  const first = keeper.current();
  t.equal(keeper.refresh(), false, 'nothing changed: no change');
  fs.writeFileSync(paths.tokenFile, '');
  t.equal(keeper.refresh(), false, 'an emptied file does not change the token...');
  t.equal(validToken(paths), first, '...it is written back');
  const rotated = 'ab'.repeat(32);
  fs.writeFileSync(paths.tokenFile, `${rotated}\n`);
  t.equal(keeper.refresh(), true, 'a new valid token is adopted');
  t.equal(keeper.current(), rotated);
  fs.rmSync(paths.tokenFile);
  keeper.refresh();
  t.equal(validToken(paths), rotated, 'a removed file is written back');
  t.match(
    log.join('\n'),
    /damaged \(it is empty\): wrote this server's token back[\s\S]*holds a new token[\s\S]*damaged \(it was removed\)/,
  );
});

t.test('racing token creation: every caller ends with the same token', async (t) => {
  const { paths } = setup(t);
  const tokens = new Set(Array.from({ length: 5 }, () => TokenKeeper.open(paths.tokenFile, () => undefined).current()));
  t.equal(tokens.size, 1);
  t.equal(fs.readdirSync(paths.metaDir).filter((n) => n.endsWith('.tmp')).length, 0, 'no temp files left behind');
});
