/**
 * The release flow of docs/workflows.md, as shipped in examples/release: parameters checked before
 * anything runs, a value handed from build to the tests and the deploy, a sign-off that parks the
 * release test while its runner waits, the approval, and the deploy under the `deploy` resource.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { repoRoot, startCli } from '../helpers/cli.js';
import { listTests, statesOf, trellis } from '../helpers/run-e2e.js';

t.test('examples/release: build, tests, sign-off, deploy', async (t) => {
  const area = path.join(t.testdir(), 'release');
  fs.cpSync(path.join(repoRoot, 'examples', 'release'), area, { recursive: true });
  const T = ['-t', 'linux', '-r', 'rel-1.4.2'];

  // Parameters are checked before anything runs: one line each, exit 2.
  const bad = await trellis(t, area, ['run', ...T, '--param', 'VERSION=1.4', '--param', 'CHANNEL=gamma']);
  t.equal(bad.code, 2, bad.stderr);
  t.match(bad.stderr, /--param VERSION=1\.4: the value does not match pattern=/);
  t.match(bad.stderr, /--param CHANNEL=gamma: the value is not one of beta, stable/);
  t.notOk(fs.existsSync(path.join(area, 'runs')), 'nothing ran');

  const runner = startCli(t, ['run', '--area', area, ...T, '--param', 'VERSION=1.4.2']);
  await runner.waitFor((out) => /release: WAITING for a sign-off/.test(out));
  t.match(
    runner.stdout,
    /sign-off due at step sign-off: Check notes\.txt of release 1\.4\.2, then approve/,
    'the prompt names the version',
  );
  const rows = await listTests(t, area, 'rel-1.4.2', 'linux');
  t.same(
    statesOf(rows),
    {
      build: 'COMPLETED/PASS',
      unit: 'COMPLETED/PASS',
      'unit/core': 'COMPLETED/PASS',
      'unit/cli': 'COMPLETED/PASS',
      release: 'WAITING/MANUAL',
    },
    'build and both test suites passed (each read the artifact build handed on); release waits',
  );
  t.notOk(fs.existsSync(path.join(area, 'deployed')), 'nothing deployed before the sign-off');

  const ok = await trellis(t, area, ['approve', ...T, 'release', 'sign-off', '-m', 'notes read']);
  t.equal(ok.code, 0, ok.stderr);
  const end = await runner.done;
  t.equal(end.code, 0, end.stdout + end.stderr);
  t.match(end.stdout, /PASS 4\b/);
  t.equal(fs.readFileSync(path.join(area, 'deployed', 'beta.txt'), 'utf8'), 'app 1.4.2\n', 'the artifact deployed to the default channel');

  const show = await trellis(t, area, ['list', 'runs', '--json']);
  t.match(JSON.parse(show.stdout), [{ runname: 'rel-1.4.2', params: { VERSION: '1.4.2', CHANNEL: 'beta' } }], 'the parameters recorded');
  const log = await trellis(t, area, ['log', ...T]);
  t.match(log.stdout, /approve +\S+ +release step sign-off: notes read/, 'who approved, and when, in the run log');
  const res = await trellis(t, area, ['resources', '--json']);
  t.match(JSON.parse(res.stdout), [{ name: 'deploy', count: 1, holders: [] }], 'the deploy share was given back');
});
