/**
 * `trellis doctor` on `.meta/`, through the built CLI: a healthy area says so (exit 0); a token,
 * area id, packet and lease damaged by a server killed -9 and a careless admin are each named
 * (exit 1); --repair fixes them and says what it did (exit 0); the area works afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { readPackets } from '../../src/client/packets.js';
import { runCli } from '../helpers/cli.js';
import { dump, parseJson } from '../helpers/e2e.js';
import { setup } from './doctor-fixture.js';

// Each command is a Node start and a server round trip: on a 2-core machine under load, minutes.
t.setTimeout(600_000);

interface DoctorJson {
  healthy: boolean;
  problems: number;
  open: number;
  findings: Array<{ part: string; level: string; what: string; fix: string | null; repaired: string | null }>;
}

t.test('a healthy area: exit 0, every part checked', async (t) => {
  const s = setup(t, 'pass');
  t.equal((await s.cli('run', '-t', 'linux/x86_64', '-r', 'r1')).code, 0);
  const r = await s.cli('doctor', '--all');
  t.equal(r.code, 0, dump(r));
  t.match(r.stdout, /^Healthy: nothing needs attention/m);
  for (const part of ['token', 'area-id', 'packets', 'lease', 'databases', 'folders'])
    t.match(r.stdout, new RegExp(`^${part}\\s+ok\\s`, 'm'), `${part} checked`);
  const json = parseJson<DoctorJson>(await s.cli('doctor', '--json'));
  t.match(json, { healthy: true, problems: 0, open: 0 });
});

t.test('.meta damaged by a kill -9 and a careless admin: named, then repaired, then healthy', async (t) => {
  const s = setup(t, 'pass');
  t.equal((await s.cli('run', '-t', 'linux/x86_64', '-r', 'r1')).code, 0);
  const [server] = readPackets(s.paths.metaDir, () => undefined);
  t.ok(server, 'a server runs');
  process.kill(server!.packet.pid, 'SIGKILL');
  await new Promise<void>((resolve) => {
    const check = () => {
      try {
        process.kill(server!.packet.pid, 0);
        setTimeout(check, 20);
      } catch {
        resolve();
      }
    };
    check();
  });
  fs.writeFileSync(s.paths.tokenFile, '');
  fs.writeFileSync(s.paths.areaIdFile, 'not an id\n');
  fs.writeFileSync(path.join(s.paths.metaDir, `${'0'.repeat(40)}.pkt`), 'garbage');

  const before = await s.cli('doctor', '--json');
  t.equal(before.code, 1, dump(before));
  const found = parseJson<DoctorJson>(before).findings.filter((f) => f.level === 'problem');
  const text = found.map((f) => `${f.part}: ${f.what}`).join('\n');
  t.match(text, /token: .*\.meta\/token is damaged \(it is empty\)/);
  t.match(text, /area-id: .*\.meta\/area-id is damaged/);
  t.match(text, /packets: .*0{40}\.pkt is not a packet/);
  t.match(text, new RegExp(`packets: server pid ${server!.packet.pid} .* is gone`));
  t.match(text, new RegExp(`lease: the write lease .*\\.db\\.lock is left over: its holder pid ${server!.packet.pid}`));
  t.ok(
    found.every((f) => f.fix && !f.repaired),
    'each says what to do; nothing was repaired without --repair',
  );
  t.equal(fs.readFileSync(s.paths.tokenFile, 'utf8'), '', 'without --repair nothing changes');

  const repair = await s.cli('doctor', '--repair');
  t.equal(repair.code, 0, dump(repair));
  t.equal((repair.stdout.match(/REPAIRED/g) ?? []).length, 5, `five repairs\n${repair.stdout}`);
  t.match(repair.stdout, /repaired: wrote a new token/);
  t.match(repair.stdout, /repaired: took the lease over and let it go \(lock and lease\.json removed\)/);
  t.notOk(fs.existsSync(`${s.paths.dbDir}.lock`), 'the lock is gone');
  t.notOk(fs.existsSync(s.paths.leaseOwnerFile), 'and lease.json');
  const after = await s.cli('doctor');
  t.equal(after.code, 0, `healthy afterwards\n${dump(after)}`);
  const list = await s.cli('list', 'runs', '--json');
  t.same(
    parseJson<Array<{ runname: string }>>(list).map((r) => r.runname),
    ['r1'],
    'and the area works',
  );
});

t.test('--runarea alone is enough', async (t) => {
  const s = setup(t, 'pass');
  t.equal((await s.cli('run', '-t', 'linux/x86_64', '-r', 'r1')).code, 0);
  const elsewhere = t.testdir();
  const r = await runCli(t, ['doctor', '--runarea', s.paths.root], { cwd: elsewhere });
  t.equal(r.code, 0, dump(r));
  t.match(r.stdout, new RegExp(`^Run area ${s.paths.root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
});
