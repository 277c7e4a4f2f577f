/**
 * Run parameters and values handed on, with the built CLI (docs/workflows.md): every bad
 * `--param` is one line before anything runs; a run through a launcher command (so every test runs
 * in `trellis exec`, reading values from the store) substitutes parameters and values, exports
 * the parameters, fails a test whose producer never recorded its value with a line that says so,
 * and records the parameters where `list runs --json`, `show` and the JUnit report show them; a
 * cycle of values is refused before anything runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { DEFAULT_CONFIG, makeArea } from '../helpers/area.js';
import { dump } from '../helpers/e2e.js';
import { listTests, run, statesOf, TARGET, trellis, workDir } from '../helpers/run-e2e.js';

// A server, a run and exec processes on a loaded machine.
t.setTimeout(600_000);

/** Runs the job it is given (drops its own first argument), as a site's launcher wrapper would. */
const LAUNCH = `#!/bin/sh
shift 1
exec "$@"
`;

const CONFIG = `${DEFAULT_CONFIG}
[jobtools]
launcher $MT_RUN_AREA_HOME/launch.sh -q

[params]
VERSION required pattern=[0-9]+\\.[0-9]+\\.[0-9]+ # the release to build
CHANNEL default=beta choices=beta,stable
NOTE default='two words'
`;

const TESTS = {
  build: [
    '[ezsteps]',
    'make  echo "v={VERSION} c={CHANNEL} env=$VERSION/$TRELLIS_PARAM_CHANNEL" > made.txt && trellis set-value artifact "app {VERSION}.tgz"',
    "check test {artifact} = 'app 1.4.2.tgz' && test {NOTE} = 'two words' && echo '{{literal}' ${HOME:+home} > checked.txt",
    '',
  ].join('\n'),
  deploy: '[requirements]\nwaiton build\n\n[ezsteps]\nup  echo "{build:artifact} to {CHANNEL}" > deployed.txt\n',
  per: '[items]\nN 1 2\n\n[ezsteps]\nsq  trellis set-value sq "$((N * N))"\n',
  use: '[requirements]\nwaiton per\nmode itemwait\n\n[items]\nN 1 2\n\n[ezsteps]\nread  echo "{per:sq}" > sq.txt\n',
  lost: '[requirements]\nwaiton build\n\n[ezsteps]\nfirst  true\nneed  echo {build:never}\n',
  cyca: '[requirements]\nwaiton cycb\n\n[ezsteps]\nx  echo {cycb:y}\n',
  cycb: '[ezsteps]\ny  echo {cyca:x}\n',
};

t.test('parameters and values through a launcher command and trellis exec', async (t) => {
  const area = makeArea(t, { config: CONFIG, tests: TESTS, files: { 'launch.sh': LAUNCH } });
  const selected = ['-p', 'build,deploy,per,use,lost'];

  const bad = await run(t, area, 'rel', [...selected, '--param', 'VERSION=1.4', '-P', 'CHANNEL=nightly', '-P', 'FOO=1']);
  t.equal(bad.code, 2, `bad parameters: exit 2\n${dump(bad)}`);
  const lines = bad.stderr.split('\n').filter((l) => l !== '');
  t.match(
    lines,
    [
      /^trellis: --param VERSION=1\.4: the value does not match pattern=.*trellis\.config:12\); give a value matching .* \(the release to build\)$/,
      /^trellis: --param CHANNEL=nightly: the value is not one of beta, stable \(.*trellis\.config:13\); give one of beta, stable$/,
      /^trellis: --param FOO=1: FOO is not a parameter of this area; declared in \[params\] of .*: VERSION, CHANNEL, NOTE$/,
    ],
    'one line per problem',
  );
  t.equal(lines.length, 3, 'and nothing else');
  t.notOk(fs.existsSync(path.join(area, 'runs', 'linux')), 'nothing ran');

  const good = await run(t, area, 'rel', [...selected, '--param', 'VERSION=1.4.2']);
  t.equal(good.code, 1, `the run ends with lost failing\n${dump(good)}`);
  const rows = await listTests(t, area, 'rel');
  t.same(statesOf(rows), {
    build: 'COMPLETED/PASS',
    deploy: 'COMPLETED/PASS',
    lost: 'COMPLETED/FAIL',
    per: 'COMPLETED/PASS',
    'per/1': 'COMPLETED/PASS',
    'per/2': 'COMPLETED/PASS',
    use: 'COMPLETED/PASS',
    'use/1': 'COMPLETED/PASS',
    'use/2': 'COMPLETED/PASS',
  });
  t.ok(rows.get('build')!.host !== '' && rows.get('deploy')!.comment === '', 'ran through exec');
  const read = (test: string, file: string, ...items: string[]) =>
    fs.readFileSync(path.join(workDir(area, 'rel', test, ...items), file), 'utf8');
  t.equal(read('build', 'made.txt'), 'v=1.4.2 c=beta env=1.4.2/beta\n', 'substituted and exported');
  t.equal(read('build', 'checked.txt'), '{literal} home\n', '{{ and ${…} as the shell has them');
  t.equal(read('deploy', 'deployed.txt'), 'app 1.4.2.tgz to beta\n', "the producer's value, read on the exec side");
  t.equal(read('use', 'sq.txt', '2'), '4\n', "itemwait: each item reads its own item's value");
  const lost =
    /^step need \(.*tests\/lost\/testconfig:6\): \{build:never\}: build did not record a value never \(it ended COMPLETED\/PASS\)$/;
  t.match(rows.get('lost')!.comment, lost, 'the status says why');
  t.match(read('lost', 'need.log'), new RegExp(lost.source.replace('^', '^trellis: ').replace('$', '\n$')), 'and its log');

  const runs = await trellis(t, area, ['list', 'runs', '--json']);
  t.match(JSON.parse(runs.stdout), [{ runname: 'rel', params: { VERSION: '1.4.2', CHANNEL: 'beta', NOTE: 'two words' } }], dump(runs));
  const show = await trellis(t, area, ['show', 'deploy', '-t', TARGET, '-r', 'rel']);
  t.match(show.stdout, /^ {2}params {4}VERSION=1\.4\.2 CHANNEL=beta NOTE="two words"$/m, dump(show));
  const junit = await trellis(t, area, ['report', 'junit', '-t', TARGET, '-r', 'rel']);
  t.match(junit.stdout, /<property name="trellis\.param\.VERSION" value="1\.4\.2"\/>/, 'JUnit properties');
  t.match(junit.stdout, /<property name="trellis\.param\.NOTE" value="two words"\/>/);

  const cycle = await run(t, area, 'cyc', ['-p', 'cyca', '-P', 'VERSION=1.0.0']);
  t.equal(cycle.code, 3, `a cycle of values: exit 3\n${dump(cycle)}`);
  t.match(cycle.stderr, /^trellis: values handed on in a cycle: /, 'says it is a cycle');
  t.match(cycle.stderr, /cyca uses \{cycb:y\} \(.*tests\/cyca\/testconfig:5\)/, 'names one reference with its line');
  t.match(cycle.stderr, /cycb uses \{cyca:x\} \(.*tests\/cycb\/testconfig:2\)/, 'and the other');
  t.notOk(fs.existsSync(workDir(area, 'cyc', 'cycb')), 'nothing ran');
});
