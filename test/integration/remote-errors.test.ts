/**
 * What the remote store says when what answers on the server's address is not a Trellis server
 * that worked: a proxy's 502 page (not JSON) and an internal error become SERVER_ERROR, a code
 * of the catalogue comes back as itself, a 401 is UNAUTHORIZED. Real HTTP servers on port 0.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { storeOnPort } from '../helpers/remote.js';

/** A plain HTTP server that answers every request with `status` and `body`; closed at teardown. */
async function answering(t: Test, status: number, body: string): Promise<number> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status, { 'content-type': 'text/plain' }).end(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
}

const storeAt = (port: number) => storeOnPort(port, { token: 't' });

t.test('a 502 page from something else on the port is SERVER_ERROR', async (t) => {
  const port = await answering(t, 502, '<html>Bad Gateway</html>');
  await t.rejects(storeAt(port).listRuns(), { code: 'SERVER_ERROR', message: /not JSON: <html>Bad Gateway/ });
});

t.test("a server's internal error is SERVER_ERROR; a catalogue code comes back as itself", async (t) => {
  const internal = await answering(t, 500, JSON.stringify({ error: { code: 'INTERNAL', message: 'boom' } }));
  await t.rejects(storeAt(internal).listRuns(), { code: 'SERVER_ERROR', message: /the server failed listRuns: boom/ });
  const locked = await answering(t, 409, JSON.stringify({ error: { code: 'RUN_LOCKED', message: 'locked', hint: 'use --force' } }));
  await t.rejects(storeAt(locked).listRuns(), { code: 'RUN_LOCKED', message: 'locked', hint: 'use --force' });
  const refused = await answering(t, 401, JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'wrong token' } }));
  await t.rejects(storeAt(refused).listRuns(), { code: 'UNAUTHORIZED' });
});
