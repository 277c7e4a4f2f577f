/**
 * Bad input to `trellis report`: each is one line naming what, where and what to do, with a
 * non-zero exit and no stack trace; a report that cannot be written leaves no file behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { makeArea } from '../helpers/area.js';
import { assertUserError } from '../helpers/e2e.js';
import { run, TARGET, trellis } from '../helpers/run-e2e.js';

t.test('report: bad output paths, unknown runs and formats, bad patterns', async (t) => {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nrun  true\n' } });
  t.equal((await run(t, area, 'r', ['--direct'])).code, 0);
  const report = (...extra: string[]) => trellis(t, area, ['report', 'junit', '-t', TARGET, '-r', 'r', '--direct', ...extra]);
  const dir = t.testdirName;

  assertUserError(
    t,
    await report('-o', path.join(dir, 'missing', 'r.xml')),
    6,
    /-o .*missing\/r\.xml: the folder .*missing does not exist/,
    /create it first/,
  );
  fs.writeFileSync(path.join(dir, 'plain'), 'a file\n');
  assertUserError(t, await report('-o', path.join(dir, 'plain', 'r.xml')), 6, /plain is not a folder/, /choose another -o/);
  assertUserError(t, await report('-o', dir), 6, /is a folder/, /name a file in it/);
  // Nothing can be created in /proc, not even by root: the write itself fails, in one line.
  assertUserError(t, await report('-o', '/proc/trellis-report.xml'), 6, /-o \/proc\/trellis-report\.xml: /);
  t.notOk(fs.existsSync('/proc/trellis-report.xml'));
  t.same(
    fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temp file left',
  );

  assertUserError(
    t,
    await trellis(t, area, ['report', 'junit', '-t', TARGET, '-r', 'nope', '--direct']),
    4,
    /no run linux\/x86_64\/nope/,
    /trellis list runs/,
  );
  assertUserError(t, await report('-p', '~'), 2, /-p: '~' must be followed by a test name/);
  assertUserError(t, await trellis(t, area, ['report', 'xml', '-t', TARGET, '-r', 'r']), 2, /Invalid values|choices/i);
  assertUserError(t, await trellis(t, area, ['report', 'junit', '-t', 'linux', '-r', 'r', '--direct']), 2, /linux/);

  const ok = await report('-o', path.join(dir, 'r.xml'));
  t.equal(ok.code, 0, 'a good path works');
  t.ok(fs.readFileSync(path.join(dir, 'r.xml'), 'utf8').startsWith('<?xml'));
});
