/**
 * The in-test channel between a real POSIX shell client (bin/megatest, bin/trellis) and the
 * follower, with a handler of the test's own instead of a store: every byte of an argument
 * arrives, standard input is passed on for -load-test-data, answers carry exit code, stdout and
 * stderr, concurrent calls each get their own answer, each job's calls reach its own handler, a
 * request file still being written is not taken, an answered one is never carried out again,
 * answered files are cleared away, and a call after its job detached, after close() or once the
 * folder is gone is told the steps have ended.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { ChannelFollower, parseRequest, type ChannelRequest } from '../../src/runner/in-test-channel.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin');

/** Where a call comes from: the channel folder and the job's key in it. */
interface Caller {
  dir: string;
  key: string;
}

function call(cmd: string, args: string[], from: Caller, stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(BIN, cmd), args, {
      cwd: path.dirname(from.dir),
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TRELLIS_CHANNEL: from.dir, TRELLIS_CHANNEL_JOB: from.key },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // A script that does not read its standard input may have ended before it is written.
    child.stdin.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') reject(err);
    });
    child.stdin.end(stdin ?? '');
  });
}

type Handler = (r: ChannelRequest) => { code: number; stdout?: string; stderr?: string };

/** A follower of a channel folder in the test's folder, with one job attached. */
function follow(t: Test, handler: Handler) {
  const dir = path.join(t.testdir(), 'channel');
  const follower = new ChannelFollower(dir, { host: 'nowhere', pid: process.pid });
  follower.open();
  t.teardown(() => follower.close());
  const job = attach(follower, handler);
  return { dir, ...job, follower };
}

/** Attaches a job whose requests `handler` answers; `seen` holds what it was asked. */
function attach(follower: ChannelFollower, handler: Handler) {
  const seen: ChannelRequest[] = [];
  const key = follower.attach(async (r) => {
    seen.push(r);
    const a = handler(r);
    return { code: a.code, stdout: a.stdout ?? '', stderr: a.stderr ?? '' };
  });
  return { caller: { dir: follower.dir, key }, key, seen };
}

t.test('arguments, standard input and answers cross the channel whole', async (t) => {
  const { dir, caller, seen } = follow(t, (r) =>
    r.argv.includes('fail') ? { code: 2, stderr: 'megatest: no\n' } : { code: 0, stdout: `got ${r.argv.length}\n` },
  );
  const odd = ['-step', 'a b\nc', ':state', 'é\u001b[31m"$x\'`', ':status', ''];
  const r1 = await call('megatest', odd, caller);
  t.same(r1, { code: 0, stdout: 'got 6\n', stderr: '' });
  t.same(seen[0]!.argv, odd, 'every byte of every argument');
  t.equal(seen[0]!.front, 'megatest');
  t.equal(seen[0]!.cwd, path.dirname(dir));
  t.equal(seen[0]!.stdin, undefined, 'no input read when not asked for');
  const r2 = await call('megatest', ['-load-test-data'], caller, 'a,b,1\nc,d,2');
  t.equal(r2.code, 0);
  t.equal(seen[1]!.stdin, 'a,b,1\nc,d,2', 'input passed on, a last line without its end too');
  t.same(await call('trellis', ['step', 'fail'], caller), { code: 2, stdout: '', stderr: 'megatest: no\n' });
  t.equal(seen[2]!.front, 'trellis');
  // Calls at once, each its own answer.
  const many = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      call(
        'megatest',
        Array.from({ length: i + 1 }, () => 'x'),
        caller,
      ),
    ),
  );
  t.same(
    many.map((r) => r.stdout),
    Array.from({ length: 8 }, (_, i) => `got ${i + 1}\n`),
  );
  await waitFor(
    () => fs.readdirSync(dir).every((n) => n === 'owner'),
    () => fs.readdirSync(dir).join(' '),
  );
  t.pass('answered requests are cleared away');
});

t.test("each job's calls reach its own handler; a detached job's calls are told its steps ended", async (t) => {
  const { caller: a, seen: seenA, follower } = follow(t, () => ({ code: 0, stdout: 'a\n' }));
  const { caller: b, key: keyB, seen: seenB } = attach(follower, () => ({ code: 0, stdout: 'b\n' }));
  t.not(a.key, b.key, 'each job its own key');
  const [ra, rb] = await Promise.all([call('trellis', ['step', 'x'], a), call('trellis', ['step', 'y'], b)]);
  t.equal(ra.stdout, 'a\n');
  t.equal(rb.stdout, 'b\n');
  t.same(
    seenA.map((r) => r.argv[1]),
    ['x'],
  );
  t.same(
    seenB.map((r) => r.argv[1]),
    ['y'],
  );
  await follower.detach(keyB);
  const late = await call('megatest', ['-step', 'z', ':state', 'start', ':status', 'n/a'], b);
  t.equal(late.code, 5, 'the follower itself says the steps ended');
  t.match(late.stderr, /^megatest: the test's steps have ended; trellis no longer answers/);
  t.equal(seenB.length, 1, 'nothing carried out for it');
  t.equal((await call('trellis', ['step', 'w'], a)).stdout, 'a\n', 'the other job is still answered');
});

t.test('a request still being written is not taken; an answered one is not carried out again', async (t) => {
  const { dir, caller, key, seen, follower } = follow(t, () => ({ code: 0 }));
  const whole = 'trellis-request 1\nmegatest\n4\n/tmp\n1\n6\n-step \n0\nend\n';
  t.ok(parseRequest('1-2', Buffer.from(whole)), 'a whole request reads');
  for (let cut = 1; cut < whole.length; cut++)
    t.equal(parseRequest('1-2', Buffer.from(whole.slice(0, cut))), undefined, `not at ${cut} bytes`);
  fs.writeFileSync(path.join(dir, `${key}.5-6.req`), whole.slice(0, 20));
  fs.writeFileSync(path.join(dir, `${key}.7-8.req`), whole);
  fs.writeFileSync(path.join(dir, `${key}.7-8.ack`), '0 0 0\n');
  fs.writeFileSync(path.join(dir, `${key}.9-9.req`), whole);
  // No job's key: never taken.
  fs.writeFileSync(path.join(dir, '3-4.req'), whole);
  await waitFor(
    () => fs.existsSync(path.join(dir, `${key}.9-9.ack`)),
    () => fs.readdirSync(dir).join(' '),
  );
  t.same(
    seen.map((r) => r.id),
    [`${key}.9-9`],
    'only the whole, unanswered request',
  );
  fs.appendFileSync(path.join(dir, `${key}.5-6.req`), whole.slice(20));
  await waitFor(
    () => fs.existsSync(path.join(dir, `${key}.5-6.ack`)),
    () => fs.readdirSync(dir).join(' '),
  );
  t.same(
    seen.map((r) => r.id),
    [`${key}.9-9`, `${key}.5-6`],
    'taken once it is whole',
  );
  t.notOk(fs.existsSync(path.join(dir, '3-4.ack')), 'a request without a key is not answered');
  await follower.close();
  t.ok(fs.existsSync(path.join(dir, 'closed')));
  const late = await call('megatest', ['-step', 'x', ':state', 'start', ':status', 'n/a'], caller);
  t.equal(late.code, 5);
  t.match(late.stderr, /the test's steps have ended; trellis no longer answers/);
  // The folder removed (its process gone, another one on this host cleared it): the same.
  fs.rmSync(dir, { recursive: true });
  const gone = await call('trellis', ['step', 'x', '--state', 'start'], caller);
  t.equal(gone.code, 5);
  t.match(gone.stderr, /^trellis: the test's steps have ended; trellis no longer answers/);
});

t.test('a call whose follower died is told so instead of waiting on', async (t) => {
  const dir = path.join(t.testdir(), 'channel');
  const gone = spawnSync(process.execPath, ['-e', '0']);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'owner'), `${os.hostname()} ${gone.pid}\n`);
  const r = await call('megatest', ['-step', 'x', ':state', 'start', ':status', 'n/a'], { dir, key: '1' });
  t.equal(r.code, 7);
  t.match(
    r.stderr,
    new RegExp(`the trellis process that runs this test \\(pid ${gone.pid} on ${os.hostname()}\\) is gone; nothing was recorded`),
  );
});

t.test('outside a test the scripts say so (megatest) or run the CLI (trellis)', async (t) => {
  // A channel folder but no job's key: not inside a test.
  const r = await call('megatest', ['-step', 'x'], { dir: path.join(t.testdir(), 'channel'), key: '' });
  t.equal(r.code, 4);
  t.match(r.stderr, /run it from a step of a test that trellis run started/);
});

async function waitFor(pred: () => boolean, seen: () => string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out; saw: ${seen()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
