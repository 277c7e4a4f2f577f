/**
 * The user's key files and the signature header (util/id-keys.ts, model/identity-protocol.ts):
 * a key made once (two makers at once end with one key), a private key others may read refused,
 * `.pub` lines parsed with junk skipped, registration adding a key once and refusing a file of
 * another owner, and the header written and read back, malformed ones refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { claimedUser, formatSignature, parseSignature, type RequestSignature } from '../../src/model/identity-protocol.js';
import {
  createUserKey,
  formatPublicKey,
  idDir,
  parsePublicKeys,
  privateKeyFile,
  readUserKey,
  registerUserKey,
  userKeyFile,
} from '../../src/util/id-keys.js';

t.test('a key is made once, kept private, and read back', async (t) => {
  const dir = path.join(t.testdir(), 'id');
  t.equal(readUserKey(dir), undefined, 'none yet');
  const first = createUserKey(dir, 'alice@h1');
  t.equal(first.created, true);
  const second = createUserKey(dir, 'alice@h1');
  t.equal(second.created, false, 'a second maker finds the first key');
  t.equal(second.key.fingerprint, first.key.fingerprint);
  t.equal(fs.statSync(privateKeyFile(dir)).mode & 0o777, 0o600);
  t.equal(fs.statSync(dir).mode & 0o777, 0o700);
  t.match(fs.readFileSync(path.join(dir, 'id_ed25519.pub'), 'utf8'), /^trellis-ed25519 [A-Za-z0-9_-]{43} alice@h1\n$/);
  fs.chmodSync(privateKeyFile(dir), 0o640);
  t.throws(() => readUserKey(dir), { code: 'KEY_UNPROTECTED', message: /may be read by others \(mode 0640\)/, hint: /chmod 600/ });
  fs.chmodSync(privateKeyFile(dir), 0o600);
  fs.writeFileSync(privateKeyFile(dir), 'not a key\n', { mode: 0o600 });
  t.throws(() => readUserKey(dir), { code: 'KEY_UNPROTECTED', message: /cannot be read as a key/ });
  t.equal(idDir({ TRELLIS_ID_DIR: '/x/y' }), '/x/y');
  t.equal(idDir({ HOME: '/home/alice' }), '/home/alice/.trellis');
});

t.test('.pub lines: keys parsed, junk skipped', async (t) => {
  const key = 'A'.repeat(43);
  const text = `# comment\n${formatPublicKey(key, 'alice@h1 laptop')}\nssh-ed25519 AAAA alice\ntrellis-ed25519 short x\n\n`;
  const keys = parsePublicKeys(text);
  t.equal(keys.length, 1);
  t.equal(keys[0]!.publicKey, key);
  t.equal(keys[0]!.comment, 'alice@h1_laptop', 'blanks in a comment cannot split the line');
});

t.test('registration adds a key once; a file of another owner is refused', async (t) => {
  const root = t.testdir();
  const meta = path.join(root, '.meta');
  fs.mkdirSync(meta, { mode: 0o775 });
  fs.chmodSync(meta, 0o775);
  const { key } = createUserKey(path.join(root, 'id'), 'me@h');
  t.equal(registerUserKey(meta, 'me', key, 'me@h'), 'added');
  t.equal(registerUserKey(meta, 'me', key, 'me@h'), 'present');
  t.equal(fs.statSync(path.join(meta, 'users')).mode & 0o7777, 0o1775, 'the users folder is sticky, as open as .meta');
  t.equal(fs.statSync(userKeyFile(meta, 'me')).mode & 0o777, 0o644);
  const other = createUserKey(path.join(root, 'id2'), 'me@h2').key;
  t.equal(registerUserKey(meta, 'me', other, 'me@h2'), 'added', 'a second key of the same user (another host)');
  t.equal(parsePublicKeys(fs.readFileSync(userKeyFile(meta, 'me'), 'utf8')).length, 2);
  if (process.getuid?.() === 0) {
    fs.writeFileSync(userKeyFile(meta, 'them'), '');
    fs.chownSync(userKeyFile(meta, 'them'), 4242, 4242);
    t.throws(() => registerUserKey(meta, 'them', key, 'x'), {
      code: 'KEY_NOT_OWNED',
      message: /is not a file of yours \(owner uid 4242\)/,
    });
  }
});

t.test('the signature header: written and read back; malformed ones refused', async (t) => {
  const key: RequestSignature = {
    kind: 'key',
    user: 'alice',
    key: 'k'.repeat(43),
    time: 1795400000000,
    nonce: 'n1',
    dh: 'd'.repeat(43),
    sig: 's'.repeat(86),
  };
  const session: RequestSignature = { kind: 'session', session: 'S1', time: 1795400000001, nonce: 'n2', mac: 'm'.repeat(43) };
  t.same(parseSignature(formatSignature(key)), key);
  t.same(parseSignature(formatSignature(session)), session);
  for (const bad of [
    '',
    'v2 session=S t=1 n=n mac=m',
    'v1 session=S t=x n=n mac=m',
    'v1 session=S t=1 n=n mac=m extra=1',
    'v1 session=S session=T t=1 n=n mac=m',
    'v1 user=../../etc key=k t=1 n=n dh=d sig=s',
    'v1 user=alice key=k t=1 n=n dh=d',
    'v1 session=S/1 t=1 n=n mac=m',
    `v1 session=S t=1 n=n mac=${'m'.repeat(1000)}`,
  ]) {
    t.equal(parseSignature(bad), undefined, `refused: ${bad.slice(0, 60)}`);
  }
  t.same(claimedUser('alice@h1'), { user: 'alice', delegated: false });
  t.same(claimedUser('bob via web'), { user: 'bob', delegated: true });
  t.same(claimedUser(''), { user: '', delegated: false });
});
