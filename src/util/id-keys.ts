/**
 * A user's key pair and its registration in a run area (docs/security.md). The private key lives
 * under the user's home (`~/.trellis/id_ed25519`, 0600, PKCS#8 PEM); its public half is a line
 * `trellis-ed25519 <key> <comment>` in `~/.trellis/id_ed25519.pub` and, once registered, in
 * `<runarea>/.meta/users/<user>.pub`. A server believes such a file only when its owner is that
 * user: the shared filesystem vouches for who wrote it.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TrellisError } from './errors.js';

const KEY_KIND = 'trellis-ed25519';
const RAW_KEY = /^[A-Za-z0-9_-]{43}$/;

/** A user's key pair as loaded from their home. */
export interface UserKey {
  privateKey: KeyObject;
  /** base64url of the raw 32-byte public key */
  publicKey: string;
  fingerprint: string;
  /** the private key's file */
  file: string;
}

/** One line of a `.pub` file. */
export interface PublicKeyLine {
  publicKey: string;
  fingerprint: string;
  comment: string;
}

/** The folder of the user's key: `$TRELLIS_ID_DIR`, else `~/.trellis`. */
export function idDir(env: Readonly<Record<string, string | undefined>>): string {
  const named = env['TRELLIS_ID_DIR'];
  if (named) return path.resolve(named);
  return path.join(env['HOME'] || os.homedir(), '.trellis');
}

export const privateKeyFile = (dir: string) => path.join(dir, 'id_ed25519');
export const publicKeyFile = (dir: string) => path.join(dir, 'id_ed25519.pub');
/** `<runarea>/.meta/users`: one `<user>.pub` per user who registered a key */
export const usersDir = (metaDir: string) => path.join(metaDir, 'users');
export const userKeyFile = (metaDir: string, user: string) => path.join(usersDir(metaDir), `${user}.pub`);

/** The key's fingerprint: base64url of the SHA-256 of its raw bytes. */
export function keyFingerprint(publicKey: string): string {
  return createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest('base64url');
}

/** The public key of a KeyObject as base64url raw bytes. */
export function rawPublicKey(key: KeyObject): string {
  return String(createPublicKey(key).export({ format: 'jwk' }).x);
}

/** An Ed25519 public key object from its raw base64url bytes. */
export function publicKeyObject(publicKey: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
}

/** The `.pub` line of a key. */
export function formatPublicKey(publicKey: string, comment: string): string {
  return `${KEY_KIND} ${publicKey} ${comment.replace(/[\s\p{Cc}]+/gu, '_')}`.trimEnd();
}

/** The keys of a `.pub` file's text; lines that are not keys are skipped. */
export function parsePublicKeys(text: string): PublicKeyLine[] {
  const keys: PublicKeyLine[] = [];
  for (const line of text.split('\n')) {
    const [kind, key, ...rest] = line.trim().split(/\s+/);
    if (kind !== KEY_KIND || key === undefined || !RAW_KEY.test(key)) continue;
    keys.push({ publicKey: key, fingerprint: keyFingerprint(key), comment: rest.join(' ') });
  }
  return keys;
}

/**
 * The user's key, or undefined when there is none. A private key that others may read, or that
 * another user owns, is refused as ssh refuses it (KEY_UNPROTECTED).
 */
export function readUserKey(dir: string): UserKey | undefined {
  const file = privateKeyFile(dir);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new TrellisError(
      'KEY_UNPROTECTED',
      `cannot read your key ${file}: ${(err as Error).message}`,
      'fix its permissions, or remove it and run `trellis id init`',
    );
  }
  const uid = process.getuid?.();
  if (!st.isFile() || (uid !== undefined && st.uid !== uid)) {
    throw new TrellisError('KEY_UNPROTECTED', `your key ${file} is not a file you own`, 'remove it and run `trellis id init`');
  }
  if ((st.mode & 0o077) !== 0) {
    throw new TrellisError(
      'KEY_UNPROTECTED',
      `your private key ${file} may be read by others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`,
      `run \`chmod 600 ${file}\`; if others could read it, make a new one: remove it and run \`trellis id init\``,
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(fs.readFileSync(file));
  } catch (err) {
    throw new TrellisError(
      'KEY_UNPROTECTED',
      `your key ${file} cannot be read as a key: ${(err as Error).message}`,
      'remove it and run `trellis id init`',
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TrellisError('KEY_UNPROTECTED', `your key ${file} is not an Ed25519 key`, 'remove it and run `trellis id init`');
  }
  const publicKey = rawPublicKey(privateKey);
  return { privateKey, publicKey, fingerprint: keyFingerprint(publicKey), file };
}

/**
 * Makes the user's key pair in `dir` unless one is there; returns the key either way. Two
 * processes making one at once end with the same key: the file is linked into place, never
 * overwritten.
 */
export function createUserKey(dir: string, comment: string): { key: UserKey; created: boolean } {
  const existing = readUserKey(dir);
  if (existing) return { key: existing, created: false };
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
  const file = privateKeyFile(dir);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, pem, { mode: 0o600 });
  let created = true;
  try {
    fs.linkSync(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    created = false;
  } finally {
    fs.rmSync(temp, { force: true });
  }
  const key = readUserKey(dir)!;
  if (created) fs.writeFileSync(publicKeyFile(dir), `${formatPublicKey(key.publicKey, comment)}\n`, { mode: 0o644 });
  return { key, created };
}

/**
 * Adds the key to `<metaDir>/users/<user>.pub` unless it is there; the folder is made sticky, so
 * nobody removes another's file. Returns 'added' or 'present'. A file another user owns is
 * refused (KEY_NOT_OWNED): a server would not believe it either.
 */
export function registerUserKey(metaDir: string, user: string, key: UserKey, comment: string): 'added' | 'present' {
  const dir = usersDir(metaDir);
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir, { recursive: true });
    try {
      // As open as .meta itself (a shared area is group-writable), plus sticky like /tmp.
      fs.chmodSync(dir, (fs.statSync(metaDir).mode & 0o777) | 0o1000);
    } catch {
      // another user made it first: theirs stands
    }
  }
  const file = userKeyFile(metaDir, user);
  let text = '';
  try {
    const st = fs.lstatSync(file);
    const uid = process.getuid?.();
    if (!st.isFile() || (uid !== undefined && st.uid !== uid)) {
      throw new TrellisError(
        'KEY_NOT_OWNED',
        `${file} is not a file of yours (owner uid ${st.uid}): a server would not believe the keys in it`,
        'ask its owner or an administrator of the area to remove it, then run `trellis id register` again',
      );
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (parsePublicKeys(text).some((k) => k.publicKey === key.publicKey)) return 'present';
  const line = `${formatPublicKey(key.publicKey, comment)}\n`;
  fs.appendFileSync(file, text === '' || text.endsWith('\n') ? line : `\n${line}`, { mode: 0o644 });
  fs.chmodSync(file, 0o644);
  return 'added';
}
