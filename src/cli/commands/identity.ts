/**
 * `trellis id init|register|show` (docs/security.md): the user's key pair under their home, its
 * public half registered in the run area, and what the area's server verifies them as.
 */
import fs from 'node:fs';
import path from 'node:path';
import { connect } from '../../client/discovery.js';
import { RequestSigner } from '../../client/signer.js';
import { runAreaPaths } from '../../config/paths.js';
import { TrellisError } from '../../util/errors.js';
import { loginName, shortHostname } from '../../util/host.js';
import { createUserKey, idDir, parsePublicKeys, readUserKey, registerUserKey, userKeyFile, type UserKey } from '../../util/id-keys.js';
import { termJson, termLine } from '../../util/terminal-text.js';
import { openArea } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { IdOptions } from '../specs/identity.js';

/** The run area of the area found here (or --runarea); undefined outside any area. */
function findRunArea(opts: IdOptions, ctx: CommandContext): { runArea: string; areaDir: string | undefined } | undefined {
  try {
    const area = openArea(opts, ctx);
    return { runArea: area.runArea, areaDir: area.dir };
  } catch (err) {
    if (!(err instanceof TrellisError && err.code === 'NO_AREA')) throw err;
    if (opts.runarea !== undefined) return { runArea: path.resolve(ctx.cwd, opts.runarea), areaDir: undefined };
    if (opts.action === 'register') throw err;
    return undefined;
  }
}

const comment = (ctx: CommandContext) => `${loginName(ctx.env)}@${shortHostname()}`;

/** Registration of `key` in the run area: 'yes', 'no', or why a server would not believe it. */
function registration(runArea: string, user: string, key: UserKey): { file: string; state: string } {
  const file = userKeyFile(runAreaPaths(runArea).metaDir, user);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return { file, state: 'not registered' };
  }
  const uid = process.getuid?.();
  if (!st.isFile() || (uid !== undefined && st.uid !== uid)) return { file, state: `not believed: the file belongs to uid ${st.uid}` };
  if ((st.mode & 0o022) !== 0) return { file, state: 'not believed: others may write the file' };
  const listed = parsePublicKeys(fs.readFileSync(file, 'utf8')).some((k) => k.publicKey === key.publicKey);
  return { file, state: listed ? 'registered' : 'not registered (the file holds other keys of yours)' };
}

export async function execute(opts: IdOptions, ctx: CommandContext): Promise<number> {
  const user = loginName(ctx.env);
  const dir = idDir(ctx.env);
  const where = findRunArea(opts, ctx);
  if (opts.action === 'init') {
    const { key, created } = createUserKey(dir, comment(ctx));
    ctx.stdout.write(`${created ? 'Made' : 'You have'} the key of ${user}: ${termLine(key.file)} (fingerprint ${key.fingerprint})\n`);
    if (where) {
      const added = registerUserKey(runAreaPaths(where.runArea).metaDir, user, key, comment(ctx));
      ctx.stdout.write(
        `${added === 'added' ? 'Registered it in' : 'It is registered in'} ${termLine(userKeyFile(runAreaPaths(where.runArea).metaDir, user))}\n`,
      );
    }
    return 0;
  }
  const key = readUserKey(dir);
  if (key === undefined) {
    throw new TrellisError('NO_KEY', `${user} has no key in ${dir}`, 'run `trellis id init` to make one');
  }
  if (opts.action === 'register') {
    const metaDir = runAreaPaths(where!.runArea).metaDir;
    const added = registerUserKey(metaDir, user, key, comment(ctx));
    ctx.stdout.write(
      `${added === 'added' ? 'Registered' : 'Already registered:'} the key ${key.fingerprint} of ${user} in ${termLine(userKeyFile(metaDir, user))}\n`,
    );
    return 0;
  }
  const reg = where ? registration(where.runArea, user, key) : undefined;
  const verified = where ? await askServer(where, ctx) : undefined;
  const facts = {
    user,
    key: key.file,
    fingerprint: key.fingerprint,
    ...(where ? { runArea: where.runArea, registration: reg!.state, registeredIn: reg!.file, verifiedAs: verified ?? null } : {}),
  };
  if (opts.json) {
    ctx.stdout.write(`${termJson(facts)}\n`);
    return 0;
  }
  const lines = [`user         ${user}`, `key          ${termLine(key.file)}`, `fingerprint  ${key.fingerprint}`];
  if (where) {
    lines.push(`run area     ${termLine(where.runArea)}`, `registered   ${termLine(reg!.state)} (${termLine(reg!.file)})`);
    lines.push(`server       ${verified === undefined ? 'no live server to ask' : `verifies you as ${termLine(verified)}`}`);
  }
  ctx.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** Signs in to the area's live server (none is started for this): the user it verified. */
async function askServer(where: { runArea: string; areaDir: string | undefined }, ctx: CommandContext): Promise<string | undefined> {
  let conn: Awaited<ReturnType<typeof connect>>;
  try {
    conn = await connect({
      runArea: where.runArea,
      areaDir: where.areaDir,
      invocation: 'other',
      host: shortHostname(),
      now: ctx.now,
      debug: (m) => ctx.log.debug(m),
      autoStart: false,
      env: ctx.env,
      trellisJs: path.join(ctx.binDir, 'trellis.js'),
    });
  } catch (err) {
    if (err instanceof TrellisError && err.code === 'NO_SERVER') return undefined;
    throw err;
  }
  const signer = new RequestSigner({ runArea: where.runArea, env: ctx.env, host: shortHostname(), debug: (m) => ctx.log.debug(m) });
  return (await signer.session(conn))?.user;
}
