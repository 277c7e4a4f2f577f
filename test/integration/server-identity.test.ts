/**
 * Signed requests through a real server on port 0 and the remote store (docs/security.md): the
 * key made and registered on first use, writes recorded as the verified user and unsigned ones as
 * unverified (or refused where identity is required), `user` never taken from a client, the web
 * view's "via web" accepted only from an admin, [setup] admins and approvers checked as the
 * verified user, a server that forgot the session (restarted) signed in to again, and --direct
 * checked as the process's own user.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { RemoteStore } from '../../src/client/remote-store.js';
import { postRaw, storeOnPort } from '../helpers/remote.js';
import { RequestSigner } from '../../src/client/signer.js';
import { runAreaPaths } from '../../src/config/paths.js';
import { OPEN_POLICY, type AccessPolicy } from '../../src/model/access.js';
import { SESSION_TTL_MS } from '../../src/model/identity-protocol.js';
import type { WriteOp } from '../../src/model/records.js';
import { buildServerApp } from '../../src/server/app.js';
import { IdentityGate } from '../../src/server/identity-gate.js';
import { openDirectStore, type DirectStore } from '../../src/store/direct-store.js';
import { loginName } from '../../src/util/host.js';
import { NIGHTLY, nextOpId, regsFor, rowOf, setOp } from '../unit/store-fixture.js';

const ME = loginName();
const TOKEN = 'token-of-the-area';

interface Fixture {
  dir: string;
  store: DirectStore;
  policy: { now: AccessPolicy };
  port: number;
  signed: RemoteStore;
  unsigned: RemoteStore;
  signer: RequestSigner;
  /** how far the clocks of server and client are ahead of the real one (ms) */
  clock: { offset: number };
}

async function listen(t: Test, store: DirectStore, dir: string, policy: { now: AccessPolicy }, now: () => number) {
  const app = buildServerApp({
    store,
    token: TOKEN,
    health: () => ({ areaId: 'area-1', host: 'h', pid: 1, invocation: 'other', started: 0, version: '0', uptime: 0 }),
    onCall: () => undefined,
    onShutdown: () => undefined,
    identity: new IdentityGate({ metaDir: runAreaPaths(dir).metaDir, areaId: () => 'area-1', now }),
    access: { current: () => policy.now },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  return { app, port: (app.server.address() as AddressInfo).port };
}

const remoteStore = (dir: string, port: number, signer?: RequestSigner): RemoteStore =>
  storeOnPort(port, { token: TOKEN, runArea: dir, areaId: 'area-1', ...(signer ? { signer } : {}) });

async function fixture(t: Test): Promise<Fixture> {
  const dir = t.testdir();
  fs.mkdirSync(runAreaPaths(dir).metaDir, { recursive: true });
  const policy = { now: OPEN_POLICY };
  // The server's store and app follow one policy, as server.ts wires them.
  const store = openDirectStore(dir, { host: 'h', access: { current: () => policy.now } });
  t.teardown(() => store.close());
  const clock = { offset: 0 };
  const now = () => Date.now() + clock.offset;
  const server = await listen(t, store, dir, policy, now);
  const signer = new RequestSigner({ runArea: dir, env: { TRELLIS_ID_DIR: path.join(dir, 'id') }, host: 'h', debug: () => undefined, now });
  return {
    dir,
    store,
    policy,
    port: server.port,
    signed: remoteStore(dir, server.port, signer),
    unsigned: remoteStore(dir, server.port),
    signer,
    clock,
  };
}

const admins = (...users: string[]) => ({ users, where: 'trellis.config:9' });

const rawPost = (port: number, pathname: string, body: unknown) => postRaw(port, TOKEN, pathname, JSON.stringify(body));

t.test('signed writes are recorded as the proven user, unsigned ones as unverified', async (t) => {
  const fx = await fixture(t);
  const run = await fx.signed.ensureRun(NIGHTLY);
  const users = path.join(runAreaPaths(fx.dir).metaDir, 'users', `${ME}.pub`);
  t.ok(fs.existsSync(path.join(fx.dir, 'id', 'id_ed25519')), 'the key was made on first use');
  t.equal(fs.statSync(users).mode & 0o777, 0o644, 'and registered in the run area');
  await fx.signed.setRunState(run.id, 'locked', { who: `${ME}@h` });
  await fx.unsigned.setRunState(run.id, 'locked', { who: 'mallory@h' });
  await fx.signed.setRunState(run.id, 'done', { who: `${ME}@h` });
  await fx.unsigned.setRunState(run.id, 'locked', { who: 'mallory@h' });
  const events = await fx.store.events(run.id, 0);
  t.same(
    events.filter((e) => e.kind === 'lock' || e.kind === 'unlock').map((e) => e.who),
    [`${ME}@h`, `${ME}@h`, 'mallory@h (unverified)'],
  );
  const bad = await rawPost(fx.port, '/v1/store/setRunState', { runId: run.id, state: 'done', options: { who: 'x', user: 'alice' } });
  t.equal(bad.status, 400, `a client never names the proven user: ${bad.text}`);
  t.match(bad.text, /BAD_REQUEST/);
});

t.test('[setup] identity required refuses unsigned writes, not reads', async (t) => {
  const fx = await fixture(t);
  fx.policy.now = { ...OPEN_POLICY, identity: 'required' };
  const run = await fx.signed.ensureRun(NIGHTLY);
  await t.rejects(fx.unsigned.setRunState(run.id, 'locked', { who: 'x@h' }), {
    code: 'UNSIGNED',
    message: /this area takes only signed writes/,
  });
  await t.rejects(fx.unsigned.registerTests(run.id, regsFor('a')), { code: 'UNSIGNED' });
  t.equal((await fx.unsigned.listRuns()).length, 1, 'reads need only the token');
  await fx.signed.registerTests(run.id, regsFor('a'));
});

t.test('a forged name is refused; the web view acts for others only as an admin', async (t) => {
  const fx = await fixture(t);
  const run = await fx.signed.ensureRun(NIGHTLY);
  await t.rejects(fx.signed.setRunState(run.id, 'locked', { who: 'admin@x' }), {
    code: 'FORGED_NAME',
    message: `the request says it comes from admin but is signed by ${ME}`,
  });
  await fx.signed.setRunState(run.id, 'locked', { who: 'alice via web' });
  fx.policy.now = { ...OPEN_POLICY, admins: admins('bob') };
  await t.rejects(fx.signed.setRunState(run.id, 'locked', { who: 'carol via web' }), {
    code: 'FORGED_NAME',
    hint: /only \[setup\] admins may run a web view that acts for others \(trellis.config:9\)/,
  });
  fx.policy.now = { ...OPEN_POLICY, admins: admins(ME, 'alice') };
  await fx.signed.setRunState(run.id, 'done', { who: 'alice via web' });
  const who = (await fx.store.events(run.id, 0)).filter((e) => e.kind === 'lock' || e.kind === 'unlock').map((e) => e.who);
  t.same(who, [`alice via web (by ${ME})`, `alice via web (by ${ME})`]);
});

t.test('admins alone force locked runs, unlock and remove them; unproven writes never pass', async (t) => {
  const fx = await fixture(t);
  const run = await fx.signed.ensureRun(NIGHTLY);
  const [row] = await fx.signed.registerTests(run.id, regsFor('a'));
  await fx.signed.setRunState(run.id, 'locked', { who: `${ME}@h` });
  fx.policy.now = { ...OPEN_POLICY, admins: admins('bob') };
  const op = () => [setOp(row!.id, 'COMPLETED', 'PASS', 1000)];
  await t.rejects(fx.signed.write(run.id, op(), { force: true, who: `${ME}@h` }), {
    code: 'NOT_ADMIN',
    message: `user ${ME} may not force changes to a locked run in this area: only [setup] admins may (trellis.config:9: bob)`,
    hint: 'ask bob',
  });
  await t.rejects(fx.signed.setRunState(run.id, 'done', { who: `${ME}@h` }), { code: 'NOT_ADMIN', message: /may not unlock runs/ });
  await t.rejects(fx.signed.removeRun(run.id, { force: true, who: `${ME}@h` }), {
    code: 'NOT_ADMIN',
    message: /force changes to a locked run/,
  });
  await t.rejects(fx.unsigned.write(run.id, op(), { force: true, who: 'bob@h' }), {
    code: 'NOT_ADMIN',
    message:
      /only \[setup\] admins \(trellis.config:9: bob\) may force changes to a locked run, and this request does not prove who sent it/,
  });
  await t.rejects(
    fx.signed.closeRun(run.id, { who: `${ME}@h` }).then(() => fx.signed.setRunState(run.id, 'done', { who: `${ME}@h` })),
    {
      code: 'NOT_ADMIN',
      message: /may not reopen closed runs/,
    },
  );
  fx.policy.now = { ...OPEN_POLICY, admins: admins(ME) };
  await fx.signed.write(run.id, op(), { force: true, who: `${ME}@h` });
  await fx.signed.setRunState(run.id, 'done', { who: `${ME}@h` });
  t.equal((await fx.store.getRun(run.id))?.state, 'done');
});

t.test('sign-offs: approvers when set, else admins; checked as the proven user', async (t) => {
  const fx = await fixture(t);
  const run = await fx.signed.ensureRun(NIGHTLY);
  const rows = await fx.signed.registerTests(run.id, regsFor('rel', 'other'));
  const waitAt = (name: string): WriteOp[] => {
    const id = rowOf(rows, name).id;
    return [
      { kind: 'step', opId: nextOpId(), testId: id, name: 'sign-off', state: 'WAITING', status: 'MANUAL', comment: '', time: 1001 },
      setOp(id, 'WAITING', 'MANUAL', 1001),
    ];
  };
  await fx.signed.write(run.id, [...waitAt('rel'), ...waitAt('other')]);
  const approve = (name: string): WriteOp[] => [
    { kind: 'approve', opId: nextOpId(), testId: rowOf(rows, name).id, step: '', verdict: 'approve', comment: '', time: 1100 },
  ];
  fx.policy.now = { ...OPEN_POLICY, admins: admins('bob') };
  await t.rejects(fx.signed.write(run.id, approve('rel'), { who: `${ME}@h` }), {
    code: 'NOT_ADMIN',
    message: `user ${ME} may not sign off manual steps ([setup] approvers is not set) in this area: only [setup] admins may (trellis.config:9: bob)`,
  });
  fx.policy.now = { ...OPEN_POLICY, admins: admins(ME), approvers: { users: ['carol'], where: 'trellis.config:10' } };
  await t.rejects(fx.signed.write(run.id, approve('rel'), { who: `${ME}@h` }), {
    code: 'NOT_APPROVER',
    message: `user ${ME} may not sign off manual steps in this area: [setup] approvers (trellis.config:10) names carol`,
  });
  await t.rejects(fx.signed.write(run.id, approve('rel'), { who: 'alice via web' }), {
    code: 'NOT_APPROVER',
    message: /user alice may not/,
  });
  await fx.signed.write(run.id, approve('rel'), { who: 'carol via web' });
  fx.policy.now = { ...OPEN_POLICY, admins: admins(ME) };
  await fx.signed.write(run.id, approve('other'), { who: `${ME}@h` });
  const signed = (await fx.store.listTests(run.id)).map((r) => `${r.testname} ${r.comment}`);
  t.match(signed.join('\n'), new RegExp(`rel step sign-off approved by carol via web \\(by ${ME}\\)`));
  t.match(signed.join('\n'), new RegExp(`other step sign-off approved by ${ME}@h`));
});

t.test('a session that ended (a long run outlives it) is signed in to again', async (t) => {
  const fx = await fixture(t);
  const run = await fx.signed.ensureRun(NIGHTLY);
  fx.clock.offset += SESSION_TTL_MS + 1000;
  await fx.signed.setRunState(run.id, 'locked', { who: `${ME}@h` });
  t.equal((await fx.store.getRun(run.id))?.lockedBy, `${ME}@h`);
});

t.test('--direct: checked as the process user', async (t) => {
  const dir = t.testdir();
  const policy = { ...OPEN_POLICY, admins: admins('alice') };
  const asBob = openDirectStore(dir, { host: 'h', access: { current: () => policy }, localUser: 'bob' });
  t.teardown(() => asBob.close());
  const run = await asBob.ensureRun(NIGHTLY);
  await asBob.setRunState(run.id, 'locked', { who: 'bob@h' });
  await t.rejects(asBob.setRunState(run.id, 'done', { who: 'bob@h' }), { code: 'NOT_ADMIN', message: /user bob may not unlock runs/ });
  await asBob.close();
  const asAlice = openDirectStore(dir, { host: 'h', access: { current: () => policy }, localUser: 'alice' });
  t.teardown(() => asAlice.close());
  await asAlice.setRunState(run.id, 'done', { who: 'alice@h' });
  t.not((await asAlice.getRun(run.id))?.state, 'locked', 'alice, an admin, unlocked it');
});
