import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { readLastLine, spawnDetached } from '../../src/util/spawn-detached.js';

t.test('readLastLine: the last line, or the msg of a JSON line; empty when none', async (t) => {
  const dir = t.testdir({
    plain: 'first\nsecond line  \n\n',
    json: '{"level":30,"msg":"serving"}\n{"level":50,"msg":"failed to start: no port"}\n',
    brace: '{not json\n',
    empty: '',
    long: `${'x'.repeat(1000)}\n`,
  });
  t.equal(readLastLine(path.join(dir, 'plain')), 'second line');
  t.equal(readLastLine(path.join(dir, 'json')), 'failed to start: no port');
  t.equal(readLastLine(path.join(dir, 'brace')), '{not json');
  t.equal(readLastLine(path.join(dir, 'empty')), '');
  t.equal(readLastLine(path.join(dir, 'missing')), '');
  t.equal(readLastLine(path.join(dir, 'long')).length, 300);
});

t.test('spawnDetached: its own process group, output in the log, arguments passed as they are', async (t) => {
  const dir = t.testdir();
  const log = path.join(dir, 'child.log');
  const script =
    'console.log(process.argv.slice(1).join("|")); console.error("pgid", process.pid === Number(require("fs").readFileSync("/proc/self/stat","utf8").split(" ")[4]))';
  const child = spawnDetached(['-e', script, '--', '$HOME', 'a b;c'], { logFile: log, logFlags: 'w', env: process.env, cwd: dir });
  child.ref(); // unref'd for its parent's sake; this test waits for it
  const code = await new Promise((r) => child.once('exit', r));
  t.equal(code, 0);
  t.equal(fs.readFileSync(log, 'utf8'), '$HOME|a b;c\npgid true\n', 'no shell, its own group');
  t.equal(fs.statSync(log).mode & 0o777, 0o640);
});
