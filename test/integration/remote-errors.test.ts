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

t.test('a server without listRunColumns and showTest (an older Trellis left running): the calls it has', async (t) => {
  const runs = [
    { id: 2, target: 'linux', keys: { OS: 'linux' }, runname: 'b', state: 'done', status: 'PASS', counts: { PASS: 1 }, total: 1 },
    { id: 1, target: 'linux', keys: { OS: 'linux' }, runname: 'a', state: 'locked', status: 'FAIL', counts: { FAIL: 1 }, total: 1 },
  ].map((r) => ({ ...r, created: 10, started: null, ended: null, updated: 11, lockedBy: null, lockedAt: null, params: {} }));
  const closed = { ...runs[1]!, closedAt: 12 };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/v1/store/listRuns')
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: [runs[0], closed] }));
      // no such run: no result
      else if (req.url === '/v1/store/findRun') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else {
        const error = { code: 'BAD_REQUEST', message: `no such endpoint: POST ${req.url}`, hint: 'see docs/http-api.md' };
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const store = storeAt((server.address() as AddressInfo).port);
  const liveness = { now: 100, deadtime: 60 };
  t.equal(
    await store.showTest({ target: 'linux', runname: 'nosuch', testname: 't', itempath: '', items: false }, liveness),
    undefined,
    'showTest through the calls it has: no such run',
  );
  const columns = await store.listRunColumns();
  t.same(columns, {
    id: [2, 1],
    target: ['linux', 'linux'],
    runname: ['b', 'a'],
    state: ['done', 'locked'],
    status: ['PASS', 'FAIL'],
    total: [1, 1],
    created: [10, 10],
    updated: [11, 11],
    closedAt: [null, 12],
    counts: [{ PASS: 1 }, { FAIL: 1 }],
  });
});
