/**
 * A step that prints 100 MB: the log holds every byte and the runner's memory stays small,
 * because step output goes straight to the log file, never through Node.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { makeArea } from '../helpers/area.js';
import { runCli, trellisBin } from '../helpers/cli.js';
import { listTests, statesOf, TARGET, workDir } from '../helpers/run-e2e.js';

const SIZE = 100_000_000;
const BIG = `[ezsteps]\nspew  head -c ${SIZE} /dev/zero | tr '\\0' x\ntail  echo done\n`;

t.test('100 MB of output: the log is complete', async (t) => {
  const area = makeArea(t, { tests: { big: BIG } });
  const res = await runCli(t, ['run', '--area', area, '-t', TARGET, '-r', 'r']);
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  t.same(statesOf(await listTests(t, area, 'r')), { big: 'COMPLETED/PASS' });
  const log = path.join(workDir(area, 'r', 'big'), 'spew.log');
  t.equal(fs.statSync(log).size, SIZE);
  const fd = fs.openSync(log, 'r');
  const buf = Buffer.alloc(16);
  fs.readSync(fd, buf, 0, 16, SIZE - 16);
  fs.closeSync(fd);
  t.equal(buf.toString(), 'x'.repeat(16), 'the last bytes are there');
  t.equal(fs.readFileSync(path.join(workDir(area, 'r', 'big'), 'tail.log'), 'utf8'), 'done\n');
});

// /usr/bin/time comes from Debian's `time` package; .ci/run installs it.
t.test('100 MB of output: the runner peak RSS stays under 200 MB', async (t) => {
  t.ok(fs.existsSync('/usr/bin/time'), '/usr/bin/time is installed (apt-get install time)');
  const area = makeArea(t, { tests: { big: BIG } });
  // /usr/bin/time reports node's peak (or a descendant's: head and tr are tiny)
  const child = spawn('/usr/bin/time', ['-v', process.execPath, trellisBin, 'run', '--area', area, '-t', TARGET, '-r', 'r'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(code, 0, 'exit 0', { stderr });
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  t.ok(m, 'time -v reports the peak RSS', { stderr });
  const kb = Number(m![1]);
  t.ok(kb < 200 * 1024, `peak RSS ${Math.round(kb / 1024)} MB`);
  t.equal(fs.statSync(path.join(workDir(area, 'r', 'big'), 'spew.log')).size, SIZE);
});
