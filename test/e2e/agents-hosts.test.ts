/**
 * The agent pool across simulated hosts (../shared/netns/hosts.sh: network namespaces h1..h3, each
 * with its own hostname, sharing this filesystem as NFS clients would). h1 runs the area's server
 * and the runs; agent a2 on h2 offers linux,gpu and agent a3 on h3 linux,arm, two slots each.
 *
 * - placement: tests that need gpu run on h2, arm on h3; `--on a3` puts a run on a3; a test no
 *   agent offers (sparc) is reported at once; `show` and `list tests --json` name the agent;
 * - kill -9 of a3 mid-run: after the deadtime its jobs go back to the queue, a2 runs them, and the
 *   a3 started again on h3 ends the steps its predecessor left;
 * - h3's link taken down and brought back: the pool gives a3's jobs to a2, a3 stops its own copy,
 *   and comes back as a new session: every job ends once;
 * - drain: `trellis agent stop a2` and SIGTERM; a second agent under a live name is refused.
 *
 * Steps log `start|end AGENT HOST TEST/ITEM` to one file and wait for a release file, so the test
 * waits on conditions, never on time. Needs root, iproute2 and util-linux (CI has them).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { dump, parseJson } from '../helpers/e2e.js';
import { readLines, TARGET, waitUntil, type TestRow } from '../helpers/run-e2e.js';
import { isPidAlive, stopServersUnder } from '../helpers/servers.js';
import { writeArea } from '../helpers/area.js';
import { hostsSh, trellisOn, upHosts, type OnHost } from '../helpers/sim-hosts.js';

type Host = 'h1' | 'h2' | 'h3';
const DEADTIME = 15;
const CONFIG = `[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs 8\ndeadtime ${DEADTIME}\n\n[server]\nidle_timeout 5m\n`;

/** A test whose items log their start and end and wait for `release-<name>` (when `hold`). */
function loggingTest(tags: string, items: string, hold?: string): string {
  const wait = hold ? `while [ ! -e "$MT_RUN_AREA_HOME/release-${hold}" ]; do sleep 0.1; done; ` : '';
  const line = (what: string) => `echo "${what} $TRELLIS_AGENT $(hostname) $MT_TEST_NAME/$N" >> "$MT_RUN_AREA_HOME/log"`;
  return [
    tags ? `[requirements]\ntags ${tags}\n` : '',
    `[items]\nN ${items}\n`,
    `[ezsteps]\nwork ${line('start')}; ${wait}${line('end')}\n`,
  ].join('\n');
}

/** A row of `list tests --json`, with the agent that ran it. */
type Row = TestRow & { agent?: string | null };

interface HostRow {
  name: string;
  host: string;
  pid: number;
  status: string;
  slots: number;
  used: number;
  tags: string[];
  running: Array<{ test: string }>;
}

t.test('agents on two hosts: placement, kill -9, a lost link, drain', async (t) => {
  let area = '';
  await upHosts(t, 3, () => (area !== '' ? stopServersUnder(area) : undefined));
  area = writeArea(t.testdir(), {
    config: CONFIG,
    tests: {
      gpu: loggingTest('gpu', '1 2'),
      arm: loggingTest('arm', '1 2'),
      any: loggingTest('', '1 2 3 4'),
      nowhere: loggingTest('sparc', '1'),
      hold: loggingTest('linux', '1 2 3 4', 'kill'),
      net: loggingTest('linux', '1 2 3 4', 'net'),
    },
  });
  const log = path.join(area, 'log');
  const on = (host: Host, ...args: string[]) => trellisOn(t, host, [...args, '--area', area]);
  const json = async <T>(host: Host, ...args: string[]): Promise<T> => {
    const res = await on(host, ...args, '--json').done;
    if (res.code !== 0) throw new Error(`${host}: trellis ${args.join(' ')} --json failed\n${dump(res)}`);
    return parseJson<T>(res);
  };
  const rows = (runname: string) => json<Row[]>('h1', 'list', 'tests', '-t', TARGET, '-r', runname);
  const hosts = () => json<HostRow[]>('h1', 'hosts');
  const agent = (host: Host, name: string, tags: string) => on(host, 'agent', '--name', name, '--tags', tags, '--slots', '2');
  const ends = (label: string) => readLines(log).filter((l) => l.startsWith('end ') && l.endsWith(` ${label}`));
  const waitFor = async (pred: () => Promise<boolean> | boolean, what: string, proc?: OnHost) => {
    const deadline = Date.now() + 120_000;
    while (!(await pred())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${proc ? `\n${proc.stdout}\n${proc.stderr}` : ''}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const started = await on('h1', 'server', 'start').done;
  t.equal(started.code, 0, 'server on h1', { output: dump(started) });
  const a2 = agent('h2', 'a2', 'linux,gpu');
  let a3 = agent('h3', 'a3', 'linux,arm');
  await waitFor(async () => (await hosts()).filter((h) => h.status === 'idle').length === 2, 'both agents registered');
  t.match(
    (await hosts()).map((h) => [h.name, h.host, h.status, h.slots, h.tags]),
    [
      ['a2', 'h2', 'idle', 2, ['linux', 'gpu']],
      ['a3', 'h3', 'idle', 2, ['linux', 'arm']],
    ],
    'trellis hosts lists both agents, idle',
  );

  const busy = await on('h2', 'agent', '--name', 'a2').done;
  t.equal(busy.code, 5, 'a second agent under a live name is refused', { output: dump(busy) });
  t.match(busy.stderr, /^trellis: agent a2 is already running as pid \d+ on host h2/);
  t.equal(busy.stderr.trim().split('\n').length, 1, 'in one line');

  // ---- placement ----
  const place = await on('h1', 'run', '-t', TARGET, '-r', 'place', '--launcher', 'agents', '-p', 'gpu,arm,any,nowhere').done;
  t.equal(place.code, 1, 'the run fails: one test no agent can take', { output: dump(place) });
  t.match(place.stdout, /PASS 8\b/, 'the other 8 items pass');
  const placed = await rows('place');
  const by = (test: string) => placed.filter((r) => r.testname === test && r.itempath !== '');
  t.same(
    by('gpu').map((r) => [r.itempath, r.status, r.host, r.agent]),
    [
      ['1', 'PASS', 'h2', 'a2'],
      ['2', 'PASS', 'h2', 'a2'],
    ],
    'gpu items ran on h2 by a2',
  );
  t.same(
    by('arm').map((r) => [r.itempath, r.status, r.host, r.agent]),
    [
      ['1', 'PASS', 'h3', 'a3'],
      ['2', 'PASS', 'h3', 'a3'],
    ],
    'arm items ran on h3 by a3',
  );
  t.ok(
    by('any').every((r) => r.status === 'PASS' && ['a2', 'a3'].includes(r.agent ?? '')),
    'items with no requirement ran on either',
  );
  t.match(
    readLines(log).filter((l) => l.includes(' gpu/')),
    [/^start a2 h2 gpu\/\d$/, /^(start|end) a2 h2 gpu\//],
    'TRELLIS_AGENT and hostname seen by the steps',
  );
  const nowhere = by('nowhere')[0];
  t.match(nowhere, { state: 'INCOMPLETE', status: 'DEAD' });
  t.match(nowhere?.comment, /no live agent can take it \(it needs tags sparc; live agents: a2 \(linux,gpu\), a3 \(linux,arm\)\)/);
  const shown = await on('h1', 'show', '-t', TARGET, '-r', 'place', 'gpu/1').done;
  t.match(shown.stdout, /host\s+h2 \(pid \d+\), agent a2/, 'show names the agent');

  const onA3 = await on('h1', 'run', '-t', TARGET, '-r', 'on', '--on', 'a3', '-p', 'any').done;
  t.equal(onA3.code, 0, '--on a3', { output: dump(onA3) });
  t.ok(
    (await rows('on')).filter((r) => r.itempath !== '').every((r) => r.agent === 'a3' && r.host === 'h3'),
    '--on a3 ran every item on a3',
  );

  // ---- kill -9 of a3 mid-run ----
  const holdRun = on('h1', 'run', '-t', TARGET, '-r', 'kill', '--launcher', 'agents', '-p', 'hold');
  await waitFor(async () => (await hosts()).every((h) => h.used === 2), 'both agents running two hold items', holdRun);
  const a3pid = (await hosts()).find((h) => h.name === 'a3')!.pid;
  const onA3Items = (await rows('kill')).filter((r) => r.agent === 'a3').map((r) => `hold/${r.itempath}`);
  t.equal(onA3Items.length, 2, 'a3 runs two items');
  process.kill(a3pid, 'SIGKILL');
  await waitUntil(() => !isPidAlive(a3pid), 'a3 gone');
  // After the deadtime, a3's jobs go back to the queue (and a2, busy until the release, waits).
  await waitFor(
    async () => (await rows('kill')).filter((r) => onA3Items.includes(`hold/${r.itempath}`) && r.state === 'LAUNCHED').length === 2,
    "a3's items queued again",
    holdRun,
  );
  const requeued = (await rows('kill')).filter((r) => onA3Items.includes(`hold/${r.itempath}`));
  t.ok(
    requeued.every((r) => /agent a3 on host h3 sent no heartbeat since .*; queued again for another agent/.test(r.comment)),
    'their comment says why',
    { requeued },
  );
  // systemd (or a crontab line) starts a3 again: it ends what its predecessor left running.
  a3 = agent('h3', 'a3', 'linux,arm');
  await waitFor(() => /ended 2 step\(s\) an earlier agent of this name left running/.test(a3.stdout), 'the new a3 ending the orphans', a3);
  fs.writeFileSync(path.join(area, 'release-kill'), '');
  const killRes = await holdRun.done;
  t.equal(killRes.code, 0, 'the run passes', { output: dump(killRes) });
  const killRows = (await rows('kill')).filter((r) => r.itempath !== '');
  t.same(
    killRows.map((r) => r.status),
    ['PASS', 'PASS', 'PASS', 'PASS'],
  );
  t.ok(
    killRows.filter((r) => onA3Items.includes(`hold/${r.itempath}`)).every((r) => r.agent === 'a2'),
    "a3's items ran again on a2, not on the a3 they died with",
  );
  for (const item of ['1', '2', '3', '4']) t.equal(ends(`hold/${item}`).length, 1, `hold/${item} ended once`, { log: readLines(log) });

  // ---- h3's link down and up ----
  await waitFor(async () => (await hosts()).find((h) => h.name === 'a3')?.status === 'idle', 'a3 idle again');
  const netRun = on('h1', 'run', '-t', TARGET, '-r', 'net', '--launcher', 'agents', '-p', 'net');
  await waitFor(async () => (await hosts()).every((h) => h.used === 2), 'both agents running two net items', netRun);
  const onA3Net = (await rows('net')).filter((r) => r.agent === 'a3').map((r) => `net/${r.itempath}`);
  t.equal(onA3Net.length, 2);
  hostsSh('exec', 'h3', 'true'); // the host is still there
  const ipSw = (state: string) => fsExec(['ip', '-n', 'trl-sw', 'link', 'set', 'trl-h3-s', state]);
  ipSw('down');
  await waitFor(() => /stopping its 2 job\(s\), which go to another agent/.test(a3.stdout), 'a3 stopping its own copies', a3);
  await waitFor(
    async () => (await rows('net')).filter((r) => onA3Net.includes(`net/${r.itempath}`) && r.state === 'LAUNCHED').length === 2,
    "a3's net items queued again",
    netRun,
  );
  ipSw('up');
  await waitFor(async () => (await hosts()).find((h) => h.name === 'a3')?.status === 'idle', 'a3 back, as a new session', a3);
  fs.writeFileSync(path.join(area, 'release-net'), '');
  const netRes = await netRun.done;
  t.equal(netRes.code, 0, 'the run passes', { output: dump(netRes) });
  for (const item of ['1', '2', '3', '4']) t.equal(ends(`net/${item}`).length, 1, `net/${item} ended once`, { log: readLines(log) });
  t.ok(
    (await rows('net')).filter((r) => onA3Net.includes(`net/${r.itempath}`)).every((r) => r.agent === 'a2' && r.status === 'PASS'),
    "a3's items ran on a2",
  );

  // ---- drain ----
  const stop = await on('h1', 'agent', 'stop', 'a2').done;
  t.equal(stop.code, 0, 'agent stop a2', { output: dump(stop) });
  t.match(stop.stdout, /agent a2 on h2 will finish the jobs it runs, then leave/);
  const a2end = await a2.done;
  t.equal(a2end.code, 0, 'a2 drained and left', { output: dump(a2end) });
  t.match(a2end.stdout, /agent a2 left the pool/);
  a3.child.kill('SIGTERM');
  const a3end = await a3.done;
  t.equal(a3end.code, 0, 'a3 left on SIGTERM', { output: dump(a3end) });
  t.match(
    (await hosts()).map((h) => [h.name, h.status]),
    [
      ['a2', 'offline'],
      ['a3', 'offline'],
    ],
  );
  const gone = await on('h1', 'agent', 'stop', 'nosuch').done;
  t.equal(gone.code, 4, 'stopping an agent that does not exist', { output: dump(gone) });
  t.match(gone.stderr, /^trellis: no agent named nosuch in this run area/);
});

function fsExec(argv: string[]): void {
  execFileSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
}
