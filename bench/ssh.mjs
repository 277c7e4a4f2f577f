// The ssh launcher against the local one: 200 tests of `sleep 0.2`, -j 4, over two simulated hosts
// with real sshd (h2 seeing the run area over sshfs, as in the launcher's test), against the same
// 200 tests with --launcher local -j 4 on h1, in the same run of this script. What ssh adds per job:
// a session over the shared connection, a Node start for `trellis exec` on the host, its claim and
// reports. Needs root, iproute2, util-linux, openssh-server, sshfs. Target: ratio ≤ 1.5.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { figure, header, makeTempDir, median, requireBuild, ROOT, verdict } from './common.mjs';

const N = Number(process.env.BENCH_SSH_JOBS ?? 200);
const REPS = Number(process.env.BENCH_REPS ?? 2);
const TARGET = 1.5;

requireBuild();
const { startSshHosts } = await import(path.join(ROOT, 'dist/test/helpers/ssh-hosts.js'));
const { addrOf, trellisOn } = await import(path.join(ROOT, 'dist/test/helpers/sim-hosts.js'));
const { stopServersUnder } = await import(path.join(ROOT, 'dist/test/helpers/servers.js'));

const tmp = makeTempDir('ssh');
const teardowns = [];
const t = { teardown: (fn) => teardowns.push(fn) };
const hosts = await startSshHosts(
  t,
  () => tmp,
  (area) => stopServersUnder(area),
);
const area = hosts.area;
writeFileSync(
  path.join(area, 'trellis.config'),
  `[fields]\nOS\n\n[setup]\nmax_concurrent_jobs 4\n\n[ssh]\nargs ${hosts.sshArgs}\n\n[server]\nidle_timeout 5m\n`,
);
writeFileSync(path.join(area, 'runconfigs.config'), '[linux]\n');
for (let i = 0; i < N; i++) {
  const dir = path.join(area, 'tests', `t${String(i).padStart(3, '0')}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'testconfig'), '[ezsteps]\nnap sleep 0.2\n');
}

async function timedRun(runname, launcher) {
  const t0 = performance.now();
  const res = await trellisOn(t, 'h1', ['run', '--area', area, '-t', 'linux', '-r', runname, '-j', '4', '--launcher', launcher]).done;
  const ms = performance.now() - t0;
  if (res.code !== 0 || !new RegExp(`\\(${N} ran\\)`).test(res.stdout))
    throw new Error(`${launcher}: expected ${N} to pass\n${res.stdout.slice(-800)}\n${res.stderr.slice(-800)}`);
  return ms;
}

header(`ssh launcher: ${N} tests of \`sleep 0.2\`, -j 4, two hosts vs --launcher local, median of ${REPS}`);
const local = [];
const ssh = [];
try {
  for (let rep = 1; rep <= REPS; rep++) {
    local.push(await timedRun(`local${rep}`, 'local'));
    ssh.push(await timedRun(`ssh${rep}`, `ssh ${addrOf('h1')} ${addrOf('h2')}`));
    console.log(`  rep ${rep}: local ${(local.at(-1) / 1000).toFixed(1)} s, ssh ${(ssh.at(-1) / 1000).toFixed(1)} s`);
  }
  figure(`--launcher local -j 4, ${N} tests (wall)`, median(local) / 1000, 's');
  figure(`--launcher ssh (2 hosts) -j 4, ${N} tests (wall)`, median(ssh) / 1000, 's');
  verdict('ratio ssh / local', median(ssh) / median(local), TARGET, '×', 2);
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
