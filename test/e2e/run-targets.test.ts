/**
 * Targets runconfigs.config does not name, through the built CLI (issue 11 item 6): as Megatest's
 * -target, `trellis run` accepts one when there is a [default] section, with one warning line, and
 * its tests get the [default] values; the strict check is --reqtarg or [setup] reqtarg yes.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ExitCode } from '../../src/util/errors.js';
import { makeArea, DEFAULT_CONFIG } from '../helpers/area.js';
import { assertUserError, dump } from '../helpers/e2e.js';
import { listTests, statesOf, trellis } from '../helpers/run-e2e.js';

const RUNCONFIGS = '[default]\nGREETING hello\n\n[linux/x86_64]\nCPU x86\n';
/** An area whose one test writes what it saw, so the test can check the [default] values arrived. */
function area(t: Parameters<typeof makeArea>[0], config = DEFAULT_CONFIG): string {
  return makeArea(t, {
    config,
    runconfigs: RUNCONFIGS,
    tests: { env: '[ezsteps]\nsay  echo "$MT_TARGET $GREETING ${CPU:-none}" > "$MT_RUN_AREA_HOME/seen"\n' },
  });
}

t.test('an unnamed target runs with [default] after one warning line', async (t) => {
  const dir = area(t);
  const res = await trellis(t, dir, ['run', '-t', 'mac/arm64', '-r', 'r']);
  t.equal(res.code, 0, 'exit 0', { output: dump(res) });
  const warnings = res.stderr.split('\n').filter((l) => l.includes('warning'));
  t.equal(warnings.length, 1, `one warning line\n${dump(res)}`);
  t.match(warnings[0], /^trellis: warning: target 'mac\/arm64' is not named in .*runconfigs\.config .*\[default\] values only.*--reqtarg/);
  t.equal(fs.readFileSync(path.join(dir, 'seen'), 'utf8'), 'mac/arm64 hello none\n', 'the test got MT_TARGET and the [default] values');
  t.same(statesOf(await listTests(t, dir, 'r', 'mac/arm64')), { env: 'COMPLETED/PASS' }, 'the run is listed under its target');
});

t.test('a named target gives no warning', async (t) => {
  const dir = area(t);
  const res = await trellis(t, dir, ['run', '-t', 'linux/x86_64', '-r', 'r']);
  t.equal(res.code, 0, 'exit 0', { output: dump(res) });
  t.notMatch(res.stderr, /warning/, 'no warning');
  t.equal(fs.readFileSync(path.join(dir, 'seen'), 'utf8'), 'linux/x86_64 hello x86\n');
});

t.test('--reqtarg refuses an unnamed target before anything runs', async (t) => {
  const dir = area(t);
  const res = await trellis(t, dir, ['run', '-t', 'mac/arm64', '-r', 'r', '--reqtarg']);
  assertUserError(
    t,
    res,
    ExitCode.config,
    /unknown target 'mac\/arm64' \(--reqtarg requires a named target\)/,
    /runconfigs\.config/,
    /known targets: linux\/x86_64/,
  );
  t.notOk(fs.existsSync(path.join(dir, 'seen')), 'nothing ran');
  const named = await trellis(t, dir, ['run', '-t', 'linux/x86_64', '-r', 'r', '--reqtarg']);
  t.equal(named.code, 0, '--reqtarg with a named target runs', { output: dump(named) });
});

t.test('[setup] reqtarg yes refuses an unnamed target, naming where it is set', async (t) => {
  const dir = area(t, `${DEFAULT_CONFIG}reqtarg yes\n`);
  const res = await trellis(t, dir, ['run', '-t', 'mac/arm64', '-r', 'r']);
  assertUserError(
    t,
    res,
    ExitCode.config,
    /unknown target 'mac\/arm64' \(\[setup\] reqtarg at .*trellis\.config:7 requires a named target\)/,
  );
  t.notOk(fs.existsSync(path.join(dir, 'seen')), 'nothing ran');
});

t.test('[setup] reqtarg with a value that is not yes or no exits 3 naming file:line', async (t) => {
  const dir = area(t, `${DEFAULT_CONFIG}reqtarg sometimes\n`);
  const res = await trellis(t, dir, ['run', '-t', 'linux/x86_64', '-r', 'r']);
  assertUserError(t, res, ExitCode.config, /trellis\.config:7: \[setup\] reqtarg must be yes or no, not 'sometimes'/);
});
