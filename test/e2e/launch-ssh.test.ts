/**
 * The ssh launcher across two simulated hosts with real sshd (keys made here). h1 holds the run
 * area on its disk and runs the runner and the server; h2 sees the run area the way a farm host
 * sees NFS: through a network filesystem, sshfs mounted from h1 in h2's own mount namespace (with
 * its attribute caching and without POSIX locks). A run spreads over both; then h2's sshd is
 * stopped mid-run (every sshd process there, as a crashed or unplugged host would lose them): the
 * jobs h2 was running still finish and report, later jobs go to h1 with one warning, and every
 * result is recorded once.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { writeArea } from '../helpers/area.js';
import { dump, parseJson } from '../helpers/e2e.js';
import { readLines, TARGET, waitUntil } from '../helpers/run-e2e.js';
import { stopServersUnder } from '../helpers/servers.js';
import { startSshHosts } from '../helpers/ssh-hosts.js';
import { addrOf, trellisOn } from '../helpers/sim-hosts.js';

t.setTimeout(480_000);

interface Row {
  testname: string;
  itempath: string;
  state: string;
  status: string;
  host: string;
  launcher: string;
  jobId: string;
}

t.test('ssh over two hosts: spread by load, a host lost mid-run skipped, every result once', async (t) => {
  const hosts = await startSshHosts(
    t,
    () => t.testdir(),
    (area) => stopServersUnder(area),
  );
  const area = hosts.area;
  writeArea(area, {
    // No bind: the server listens on h1's addresses and advertises one, so h2 reaches it.
    config: `[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs 4\n\n[jobtools]\nlauncher ssh ${addrOf('h1')} ${addrOf('h2')}\n\n[ssh]\nargs ${hosts.sshArgs}\n\n[server]\nidle_timeout 5m\n`,
    tests: {
      spread: '[items]\nN 1 2 3 4 5 6 7 8\n\n[ezsteps]\nwhere  hostname > where; sleep 0.3\n',
      hold:
        '[items]\nN 1 2 3 4 5 6 7 8 9 10\n\n[ezsteps]\n' +
        'wait  hostname > "$MT_RUN_AREA_HOME/started-$N"; while [ ! -e "$MT_RUN_AREA_HOME/release" ]; do sleep 0.1; done; echo x >> "$MT_RUN_AREA_HOME/count-$N"\n',
    },
  });

  const rowsOf = async (runname: string): Promise<Row[]> => {
    const res = await trellisOn(t, 'h1', ['list', 'tests', '--area', area, '-t', TARGET, '-r', runname, '--json']).done;
    if (res.code !== 0) throw new Error(`list tests failed\n${dump(res)}`);
    return parseJson<Row[]>(res);
  };

  // 1. A run spread over both hosts, by load.
  const spread = await trellisOn(t, 'h1', ['run', '--area', area, '-t', TARGET, '-r', 'spread', '-p', 'spread', '-j', '4']).done;
  t.equal(spread.code, 0, 'the run passes', { output: dump(spread) });
  const items = (await rowsOf('spread')).filter((r) => r.itempath !== '');
  t.equal(items.length, 8);
  t.ok(
    items.every((r) => r.status === 'PASS' && r.launcher === 'ssh'),
    'every item PASS through ssh',
  );
  t.same([...new Set(items.map((r) => r.host))].sort(), ['h1', 'h2'], 'both hosts ran items');
  for (const r of items) {
    t.equal(r.jobId, addrOf(r.host), `${r.itempath}: the ssh host it went to is recorded`);
    const where = fs.readFileSync(path.join(area, 'runs', 'linux', 'x86_64', 'spread', 'spread', r.itempath, 'where'), 'utf8').trim();
    t.equal(where, r.host, `${r.itempath} ran on ${r.host}, as its row says`);
  }

  // 2. h2's sshd lost mid-run.
  const run = trellisOn(t, 'h1', ['run', '--area', area, '-t', TARGET, '-r', 'lost', '-p', 'hold', '-j', '4']);
  const started = () => fs.readdirSync(area).filter((f) => f.startsWith('started-'));
  await waitUntil(() => started().length >= 4, `4 jobs running\n${run.stdout}\n${run.stderr}`, 120_000);
  const onH2 = started().filter((f) => fs.readFileSync(path.join(area, f), 'utf8').trim() === 'h2');
  t.ok(onH2.length > 0, `h2 runs some of them (${onH2.join(', ')})`);
  hosts.loseHost('h2');
  const lostAt = new Set(started());
  fs.writeFileSync(path.join(area, 'release'), '');
  const res = await run.done;
  t.equal(res.code, 0, 'the run still passes', { output: dump(res) });
  const h2 = addrOf('h2').replace(/\./g, '\\.');
  t.match(
    res.stderr,
    new RegExp(`the ssh session to ${h2} ended \\(.*\\); its jobs finish there, new ones go to the other hosts`),
    'one warning',
  );
  t.equal(res.stderr.split('\n').filter((l) => l.includes('ssh')).length, 1, 'and only that one');
  const rows = (await rowsOf('lost')).filter((r) => r.itempath !== '');
  t.equal(rows.length, 10);
  t.ok(
    rows.every((r) => `${r.state}/${r.status}` === 'COMPLETED/PASS'),
    'every job recorded COMPLETED/PASS',
  );
  for (const r of rows) {
    t.same(readLines(path.join(area, `count-${r.itempath}`)), ['x'], `${r.itempath} ran once`);
    if (!lostAt.has(`started-${r.itempath}`)) t.equal(r.host, 'h1', `${r.itempath}, started after h2 was lost, ran on h1`);
  }
  for (const f of onH2)
    t.equal(rows.find((r) => `started-${r.itempath}` === f)!.host, 'h2', `${f}: h2's exec finished its job after its ssh session was gone`);

  // 3. A host that does not answer from the start (h2's sshd is gone): skipped with one warning.
  const skip = await trellisOn(t, 'h1', [
    'run',
    '--area',
    area,
    '-t',
    TARGET,
    '-r',
    'skip',
    '-p',
    'spread',
    '-j',
    '4',
    '--launcher',
    `ssh ${addrOf('h2')} ${addrOf('h1')}`,
  ]).done;
  t.equal(skip.code, 0, 'the run passes on h1 alone', { output: dump(skip) });
  t.match(skip.stderr, new RegExp(`ssh host ${h2} did not answer \\(.+\\); its jobs go to the other hosts`));
  t.same([...new Set((await rowsOf('skip')).filter((r) => r.itempath !== '').map((r) => r.host))], ['h1'], 'every item ran on h1');
});
