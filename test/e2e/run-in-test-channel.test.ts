/**
 * The in-test channel and Trellis' own log rules, with the built CLI: `trellis step|test-status|
 * set-value` from inside a test go through the channel (run with a PATH that has no node on it),
 * their errors reach the test, a call after the steps ended is told so; `[logrules]` in a Trellis
 * area give the worse of the exit code's status and the rules'; and under `trellis exec` (a
 * launcher command of the area's own) the channel works the same.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { DEFAULT_CONFIG, makeArea } from '../helpers/area.js';
import { listTests, readLines, run, statesOf, TARGET, trellis, waitUntil, workDir } from '../helpers/run-e2e.js';

t.setTimeout(240_000);

/** Reports through the channel with only sh, sleep and cat reachable: no Node can start. */
const HELPERS = `#!/bin/sh
mkdir -p tools && ln -sf "$(command -v sleep)" tools/sleep && ln -sf "$(command -v cat)" tools/cat
T=$(dirname "$TRELLIS_BIN")
export PATH="$T:$PWD/tools"
trellis step fetch --state start || exit 1
trellis step fetch --state end --status PASS || exit 1
trellis set-value latency 12 --expected 10 --tol 30% --units ms || exit 1
trellis set-value build-id abc123 || exit 1
trellis step 2> missing.err; echo "missing=$?"
trellis set-value x 1 --expected 2 --tol abc 2> badtol.err; echo "badtol=$?"
trellis test-status --state SIDEWAYS 2> badstate.err; echo "badstate=$?"
trellis test-status --status WARN -m "slow disk" || exit 1
# Called once the steps have ended: told so.
( while [ ! -f "$TRELLIS_CHANNEL/closed" ]; do sleep 0.05; done
  trellis step late --state start 2> late.err; echo "late=$?" > late.out ) &
exit 0
`;

const RULES_CONFIG = `[ezsteps]
warned  printf 'ok\\nwarning: slow\\n'
both    printf 'all good\\n'; exit 1

[logrules]
%       error    /error:/i
warned  warning  /warning:/ "Any warning"
`;

t.test('trellis helpers go through the channel; [logrules] give the worse of exit code and log', async (t) => {
  const area = makeArea(t, {
    tests: {
      helpers: '[setup]\nrunscript helpers.sh\n',
      rules: RULES_CONFIG,
      exit2: "[ezsteps]\nwarn  printf 'clean\\n'; exit 2\n\n[logrules]\nwarn  error  /error/\n",
    },
    files: { 'tests/helpers/helpers.sh': HELPERS },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 1, 'exit 1', { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { exit2: 'COMPLETED/WARN', helpers: 'COMPLETED/WARN', rules: 'COMPLETED/FAIL' });
  t.equal(rows.get('helpers')!.comment, 'slow disk');
  t.match(rows.get('rules')!.comment, /^step both exited 1$/, 'the exit code failed it; its log was clean');
  const dir = workDir(area, 'r', 'helpers');
  const log = readLines(path.join(dir, 'helpers.sh.log'));
  t.same(log, ['latency=12 PASS', 'build-id=abc123 n/a', 'missing=2', 'badtol=2', 'badstate=2']);
  t.match(fs.readFileSync(path.join(dir, 'missing.err'), 'utf8'), /^trellis: .*Not enough non-option arguments/);
  t.match(fs.readFileSync(path.join(dir, 'badtol.err'), 'utf8'), /^trellis: set-value x: tolerance 'abc' is not a number/);
  t.match(fs.readFileSync(path.join(dir, 'badstate.err'), 'utf8'), /^trellis: --state 'SIDEWAYS' is not a state/);
  await waitUntil(() => fs.existsSync(path.join(dir, 'late.out')), 'the late call to come back');
  t.same(readLines(path.join(dir, 'late.out')), ['late=5']);
  t.match(fs.readFileSync(path.join(dir, 'late.err'), 'utf8'), /the test's steps have ended; trellis no longer answers/);
  // One channel folder for the whole run (not one per test), closed when the run ended; the next
  // runner on this host clears it away and makes its own.
  const channels = path.join(area, 'runs', '.meta', 'channels');
  const first = fs.readdirSync(channels);
  t.equal(first.length, 1, 'one channel folder for the run');
  t.ok(fs.existsSync(path.join(channels, first[0]!, 'closed')), 'closed at the run end');
  t.notOk(fs.existsSync(path.join(dir, '.trellis-channel')), 'nothing of the channel in the work folder');
  await run(t, area, 'r2', ['-p', 'exit2']);
  const second = fs.readdirSync(channels);
  t.equal(second.length, 1, "the first runner's folder cleared away by the next");
  t.not(second[0], first[0]);
  const show = await trellis(t, area, ['show', 'rules', '-t', TARGET, '-r', 'r', '--json']);
  const detail = JSON.parse(show.stdout) as {
    steps: Array<{ name: string; status: string }>;
    rules: Array<{ step: string; kind: string; status: string }>;
  };
  t.same(
    detail.steps.map((s) => `${s.name}:${s.status}`),
    ['warned:WARN', 'both:FAIL'],
    'a WARN from the log, then exit 1 with a clean log: FAIL',
  );
  t.same(
    detail.rules.map((r) => `${r.step} ${r.kind} ${r.status}`),
    ['both error PASS', 'warned error PASS', 'warned warning WARN'],
  );
  const text = await trellis(t, area, ['show', 'rules', '-t', TARGET, '-r', 'r']);
  t.match(text.stdout, /Log rules:\n\s+STEP\s+RULE\s+KIND\s+EXPECTED\s+FOUND\s+STATUS\s+DESCRIPTION\n/);
  t.match(text.stdout, /warned rule-\d+ "Any warning", first lines it took:\n\s+2: warning: slow/);
});

/** A launcher of the area's own: runs `trellis exec SPEC` it is given, in the foreground. */
const LAUNCH = `#!/bin/sh
echo "launched $*" >> "$MT_RUN_AREA_HOME/launches.log"
exec "$@"
`;

const RUNSCRIPT = `#!/bin/sh
i=0
while [ $i -lt 10 ]; do
  i=$((i + 1))
  $MT_MEGATEST -step s$i :state start :status n/a && $MT_MEGATEST -step s$i :state end :status 0 || exit 1
done
megatest -set-values :category perf :variable rate :value 105 :expected 100 :tol 10 :units MB/s || exit 1
$MT_MEGATEST -test-status :state NOWHERE :status PASS 2> bad.err; echo "bad=$?"
$MT_MEGATEST -test-status :state COMPLETED :status AUTO || exit 1
echo "pid of exec: $PPID"
`;

t.test('under trellis exec (a launcher command), the channel answers from the step’s own host', async (t) => {
  const area = makeArea(t, {
    config: `${DEFAULT_CONFIG}\n[jobtools]\nlauncher $MT_RUN_AREA_HOME/launch.sh\n`,
    files: { 'launch.sh': LAUNCH, 'tests/remote/main.sh': RUNSCRIPT },
    tests: {
      remote: '[setup]\nrunscript main.sh\n',
      judged: "[ezsteps]\nbuild  printf 'warning: slow\\nok\\n'\n\n[logrules]\nbuild  warning  /warning:/\n",
    },
  });
  const res = await run(t, area, 'x');
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  t.match(fs.readFileSync(path.join(area, 'launches.log'), 'utf8'), / exec /, 'the job went through the launcher and trellis exec');
  t.same(
    statesOf(await listTests(t, area, 'x')),
    { judged: 'COMPLETED/WARN', remote: 'COMPLETED/PASS' },
    'the rules travelled to exec in the spec',
  );
  t.ok(fs.existsSync(path.join(workDir(area, 'x', 'judged'), 'build.dat')), 'exec wrote the .dat');
  const show = await trellis(t, area, ['show', 'remote', '-t', TARGET, '-r', 'x', '--json']);
  const detail = JSON.parse(show.stdout) as {
    status: string;
    launcher: string;
    steps: Array<{ name: string; status: string }>;
    data: Array<{ name: string; status: string; units: string }>;
  };
  t.equal(detail.launcher, 'command');
  t.equal(detail.status, 'PASS');
  t.equal(detail.steps.filter((s) => /^s\d+$/.test(s.name) && s.status === 'PASS').length, 10);
  t.same(detail.data, [{ name: 'perf/rate', value: '105', expected: '100', tol: '10', units: 'MB/s', status: 'PASS' }]);
  const dir = workDir(area, 'x', 'remote');
  t.same(
    readLines(path.join(dir, 'main.sh.log')).filter((l) => l.startsWith('bad=')),
    ['bad=2'],
  );
  t.match(
    fs.readFileSync(path.join(dir, 'bad.err'), 'utf8'),
    /^megatest: :state 'NOWHERE' is not a state/,
    'the error reached the test on its host',
  );
});
