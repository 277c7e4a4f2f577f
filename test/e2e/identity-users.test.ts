/**
 * Verified identity with real Unix users (issue 18, docs/security.md): three users made with
 * useradd share a run area whose `[setup] admins` names one of them. Each runs the trellis command
 * as themself: keys made and registered on first use, writes recorded as the user who signed
 * them, a forged name refused, only the admin forcing a closed run or unlocking it, a private key
 * others may read refused. Then, at the protocol level against the same live server, every way a
 * request can fail to prove its user: a key file planted by someone else or writable by others,
 * an unknown user, no key, a bad signature, a replay, a clock too far off, a session the server
 * does not know.
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { readPackets } from '../../src/client/packets.js';
import { runAreaPaths } from '../../src/config/paths.js';
import {
  formatSignature,
  keySignedMessage,
  SESSION_PATH,
  sessionMac,
  deriveSessionKey,
  SIGNATURE_HEADER,
  type SessionAnswer,
} from '../../src/model/identity-protocol.js';
import { ExitCode } from '../../src/util/errors.js';
import { keyFingerprint, rawPublicKey } from '../../src/util/id-keys.js';
import { DEFAULT_CONFIG, writeArea } from '../helpers/area.js';
import { assertUserError, dump } from '../helpers/e2e.js';
import { postRaw, type RawAnswer } from '../helpers/remote.js';
import { canMakeUsers, makeUsers, readableInstall, runAs, type TestUser } from '../helpers/users.js';

const D = ['-t', 'linux/x86_64', '-r', 'daily'];

type Answer = RawAnswer;
const post = postRaw;

t.test('users of one run area: proven writes, admins, forged names and keys refused', async (t) => {
  t.ok(canMakeUsers(), 'the tests run as root (they make Unix users)');
  const { dir, users } = makeUsers(t, ['alice', 'bob', 'carol']);
  const alice = users['alice']!;
  const bob = users['bob']!;
  const carol = users['carol']!;
  const area = writeArea(path.join(dir, 'area'), {
    config: `${DEFAULT_CONFIG}admins ${alice.name}\n`,
    tests: { unit: '[ezsteps]\nx true\n' },
  });
  for (const d of [area, path.join(area, 'tests'), path.join(area, 'tests', 'unit')]) {
    fs.chownSync(d, 0, alice.gid);
    fs.chmodSync(d, 0o2775);
  }
  const bin = readableInstall(t);
  const as = (u: TestUser, args: string[], env: Record<string, string> = {}) => runAs(u, bin, args, area, env);
  const meta = runAreaPaths(path.join(area, 'runs')).metaDir;

  // alice makes her key once; it is registered in the run area, in a file of hers.
  const init = await as(alice, ['id', 'init']);
  t.equal(init.code, 0, dump(init));
  t.match(init.stdout, new RegExp(`Made the key of ${alice.name}: ${alice.home}/.trellis/id_ed25519 \\(fingerprint \\S+\\)`));
  t.match(init.stdout, /Registered it in .*\.meta\/users\//);
  const alicePub = path.join(meta, 'users', `${alice.name}.pub`);
  const st = fs.statSync(alicePub);
  t.equal(st.uid, alice.uid, 'her key file is hers');
  t.equal(st.mode & 0o777, 0o644, 'and only she may write it');
  t.equal(fs.statSync(path.join(alice.home, '.trellis', 'id_ed25519')).mode & 0o777, 0o600, 'her private key is hers alone');

  for (const args of [
    ['run-open', ...D],
    ['result', ...D, 'lint', 'PASS'],
    ['close', ...D],
  ]) {
    const r = await as(alice, args);
    t.equal(r.code, 0, dump(r));
  }
  // bob never ran `id init`: his first write makes and registers his key.
  assertUserError(t, await as(bob, ['result', ...D, 'lint', 'FAIL']), ExitCode.conflict, /run linux\/x86_64\/daily is closed/);
  t.equal(fs.statSync(path.join(meta, 'users', `${bob.name}.pub`)).uid, bob.uid, "bob's key was registered on first use");
  assertUserError(
    t,
    await as(bob, ['result', ...D, 'lint', 'FAIL', '--force']),
    ExitCode.denied,
    new RegExp(
      `user ${bob.name} may not force changes to a closed run in this area: only \\[setup\\] admins may \\(.*trellis.config:\\d+: ${alice.name}\\)`,
    ),
    new RegExp(`ask ${alice.name}`),
  );
  assertUserError(
    t,
    await as(bob, ['result', ...D, 'lint', 'FAIL', '--force'], { TRELLIS_WHO: `${alice.name}@elsewhere` }),
    ExitCode.denied,
    new RegExp(`the request says it comes from ${alice.name} but is signed by ${bob.name}`),
  );
  assertUserError(t, await as(bob, ['unlock', ...D]), ExitCode.denied, new RegExp(`user ${bob.name} may not reopen closed runs`));
  assertUserError(
    t,
    await as(bob, ['remove', ...D, '--force']),
    ExitCode.denied,
    new RegExp(`user ${bob.name} may not force changes to a closed run`),
  );

  const forced = await as(alice, ['result', ...D, 'lint', 'FAIL', '--force', '-m', 'late fix']);
  t.equal(forced.code, 0, dump(forced));
  const log = await as(alice, ['log', ...D, '--json']);
  t.equal(log.code, 0, dump(log));
  const entries = JSON.parse(log.stdout) as Array<{ kind: string; who: string; detail: string }>;
  t.ok(
    entries.some((e) => e.kind === 'forced' && e.who.startsWith(`${alice.name}@`)),
    `the forced change is recorded as alice's\n${log.stdout}`,
  );
  t.notOk(
    entries.some((e) => e.who.startsWith(bob.name) || e.who.includes('unverified')),
    'nothing of bob, nothing unverified',
  );

  // A private key others may read is refused as ssh refuses it.
  const aliceKey = path.join(alice.home, '.trellis', 'id_ed25519');
  fs.chmodSync(aliceKey, 0o644);
  assertUserError(
    t,
    await as(alice, ['result', ...D, 'lint', 'PASS', '--force']),
    ExitCode.denied,
    /your private key .*id_ed25519 may be read by others \(mode 0644\)/,
    /chmod 600/,
  );
  fs.chmodSync(aliceKey, 0o600);
  const show = await as(alice, ['id', 'show']);
  t.equal(show.code, 0, dump(show));
  t.match(show.stdout, new RegExp(`server +verifies you as ${alice.name}`));
  t.match(show.stdout, /registered +registered \(/);

  // The protocol itself, against the same server, with the users' own keys (root may read them).
  const packet = readPackets(meta, () => undefined)[0];
  t.ok(packet, 'a live server');
  const port = packet!.packet.port;
  const token = fs.readFileSync(path.join(meta, 'token'), 'utf8').trim();
  const areaId = fs.readFileSync(path.join(meta, 'area-id'), 'utf8').trim();
  const keyOf = (u: TestUser) => createPrivateKey(fs.readFileSync(path.join(u.home, '.trellis', 'id_ed25519')));
  const handshake = (user: string, key: ReturnType<typeof keyOf>, time = Date.now()) => {
    const dh = generateKeyPairSync('x25519');
    const pub = rawPublicKey(key);
    const fields = {
      user,
      key: keyFingerprint(pub),
      time,
      nonce: randomBytes(16).toString('base64url'),
      dh: String(dh.publicKey.export({ format: 'jwk' }).x),
    };
    const body = '{}';
    const sig = sign(null, keySignedMessage(areaId, 'POST', SESSION_PATH, fields, Buffer.from(body)), key).toString('base64url');
    const headers = { [SIGNATURE_HEADER]: formatSignature({ kind: 'key', ...fields, sig }) };
    return { send: () => post(port, token, SESSION_PATH, body, headers), dh, nonce: fields.nonce };
  };
  const refused = (a: Answer, status: number, code: string, pattern: RegExp, what: string) => {
    t.equal(a.status, status, `${what}: ${JSON.stringify(a.body)}`);
    t.equal(a.body.error?.code, code, what);
    t.match(a.body.error?.message ?? '', pattern, what);
  };

  // bob plants a file for carol holding his own key, and claims to be carol.
  fs.copyFileSync(path.join(bob.home, '.trellis', 'id_ed25519.pub'), path.join(meta, 'users', `${carol.name}.pub`));
  fs.chownSync(path.join(meta, 'users', `${carol.name}.pub`), bob.uid, bob.gid);
  refused(
    await handshake(carol.name, keyOf(bob)).send(),
    401,
    'KEY_NOT_OWNED',
    new RegExp(`${carol.name}.pub belongs to uid ${bob.uid}, not to ${carol.name} \\(uid ${carol.uid}\\)`),
    'a key file someone else wrote',
  );
  fs.rmSync(path.join(meta, 'users', `${carol.name}.pub`));
  refused(await handshake(carol.name, keyOf(bob)).send(), 401, 'NO_KEY', new RegExp(`${carol.name} has no key registered`), 'no key');
  refused(await handshake('trnosuchuser', keyOf(bob)).send(), 401, 'NO_USER', /there is no user trnosuchuser/, 'no such user');
  refused(await handshake(alice.name, keyOf(bob)).send(), 401, 'NO_KEY', /is not registered in .*\.pub/, "bob's key in alice's name");
  fs.chmodSync(alicePub, 0o664);
  refused(
    await handshake(alice.name, keyOf(alice)).send(),
    401,
    'KEY_NOT_OWNED',
    /may be written by others \(mode 0664\)/,
    'a key file others may write',
  );
  fs.chmodSync(alicePub, 0o644);
  refused(
    await handshake(alice.name, keyOf(alice), Date.now() - 10 * 60_000).send(),
    401,
    'CLOCK_SKEW',
    /the request's time is \d+ s behind this server's clock/,
    'a clock 10 minutes behind',
  );

  // A good handshake, then a session-signed write, sent twice, changed, and to a session gone.
  const hs = handshake(alice.name, keyOf(alice));
  const answer = await hs.send();
  t.equal(answer.status, 200, JSON.stringify(answer.body));
  refused(await hs.send(), 401, 'REPLAYED', /sent before/, 'the same handshake again');
  const session = answer.body.result as SessionAnswer;
  t.equal(session.user, alice.name);
  const shared = diffieHellman({
    privateKey: hs.dh.privateKey,
    publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: session.dh }, format: 'jwk' }),
  });
  const sessionKey = deriveSessionKey(shared, hs.nonce, session.session);
  const findRun = await post(port, token, '/v1/store/findRun', JSON.stringify({ target: 'linux/x86_64', runname: 'daily' }), {});
  const runId = (findRun.body.result as { id: number }).id;
  let seq = 0;
  const write = (body: string, opts: { time?: number; sessionId?: string; macBody?: string; seq?: number } = {}) => {
    const time = opts.time ?? Date.now();
    const nonce = String(opts.seq ?? ++seq);
    const p = '/v1/store/appendResult';
    const mac = sessionMac(sessionKey, 'POST', p, time, nonce, Buffer.from(opts.macBody ?? body));
    const headers = {
      [SIGNATURE_HEADER]: formatSignature({ kind: 'session', session: opts.sessionId ?? session.session, time, nonce, mac }),
    };
    return { send: () => post(port, token, p, body, headers) };
  };
  const result = (status: string) =>
    JSON.stringify({
      runId,
      result: { testname: 'probe', itempath: '', state: 'COMPLETED', status, comment: '', host: 'h', start: 1, end: 2, values: [] },
      options: { force: true, who: `${alice.name}@h` },
    });
  const good = write(result('PASS'));
  const first = await good.send();
  t.equal(first.status, 200, `a signed forced write by alice: ${JSON.stringify(first.body)}`);
  refused(await good.send(), 401, 'REPLAYED', /this request was sent before \(number 1 of its session\)/, 'the same write again');
  for (let i = 0; i < 1100; i++) seq++;
  t.equal((await write(result('PASS')).send()).status, 200, 'a later write');
  refused(
    await write(result('PASS'), { seq: 2 }).send(),
    401,
    'REPLAYED',
    /number 2 of its session\) is older than the last 1024/,
    'a write numbered far behind',
  );
  refused(await write(result('PASS'), { seq: 0 }).send(), 401, 'BAD_SIGNATURE', /numbered 1, 2, 3/, 'a write numbered 0');
  refused(
    await write(result('FAIL'), { macBody: result('PASS') }).send(),
    401,
    'BAD_SIGNATURE',
    /does not match its content/,
    'a body changed after signing',
  );
  refused(
    await write(result('FAIL'), { time: Date.now() + 10 * 60_000 }).send(),
    401,
    'CLOCK_SKEW',
    /ahead of this server's clock/,
    'a clock ahead',
  );
  refused(
    await write(result('FAIL'), { sessionId: randomBytes(18).toString('base64url') }).send(),
    401,
    'SESSION_UNKNOWN',
    /no such session/,
    'an unknown session',
  );
  const unsigned = await post(port, token, '/v1/store/appendResult', result('FAIL'), {});
  t.equal(unsigned.status, 403, `an unsigned forced write: ${JSON.stringify(unsigned.body)}`);
  t.equal(unsigned.body.error?.code, 'NOT_ADMIN');
  t.match(unsigned.body.error?.message ?? '', /this request does not prove who sent it/);
});
