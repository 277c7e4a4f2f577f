import t from 'tap';
import { runCli } from '../helpers/cli.js';

const MEGATEST_CONFIG = `[fields]
TARGETOS TEXT
TARGETARCH TEXT

[setup]
max_concurrent_jobs 2
linktree #{getenv MT_RUN_AREA_HOME}/links

[jobtools]
launcher nbfake

[env-override]
TOOLS_HOME $MT_RUN_AREA_HOME/tools
`;
const RUNCONFIGS = `[default]
BUILD_DIR #{getenv MT_RUN_AREA_HOME}/build

[%/x86_64]
WIDTH 64

[linux/x86_64]
`;

t.test('a Megatest area runs unchanged: its nbfake launcher, not installed here, runs the tests on this host', async (t) => {
  const area = t.testdir({
    'megatest.config': MEGATEST_CONFIG,
    'runconfigs.config': RUNCONFIGS,
    tests: {
      compile: {
        testconfig:
          '[ezsteps]\nbuild test "$WIDTH" = 64 && test "$TOOLS_HOME" = "$MT_RUN_AREA_HOME/tools" && \\\n  echo built in #{rget BUILD_DIR}\n\n[requirements]\npriority 10\n',
      },
      regress: {
        testconfig:
          '[requirements]\nwaiton compile\nmode itemwait\n\n[items]\nSUITE basic stress\nSEED [system seq 1 2]\n\n[ezsteps]\nrun echo "$SUITE $SEED on $TARGETOS/$TARGETARCH ($MT_TARGET)"\n',
      },
    },
  });
  // PATH without an nbfake: Megatest's helper is not installed on this machine.
  const r = await runCli(t, ['run', '-t', 'linux/x86_64', '-r', 'mt'], { cwd: area, env: { PATH: '/usr/bin:/bin' } });
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(r.stderr, /launcher 'nbfake': nbfake is not installed here; running the tests on this host/, 'one note says so');
  t.equal(r.stderr.match(/is not installed here/g)?.length, 1, 'once');
  const list = await runCli(t, ['list', 'tests', '-t', 'linux/x86_64', '-r', 'mt', '--json'], { cwd: area });
  const rows = JSON.parse(list.stdout) as Array<{ testname: string; itempath: string; status: string }>;
  t.same(rows.map((r) => `${r.testname}/${r.itempath}:${r.status}`).sort(), [
    'compile/:PASS',
    'regress/:PASS',
    'regress/basic/1:PASS',
    'regress/basic/2:PASS',
    'regress/stress/1:PASS',
    'regress/stress/2:PASS',
  ]);
});
