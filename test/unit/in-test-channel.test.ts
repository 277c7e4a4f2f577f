/**
 * The in-test channel between a real POSIX shell client (bin/megatest, bin/trellis) and the
 * follower, with a handler of the test's own instead of a store: every byte of an argument
 * arrives, standard input is passed on for -load-test-data, answers carry exit code, stdout and
 * stderr, concurrent calls each get their own answer, a request file still being written is not
 * taken, an answered one is never carried out again, answered files are cleared away, and a call
 * after close() is told the steps have ended.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { ChannelFollower, channelDir, parseRequest, type ChannelRequest } from '../../src/runner/in-test-channel.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin');

function call(
  cmd: string,
  args: string[],
  workDir: string,
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(BIN, cmd), args, {
      cwd: workDir,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TRELLIS_CHANNEL: channelDir(workDir) },
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

function follow(t: Test, handler: (r: ChannelRequest) => { code: number; stdout?: string; stderr?: string }) {
  const dir = t.testdir();
  const seen: ChannelRequest[] = [];
  const f = new ChannelFollower(
    dir,
    async (r) => {
      seen.push(r);
      const a = handler(r);
      return { code: a.code, stdout: a.stdout ?? '', stderr: a.stderr ?? '' };
    },
    { host: 'nowhere', pid: process.pid },
  );
  f.open();
  t.teardown(() => f.close());
  return { dir, seen, follower: f };
}

t.test('arguments, standard input and answers cross the channel whole', async (t) => {
  const { dir, seen } = follow(t, (r) =>
    r.argv.includes('fail') ? { code: 2, stderr: 'megatest: no\n' } : { code: 0, stdout: `got ${r.argv.length}\n` },
  );
  const odd = ['-step', 'a b\nc', ':state', 'é\u001b[31m"$x\'`', ':status', ''];
  const r1 = await call('megatest', odd, dir);
  t.same(r1, { code: 0, stdout: 'got 6\n', stderr: '' });
  t.same(seen[0]!.argv, odd, 'every byte of every argument');
  t.equal(seen[0]!.front, 'megatest');
  t.equal(seen[0]!.cwd, dir);
  t.equal(seen[0]!.stdin, undefined, 'no input read when not asked for');
  const r2 = await call('megatest', ['-load-test-data'], dir, 'a,b,1\nc,d,2');
  t.equal(r2.code, 0);
  t.equal(seen[1]!.stdin, 'a,b,1\nc,d,2', 'input passed on, a last line without its end too');
  t.same(await call('trellis', ['step', 'fail'], dir), { code: 2, stdout: '', stderr: 'megatest: no\n' });
  t.equal(seen[2]!.front, 'trellis');
  // Calls at once, each its own answer.
  const many = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      call(
        'megatest',
        Array.from({ length: i + 1 }, () => 'x'),
        dir,
      ),
    ),
  );
  t.same(
    many.map((r) => r.stdout),
    Array.from({ length: 8 }, (_, i) => `got ${i + 1}\n`),
  );
  const ch = channelDir(dir);
  await waitFor(
    () => fs.readdirSync(ch).every((n) => n === 'owner'),
    () => fs.readdirSync(ch).join(' '),
  );
  t.pass('answered requests are cleared away');
});

t.test('a request still being written is not taken; an answered one is not carried out again', async (t) => {
  const { dir, seen, follower } = follow(t, () => ({ code: 0 }));
  const ch = channelDir(dir);
  const whole = 'trellis-request 1\nmegatest\n4\n/tmp\n1\n6\n-step \n0\nend\n';
  t.ok(parseRequest('1-2', Buffer.from(whole)), 'a whole request reads');
  for (let cut = 1; cut < whole.length; cut++)
    t.equal(parseRequest('1-2', Buffer.from(whole.slice(0, cut))), undefined, `not at ${cut} bytes`);
  fs.writeFileSync(path.join(ch, '5-6.req'), whole.slice(0, 20));
  fs.writeFileSync(path.join(ch, '7-8.req'), whole);
  fs.writeFileSync(path.join(ch, '7-8.ack'), '0 0 0\n');
  fs.writeFileSync(path.join(ch, '9-9.req'), whole);
  await waitFor(
    () => fs.existsSync(path.join(ch, '9-9.ack')),
    () => fs.readdirSync(ch).join(' '),
  );
  t.same(
    seen.map((r) => r.id),
    ['9-9'],
    'only the whole, unanswered request',
  );
  fs.appendFileSync(path.join(ch, '5-6.req'), whole.slice(20));
  await waitFor(
    () => fs.existsSync(path.join(ch, '5-6.ack')),
    () => fs.readdirSync(ch).join(' '),
  );
  t.same(
    seen.map((r) => r.id),
    ['9-9', '5-6'],
    'taken once it is whole',
  );
  await follower.close();
  t.ok(fs.existsSync(path.join(ch, 'closed')));
  const late = await call('megatest', ['-step', 'x', ':state', 'start', ':status', 'n/a'], dir);
  t.equal(late.code, 5);
  t.match(late.stderr, /the test's steps have ended; trellis no longer answers/);
});

t.test('a call whose follower died is told so instead of waiting on', async (t) => {
  const dir = t.testdir();
  const gone = spawnSync(process.execPath, ['-e', '0']);
  fs.mkdirSync(channelDir(dir), { recursive: true });
  fs.writeFileSync(path.join(channelDir(dir), 'owner'), `${os.hostname()} ${gone.pid}\n`);
  const r = await call('megatest', ['-step', 'x', ':state', 'start', ':status', 'n/a'], dir);
  t.equal(r.code, 7);
  t.match(
    r.stderr,
    new RegExp(`the trellis process that runs this test \\(pid ${gone.pid} on ${os.hostname()}\\) is gone; nothing was recorded`),
  );
});

t.test('outside a test the scripts say so (megatest) or run the CLI (trellis)', async (t) => {
  const dir = t.testdir();
  const r = await call('megatest', ['-step', 'x'], dir);
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
