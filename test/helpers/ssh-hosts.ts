/**
 * Two simulated hosts serving ssh (real sshd, keys made here), for the ssh launcher's test and
 * bench: h1 has the run area on its disk; h2 sees `area` through sshfs mounted from h1 in a mount
 * namespace of its own (NFS-like: attribute caching, no POSIX locks), and serves ssh from there, so
 * its sessions see the mount. Everything stops at teardown.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitUntil } from './run-e2e.js';
import { addrOf, OnHost, upHosts } from './sim-hosts.js';

interface Teardownable {
  teardown(fn: () => void | Promise<void>): void;
}

export interface SshHosts {
  /** the run area's area folder (on h1's disk; h2 sees it over sshfs) */
  area: string;
  /** ssh options for the area's `[ssh] args` */
  sshArgs: string;
  /** kills every sshd process of a host (a host lost: its listener and its connections) */
  loseHost(host: 'h1' | 'h2'): void;
}

/** Processes named `comm` among `root`'s descendants. */
export function descendants(root: number, comm: string): number[] {
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
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        if (name.get(pid) === comm) out.push(pid);
        break;
      }
    }
  }
  return out;
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/**
 * Brings up h1 and h2 with sshd, h2 seeing `<base>/area` over sshfs; `<base>/hosts` holds keys,
 * configs and pid files. `makeBase` is called once the teardown is registered (pass tap's
 * `() => t.testdir()`: a folder made after the teardown is removed after it). `beforeDown(area)`
 * runs at teardown before the hosts go (stop the area's servers there).
 */
export async function startSshHosts(
  t: Teardownable,
  makeBase: () => string,
  beforeDown: (area: string) => unknown = () => undefined,
): Promise<SshHosts> {
  let dir = '';
  let area = '';
  const pidOf = (file: string) => (fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8').trim()) : undefined);
  const sshdPid = (h: string) => pidOf(path.join(dir, `sshd-${h}.pid`));
  await upHosts(t, 2, async () => {
    if (dir === '') return;
    await beforeDown(area);
    for (const h of ['h1', 'h2']) {
      const pid = sshdPid(h);
      if (pid !== undefined) killAll([...descendants(pid, 'sshd'), pid]);
    }
    const sshfs = pidOf(path.join(dir, 'sshfs.pid'));
    if (sshfs !== undefined) killAll([sshfs]);
  });
  const base = makeBase();
  dir = path.join(base, 'hosts');
  area = path.join(base, 'area');
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'id')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'hostkey')]);
  fs.copyFileSync(path.join(dir, 'id.pub'), path.join(dir, 'authorized_keys'));
  fs.mkdirSync('/run/sshd', { recursive: true });
  for (const h of ['h1', 'h2']) {
    fs.writeFileSync(
      path.join(dir, `sshd-${h}.conf`),
      `${[
        `ListenAddress ${addrOf(h)}`,
        'Port 22',
        `HostKey ${dir}/hostkey`,
        `AuthorizedKeysFile ${dir}/authorized_keys`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        `PidFile ${dir}/sshd-${h}.pid`,
        'Subsystem sftp internal-sftp',
        'LogLevel ERROR',
        'MaxSessions 100',
        'MaxStartups 100',
      ].join('\n')}\n`,
    );
  }
  new OnHost(t, 'h1', ['/usr/sbin/sshd', '-D', '-e', '-f', path.join(dir, 'sshd-h1.conf')]);
  await waitUntil(() => sshdPid('h1') !== undefined, 'sshd on h1', 60_000);
  fs.mkdirSync(area, { recursive: true });
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
  await waitUntil(() => sshdPid('h2') !== undefined, `sshfs and sshd on h2 (${sshd2.stderr})`, 60_000);
  return {
    area,
    sshArgs: `-i ${dir}/id -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`,
    loseHost(host) {
      const pid = sshdPid(host);
      if (pid !== undefined) killAll([pid, ...descendants(pid, 'sshd')]);
    },
  };
}
