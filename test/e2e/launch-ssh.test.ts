/**
 * The ssh launcher across two simulated hosts with real sshd (keys made here). h1 holds the run
 * area on its disk and runs the runner and the server; h2 sees the run area the way a farm host
 * sees NFS: through a network filesystem, sshfs mounted from h1 in h2's own mount namespace (with
 * its attribute caching and without POSIX locks). A run spreads over both; then h2's sshd is
 * stopped mid-run (every sshd process there, as a crashed or unplugged host would lose them): the
 * jobs h2 was running still finish and report, later jobs go to h1 with one warning, and every
 * result is recorded once.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { writeArea } from '../helpers/area.js';
import { dump, parseJson } from '../helpers/e2e.js';
import { readLines, TARGET, waitUntil } from '../helpers/run-e2e.js';
import { stopServersUnder } from '../helpers/servers.js';
import { addrOf, OnHost, trellisOn, upHosts } from '../helpers/sim-hosts.js';

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

/** Processes named `comm` among `root` and its descendants. */
function descendants(root: number, comm: string): number[] {
  const parent = new Map<number, number>();
  const name = new Map<number, string>();
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      name.set(Number(p), stat.slice(stat.indexOf('(') + 1, close));
      parent.set(Number(p), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  for (const pid of parent.keys()) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        if (name.get(pid) === comm) out.push(pid);
        break;
      }
    }
  }
  return out;
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

t.test('ssh over two hosts: spread by load, a host lost mid-run skipped, every result once', async (t) => {
  let dir = '';
  const pidOf = (file: string) => (fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8').trim()) : undefined);
  await upHosts(t, 2, async () => {
    if (dir === '') return;
    await stopServersUnder(path.join(dir, 'area'));
    for (const h of ['h1', 'h2']) {
      const pid = pidOf(path.join(dir, `sshd-${h}.pid`));
      if (pid !== undefined) killAll([...descendants(pid, 'sshd'), pid]);
    }
    const sshfs = pidOf(path.join(dir, 'sshfs.pid'));
    if (sshfs !== undefined) killAll([sshfs]);
  });
  dir = t.testdir();
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'id')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'hostkey')]);
  fs.copyFileSync(path.join(dir, 'id.pub'), path.join(dir, 'authorized_keys'));
  fs.mkdirSync('/run/sshd', { recursive: true });
  for (const h of ['h1', 'h2']) {
    fs.writeFileSync(
      path.join(dir, `sshd-${h}.conf`),
      [
        `ListenAddress ${addrOf(h)}`, 'Port 22', `HostKey ${dir}/hostkey`, `AuthorizedKeysFile ${dir}/authorized_keys`,
        'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no',
        'StrictModes no', `PidFile ${dir}/sshd-${h}.pid`, 'Subsystem sftp internal-sftp', 'LogLevel ERROR', 'MaxSessions 50', 'MaxStartups 50',
      ].join('\n') + '\n',
    );
  }
  const area = path.join(dir, 'area');
  const sshOpts = `-i ${dir}/id -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`;
  writeArea(area, {
    // No bind: the server listens on h1's addresses and advertises one, so h2 reaches it.
    config: `[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs 4\n\n[jobtools]\nlauncher ssh ${addrOf('h1')} ${addrOf('h2')}\n\n[ssh]\nargs ${sshOpts}\n\n[server]\nidle_timeout 5m\n`,
    tests: {
      spread: '[items]\nN 1 2 3 4 5 6 7 8\n\n[ezsteps]\nwhere  hostname > where; sleep 0.3\n',
      hold:
        '[items]\nN 1 2 3 4 5 6 7 8 9 10\n\n[ezsteps]\n' +
        'wait  hostname > "$MT_RUN_AREA_HOME/started-$N"; while [ ! -e "$MT_RUN_AREA_HOME/release" ]; do sleep 0.1; done; echo x >> "$MT_RUN_AREA_HOME/count-$N"\n',
    },
  });
  new OnHost(t, 'h1', ['/usr/sbin/sshd', '-D', '-e', '-f', path.join(dir, 'sshd-h1.conf')]);
  await waitUntil(() => pidOf(path.join(dir, 'sshd-h1.pid')) !== undefined, 'sshd on h1', 30_000);
  // h2: mount the area from h1 over sshfs in a mount namespace of its own, then serve ssh from there.
  const h2 = [
    'set -e',
    `sshfs -f -o IdentityFile=${dir}/id,StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,reconnect root@${addrOf('h1')}:${area} ${area} &`,
    `echo $! > ${dir}/sshfs.pid`,
    `for i in $(seq 300); do mountpoint -q ${area} && break; sleep 0.1; done`,
    `mountpoint -q ${area}`,
    `exec /usr/sbin/sshd -D -e -f ${dir}/sshd-h2.conf`,
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'h2.sh'), h2);
  const sshd2 = new OnHost(t, 'h2', ['unshare', '-m', '--propagation', 'private', 'sh', path.join(dir, 'h2.sh')]);
  await waitUntil(() => pidOf(path.join(dir, 'sshd-h2.pid')) !== undefined, `sshfs and sshd on h2\n${sshd2.stderr}`, 60_000);

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
  t.ok(items.every((r) => r.status === 'PASS' && r.launcher === 'ssh'), 'every item PASS through ssh');
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
  killAll([pidOf(path.join(dir, 'sshd-h2.pid'))!, ...descendants(pidOf(path.join(dir, 'sshd-h2.pid'))!, 'sshd')]);
  const lostAt = new Set(started());
  fs.writeFileSync(path.join(area, 'release'), '');
  const res = await run.done;
  t.equal(res.code, 0, 'the run still passes', { output: dump(res) });
  t.match(res.stderr, new RegExp(`ssh host ${addrOf('h2').replace(/\./g, '\\.')} did not answer \\(.*\\); its jobs go to the other hosts`));
  const rows = (await rowsOf('lost')).filter((r) => r.itempath !== '');
  t.equal(rows.length, 10);
  t.ok(rows.every((r) => `${r.state}/${r.status}` === 'COMPLETED/PASS'), 'every job recorded COMPLETED/PASS');
  for (const r of rows) {
    t.same(readLines(path.join(area, `count-${r.itempath}`)), ['x'], `${r.itempath} ran once`);
    if (!lostAt.has(`started-${r.itempath}`)) t.equal(r.host, 'h1', `${r.itempath}, started after h2 was lost, ran on h1`);
  }
  for (const f of onH2) t.equal(rows.find((r) => `started-${r.itempath}` === f)!.host, 'h2', `${f}: h2's exec finished its job after its ssh session was gone`);
});
