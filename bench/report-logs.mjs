// `trellis report --logs all` reads every step's log excerpt. This compares reading 2,000 logs one
// after another (as before) with readLogExcerpts (one by one while reads are fast, 16 at a time
// once they are slow), on the local disk and, when this runs as root with sshd and sshfs present,
// on the same folder mounted over sshfs from a private sshd on 127.0.0.1: a network filesystem,
// where each open and read waits for a round trip, as on the NFS that run areas live on.
// Figures: ratio of readLogExcerpts to one-by-one on each (local: ≤ 1.10, no cost beyond the noise of a 40 ms figure; sshfs: lower
// is the gain). Median of 5 of each, alternated.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { figure, header, makeTempDir, median, requireBuild, ROOT, verdict } from './common.mjs';

const N = Number(process.env.BENCH_LOGS ?? 2000);
requireBuild();
const { readLogExcerpt, readLogExcerpts } = await import(pathToFileURL(path.join(ROOT, 'dist/src/util/log-excerpt.js')).href);
const tmp = makeTempDir('report-logs');
const logs = path.join(tmp, 'logs');
mkdirSync(logs);
for (let i = 0; i < N; i++) writeFileSync(path.join(logs, `${i}.log`), `step output line ${i}\n`.repeat(200 + (i % 400)));

/** ms for one-by-one and for readLogExcerpts over the logs in `dir` (JUnit's caps: 4 KB + 4 KB). */
async function measure(dir) {
  const files = Array.from({ length: N }, (_, i) => path.join(dir, `${i}.log`));
  const one = [];
  const many = [];
  for (let rep = 0; rep < 5; rep++) {
    let t0 = performance.now();
    // What report-output.ts did before: a Map of every excerpt, read in turn.
    new Map(files.map((f) => [f, readLogExcerpt(f, 4096, 4096)]));
    one.push(performance.now() - t0);
    t0 = performance.now();
    await readLogExcerpts(files, 4096, 4096);
    many.push(performance.now() - t0);
  }
  return { one: median(one), many: median(many) };
}

/** Mounts `logs` over sshfs from a private sshd on 127.0.0.1; undefined when that cannot be done here. */
function mountSshfs() {
  const sshd = '/usr/sbin/sshd';
  if (process.getuid?.() !== 0 || !existsSync(sshd) || spawnSync('sshfs', ['--version']).error) return undefined;
  const d = path.join(tmp, 'ssh');
  mkdirSync(d);
  for (const k of ['host', 'user']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(d, k)]);
  writeFileSync(path.join(d, 'authorized_keys'), readFileSync(path.join(d, 'user.pub')), { mode: 0o600 });
  const port = 20000 + (process.pid % 20000);
  writeFileSync(
    path.join(d, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${d}/host`,
      `AuthorizedKeysFile ${d}/authorized_keys`,
      'PasswordAuthentication no',
      'PermitRootLogin prohibit-password',
      `PidFile ${d}/sshd.pid`,
      'StrictModes no',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  execFileSync(sshd, ['-f', path.join(d, 'sshd_config')]);
  const mnt = path.join(tmp, 'mnt');
  mkdirSync(mnt);
  const opts = `IdentityFile=${d}/user,StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,BatchMode=yes`;
  for (let tries = 0; ; tries++) {
    // sshd daemonises before it listens: try again while it gets there.
    if (spawnSync('sshfs', ['-p', String(port), '-o', opts, `root@127.0.0.1:${logs}`, mnt]).status === 0) break;
    if (tries > 50) throw new Error('bench: could not mount over sshfs');
    spawnSync('sleep', ['0.1']);
  }
  const pid = Number(readFileSync(path.join(d, 'sshd.pid'), 'utf8'));
  return {
    mnt,
    close() {
      spawnSync('fusermount', ['-u', mnt]);
      process.kill(pid);
    },
  };
}

header(`report logs: ${N} log excerpts read one by one vs readLogExcerpts, median of 5`);
const local = await measure(logs);
figure('local disk, one by one (ms)', local.one, 'ms');
figure('local disk, readLogExcerpts (ms)', local.many, 'ms');
verdict('ratio on the local disk', local.many / local.one, 1.1, '×', 2);
const mount = mountSshfs();
if (mount === undefined) console.log('sshfs: not measured (needs root, sshd and sshfs)');
else {
  try {
    const remote = await measure(mount.mnt);
    figure('sshfs, one by one (ms)', remote.one, 'ms');
    figure('sshfs, readLogExcerpts (ms)', remote.many, 'ms');
    figure('ratio on sshfs (lower is the gain)', remote.many / remote.one, '×', 2);
  } finally {
    mount.close();
  }
}
