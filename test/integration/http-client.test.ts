/**
 * The client's one request (client/http.ts) is bounded as a whole: a listener that answers a
 * byte at a time never lets the socket fall silent, so a timeout on silence alone would wait
 * forever (a planted packet may name any listener; `trellis server ping` hung on one).
 */
import net from 'node:net';
import t, { type Test } from 'tap';
import { requestJson, TransportError } from '../../src/client/http.js';

/** A listener that answers 200 with a long body, one byte every 50 ms; counts the bytes sent. */
async function trickler(t: Test): Promise<{ port: number; sent: () => number }> {
  let sent = 0;
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n');
      const timer = setInterval(() => {
        if (socket.destroyed) return clearInterval(timer);
        socket.write(' ');
        sent++;
      }, 50);
      timers.add(timer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    for (const timer of timers) clearInterval(timer);
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return { port: (server.address() as net.AddressInfo).port, sent: () => sent };
}

t.test('a request to a listener that trickles its answer ends at its timeout', async (t) => {
  const { port, sent } = await trickler(t);
  const request = requestJson({ address: '127.0.0.1', port, token: 'x' }, 'GET', '/v1/health', undefined, 300).then(
    () => 'answered',
    (err: unknown) => err,
  );
  // Before the fix it never ended: give up once the listener has kept it busy 100 times longer
  // than the timeout (a condition on the listener's progress, not on how fast this machine is).
  let watch: NodeJS.Timeout | undefined;
  const stuck = new Promise<string>((resolve) => {
    watch = setInterval(() => {
      if (sent() * 50 > 300 * 100) resolve(`still waiting after the listener sent ${sent()} bytes`);
    }, 100);
  });
  const outcome = await Promise.race([request, stuck]);
  clearInterval(watch);
  t.type(outcome, TransportError, `the request failed instead of waiting: ${String(outcome)}`);
  t.match((outcome as Error).message, /no answer within 300 ms/);
  t.equal((outcome as TransportError).refused, false, 'not taken for a server that is gone');
});

t.test('an answer that comes in time is unaffected, and its timer does not outlive it', async (t) => {
  const server = net.createServer((socket) => {
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  const port = (server.address() as net.AddressInfo).port;
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const answer = await requestJson({ address: '127.0.0.1', port, token: 'x' }, 'GET', '/v1/health', undefined, 60_000);
  t.same(answer, { status: 200, body: { ok: true } });
  // A timer left running would keep a finished CLI process alive for the whole timeout.
  t.equal(timers(), before, 'no timer left behind');
});
