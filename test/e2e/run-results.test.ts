/**
 * A run fed from outside its area, as the daily build does it (issue 18): `run-open`, results
 * appended by `trellis result` (a script's own row, one with its log and a value, a test of the
 * area, the same result twice), the API's appendResult with and without the token, `close`, a
 * result refused by the closed run and one forced in, and what list runs, show and JUnit say.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import t from 'tap';
import { readPackets } from '../../src/client/packets.js';
import { runAreaPaths } from '../../src/config/paths.js';
import { ExitCode } from '../../src/util/errors.js';
import { makeArea } from '../helpers/area.js';
import { assertUserError, dump, parseJson } from '../helpers/e2e.js';
import { listTests, statesOf, TARGET, trellis } from '../helpers/run-e2e.js';

const D = ['-t', TARGET, '-r', 'daily'];

/** POSTs JSON to the run area's server. */
function post(port: number, pathname: string, body: unknown, token: string | undefined) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: pathname, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

t.test('the daily build: open, append from scripts and over HTTP, close', async (t) => {
  const area = makeArea(t, { tests: { unit: '[ezsteps]\nx true\n' } });
  const cli = (...args: string[]) => trellis(t, area, args);

  assertUserError(
    t,
    await cli('result', ...D, 'lint', 'PASS'),
    ExitCode.notFound,
    /no run linux\/x86_64\/daily/,
    /trellis run-open -t linux\/x86_64 -r daily/,
  );
  const open = await cli('run-open', ...D);
  t.equal(open.code, 0, dump(open));
  t.match(
    open.stdout,
    /Opened linux\/x86_64\/daily: nothing is launched; append results with `trellis result -t linux\/x86_64 -r daily NAME STATUS`/,
  );
  t.match((await cli('run-open', ...D)).stdout, /linux\/x86_64\/daily exists \(new\)/, 'opening it again leaves it');

  const lint = ['result', ...D, 'lint', 'PASS', '--start', '1795400000', '--end', '1795400100', '--host', 'ci1', '-m', 'clean'];
  const first = await cli(...lint);
  t.equal(first.code, 0, dump(first));
  t.match(first.stdout, /lint in linux\/x86_64\/daily: COMPLETED PASS \(external\)/);
  const logFile = path.join(area, 'size.txt');
  fs.writeFileSync(logFile, 'arm: 10240 bytes\nlimit 8192\n');
  const size = await cli('result', ...D, 'size/arm', 'FAIL', '--log', logFile, '--value', 'bytes=10240', '--value', 'limit=8192');
  t.equal(size.code, 0, dump(size));
  const unit = await cli('result', ...D, 'unit', 'warn');
  t.match(unit.stdout, /unit in linux\/x86_64\/daily: COMPLETED WARN \(a test of the area\)/, 'any case');

  // Sent again: the same result, no new row and nothing new in the run's log.
  const logBefore = parseJson<unknown[]>(await cli('log', ...D, '--json')).length;
  t.equal((await cli(...lint)).code, 0);
  t.equal(parseJson<unknown[]>(await cli('log', ...D, '--json')).length, logBefore, 'no new events');

  assertUserError(
    t,
    await cli('result', ...D, 'lint', 'BOGUS'),
    ExitCode.usage,
    /status 'BOGUS' does not exist; use one of n\/a, PASS, WARN/,
  );
  assertUserError(
    t,
    await cli('result', ...D, 'x', 'PASS', '--start', '1795400100', '--end', '1795400000'),
    ExitCode.usage,
    /--end 1795400000 is before --start/,
  );
  assertUserError(t, await cli('result', ...D, 'x', 'PASS', '--value', 'novalue'), ExitCode.usage, /--value 'novalue' is not NAME=VALUE/);
  assertUserError(t, await cli('result', ...D, '../escape', 'PASS'), ExitCode.usage, /\.\./);
  assertUserError(
    t,
    await cli('result', ...D, 'x', 'PASS', '--log', path.join(area, 'nope')),
    ExitCode.usage,
    /--log .*nope: cannot read it \(ENOENT\)/,
  );

  // Over HTTP, with the area token; without it, 401 and nothing written.
  const paths = runAreaPaths(path.join(area, 'runs'));
  const [pkt] = readPackets(paths.metaDir, () => undefined);
  t.ok(pkt, 'a server is up');
  const token = fs.readFileSync(paths.tokenFile, 'utf8').trim();
  const runId = parseJson<Array<{ id: number; runname: string }>>(await cli('list', 'runs', '--json')).find(
    (r) => r.runname === 'daily',
  )!.id;
  const result = {
    testname: 'docs',
    itempath: '',
    state: 'COMPLETED',
    status: 'PASS',
    start: null,
    end: null,
    host: 'ci2',
    comment: '',
    values: [],
  };
  const denied = await post(pkt!.packet.port, '/v1/store/appendResult', { runId, result }, undefined);
  t.equal(denied.status, 401);
  const sent = await post(pkt!.packet.port, '/v1/store/appendResult', { runId, result }, token);
  t.equal(sent.status, 200, sent.body);
  t.notMatch(sent.body, new RegExp(token), 'the token is not in the answer');
  const leaving = await post(pkt!.packet.port, '/v1/store/appendResult', { runId, result: { ...result, testname: '../../etc' } }, token);
  t.equal(leaving.status, 400, 'a name that would leave the run area is refused');

  t.same(statesOf(await listTests(t, area, 'daily')), {
    docs: 'COMPLETED/PASS',
    lint: 'COMPLETED/PASS',
    size: 'COMPLETED/FAIL',
    'size/arm': 'COMPLETED/FAIL',
    unit: 'COMPLETED/WARN',
  });
  const show = await cli('show', ...D, 'size/arm');
  t.match(show.stdout, /appended from outside the area \(trellis result\)/);
  t.match(show.stdout, /bytes\s+10240/);
  const json = parseJson<{ external: boolean; steps: Array<{ name: string; logfile: string }> }>(
    await cli('show', ...D, 'size/arm', '--json'),
  );
  t.equal(json.external, true);
  t.equal(fs.readFileSync(json.steps[0]!.logfile, 'utf8'), 'arm: 10240 bytes\nlimit 8192\n', 'its log, kept in the run area');
  t.ok(json.steps[0]!.logfile.startsWith(path.join(area, 'runs')), 'inside the run area');

  // Closed: appends refused in one line; forced, recorded.
  const closed = await cli('close', ...D);
  t.equal(closed.code, 0, dump(closed));
  t.match(closed.stdout, /Closed linux\/x86_64\/daily at \d{4}-/);
  assertUserError(
    t,
    await cli('result', ...D, 'late', 'PASS'),
    ExitCode.conflict,
    /run linux\/x86_64\/daily is closed \(by \S+ at /,
    /a closed run takes no more results/,
  );
  t.equal((await cli('result', ...D, 'late', 'PASS', '--force')).code, 0, 'forced');
  const runs = parseJson<Array<{ runname: string; state: string; created: string; updated: string; closed: string | null }>>(
    await cli('list', 'runs', '--json'),
  );
  const daily = runs.find((r) => r.runname === 'daily')!;
  t.equal(daily.state, 'locked');
  t.ok(daily.created && daily.updated && daily.closed, `created, changed and closed times: ${JSON.stringify(daily)}`);
  t.match((await cli('list', 'runs')).stdout, /CREATED\s+CHANGED\s+CLOSED/);
  t.match((await cli('log', ...D)).stdout, /closed \(was /);
  t.match((await cli('log', ...D)).stdout, /forced/);
  const junit = await cli('report', 'junit', ...D);
  t.match(junit.stdout, /<testcase [^>]*name="lint"/, 'external rows are cases of the report');
  t.equal((await cli('unlock', ...D)).code, 0);
  t.equal(
    parseJson<Array<{ runname: string; closed: string | null }>>(await cli('list', 'runs', '--json')).find((r) => r.runname === 'daily')!
      .closed,
    null,
    'unlocking opens it again',
  );
});
