/**
 * Files that are not what they should be, through the built CLI: a FIFO where a testconfig, the
 * area config, an included file or a step's logpro file belongs is a one-line config error naming it (before, `trellis
 * run` blocked on it for good, deaf to SIGTERM); a FIFO among a test's files fails that test, not
 * the run. And a test with no steps, which the config reference allows as a waiton anchor, passes.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ExitCode } from '../../src/util/errors.js';
import { makeArea } from '../helpers/area.js';
import { startCli, type CliResult } from '../helpers/cli.js';
import { assertUserError, dump } from '../helpers/e2e.js';
import { listTests, statesOf } from '../helpers/run-e2e.js';

// Each command is a Node start and a server round trip: on a 2-core machine under load, minutes.
t.setTimeout(600_000);

const T = ['-t', 'linux/x86_64'];

/** Runs the CLI to its end; a command still running after `ms` is killed and the test fails saying so. */
async function runToEnd(t: Test, args: string[], cwd: string, ms = 60_000): Promise<CliResult> {
  const p = startCli(t, args, { cwd });
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
  const r = await Promise.race([p.done, hung]);
  clearTimeout(timer);
  if (r === 'hung') {
    p.child.kill('SIGKILL');
    const seen = await p.done;
    t.fail(`trellis ${args.join(' ')} was still running after ${ms / 1000} s (blocked)\n${dump(seen)}`);
    return seen;
  }
  return r;
}

const fifo = (file: string) => {
  fs.rmSync(file, { force: true });
  execFileSync('mkfifo', [file]);
};

t.test('a FIFO as a testconfig, the area config or an included file is a config error naming it', async (t) => {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nx true\n', b: '[ezsteps]\ny true\n' } });
  fifo(path.join(area, 'tests', 'b', 'testconfig'));
  let r = await runToEnd(t, ['run', ...T, '-r', 'n'], area);
  assertUserError(t, r, ExitCode.config, /tests\/b\/testconfig: cannot read config file \(a FIFO, not a regular file\)/);

  fs.rmSync(path.join(area, 'tests', 'b', 'testconfig'));
  fs.writeFileSync(path.join(area, 'tests', 'b', 'testconfig'), '[include more.config]\n[ezsteps]\ny true\n');
  fifo(path.join(area, 'tests', 'b', 'more.config'));
  r = await runToEnd(t, ['run', ...T, '-r', 'n'], area);
  assertUserError(t, r, ExitCode.config, /tests\/b\/testconfig:1: \[include more\.config\]/, /not a file|FIFO/);

  const config = path.join(area, 'trellis.config');
  fifo(config);
  r = await runToEnd(t, ['list', 'runs', '--area', area], area);
  assertUserError(t, r, ExitCode.config, /trellis\.config: cannot read config file \(a FIFO, not a regular file\)/);
});

t.test("a FIFO as a step's logpro file is a config error naming it", async (t) => {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nx true\n' } });
  fifo(path.join(area, 'tests', 'a', 'x.logpro'));
  const r = await runToEnd(t, ['run', ...T, '-r', 'n'], area);
  assertUserError(t, r, ExitCode.config, /tests\/a\/x\.logpro: cannot read the step's logpro file \(a FIFO, not a regular file\)/);
});

t.test("a FIFO among a test's files fails that test; the run goes on and ends", async (t) => {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nx true\n', b: '[ezsteps]\ny true\n' } });
  fifo(path.join(area, 'tests', 'b', 'pipe'));
  const r = await runToEnd(t, ['run', ...T, '-r', 'n'], area);
  t.equal(r.code, ExitCode.testsFailed, dump(r));
  const rows = await listTests(t, area, 'n');
  t.same(statesOf(rows), { a: 'COMPLETED/PASS', b: 'COMPLETED/ABORT' });
  t.match(rows.get('b')?.comment, /could not prepare/);
});

t.test('a test with no steps passes, and the tests waiting on it run', async (t) => {
  const area = makeArea(t, {
    tests: { anchor: '[test_meta]\ndescription a waiton anchor\n', after: '[requirements]\nwaiton anchor\n\n[ezsteps]\nx true\n' },
  });
  const r = await runToEnd(t, ['run', ...T, '-r', 'n'], area);
  t.equal(r.code, 0, dump(r));
  const rows = await listTests(t, area, 'n');
  t.same(statesOf(rows), { anchor: 'COMPLETED/PASS', after: 'COMPLETED/PASS' });
  t.equal(rows.get('anchor')?.comment, 'no steps to run');
});
