/**
 * Megatest-style launcher commands and `trellis exec`, with the built CLI: the launcher is a
 * script of the area's own that logs its arguments and runs them (in the foreground, or in the
 * background as nbfake-like launchers do). Exec's guards are driven by hand: a second exec of a
 * running job, kill -9 of exec mid-step, kill -9 of the runner while exec runs, `trellis kill`,
 * a failing launcher and a spec that points outside its run area.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { makeArea, DEFAULT_CONFIG } from '../helpers/area.js';
import { runCli, trellisBin } from '../helpers/cli.js';
import {
  groupMembers,
  isAlive,
  killGroupOnTeardown,
  listTests,
  readLines,
  readPidFile,
  run,
  startRun,
  statesOf,
  TARGET,
  trellis,
  waitUntil,
  workDir,
} from '../helpers/run-e2e.js';

// Seven runs of the built CLI, each with a server and exec processes: more than the default limit
// on a loaded machine.
t.setTimeout(600_000);

/** Logs `$MT_TEST_RUN_DIR` and its arguments, drops its own two options, then runs the rest. */
const FOREGROUND = `#!/bin/sh
echo "dir=$MT_TEST_RUN_DIR target=$MT_TARGET args=$*" >> "$MT_RUN_AREA_HOME/launches.log"
shift 2
exec "$@"
`;
/** The same, but leaves the job running in the background and exits at once (as nbfake does). */
const BACKGROUND = `#!/bin/sh
echo "args=$*" >> "$MT_RUN_AREA_HOME/launches.log"
shift 2
nohup "$@" > "$MT_TEST_RUN_DIR/exec.out" 2>&1 &
exit 0
`;

function config(launcher: string): string {
  return `${DEFAULT_CONFIG}\n[jobtools]\nlauncher ${launcher}\n`;
}

t.test('a launcher script of the area runs every test through trellis exec, with the MT_ variables', async (t) => {
  const area = makeArea(t, {
    config: config('$MT_RUN_AREA_HOME/launch.sh -q fast'),
    files: { 'launch.sh': FOREGROUND },
    tests: {
      a: '[ezsteps]\nhello  echo "hi from $MT_TEST_NAME on $(hostname)"; test -n "$TRELLIS_TEST_ID"\n',
      b: '[requirements]\nwaiton a\n\n[items]\nN 1 2\n\n[ezsteps]\nrun  test "$N" = 1 -o "$N" = 2\n',
      c: '[requirements]\nwaiton b\n\n[ezsteps]\nbad  exit 1\n',
    },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 1, 'c fails', { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), {
    a: 'COMPLETED/PASS',
    b: 'COMPLETED/PASS',
    'b/1': 'COMPLETED/PASS',
    'b/2': 'COMPLETED/PASS',
    c: 'COMPLETED/FAIL',
  });
  const launches = readLines(path.join(area, 'launches.log'));
  t.equal(launches.length, 4, 'one launch per test or item');
  for (const key of ['a', 'b/1', 'b/2', 'c']) {
    const [test = key, ...items] = key.split('/');
    const dir = workDir(area, 'r', test, ...items);
    const line = launches.find((l) => l.startsWith(`dir=${dir} `));
    t.ok(line, `${key} was launched with MT_TEST_RUN_DIR=${dir}`);
    t.match(
      line,
      new RegExp(
        `target=${TARGET} args=-q fast \\S+ \\S+trellis\\.js exec ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\.trellis-job\\.json$`,
      ),
    );
  }
  const json = JSON.parse((await trellis(t, area, ['list', 'tests', '-t', TARGET, '-r', 'r', '--json'])).stdout) as Array<{
    testname: string;
    launcher: string;
    jobId: string;
  }>;
  t.ok(
    json.filter((r) => r.testname !== 'b').every((r) => r.launcher === 'command' && /^\d+$/.test(r.jobId)),
    'each row says how it was launched',
  );
  t.match(fs.readFileSync(path.join(workDir(area, 'r', 'a'), 'hello.log'), 'utf8'), /^hi from a on /);
  const shown = await trellis(t, area, ['show', 'c', '-t', TARGET, '-r', 'r']);
  t.match(shown.stdout, /host\s+\S+ \(pid \d+\), command job \d+/);
});

t.test("in-test helpers work under exec; the flexi-launcher sends each test to its host type's launcher", async (t) => {
  const area = makeArea(t, {
    config: `${DEFAULT_CONFIG}\n[jobtools]\nflexi-launcher yes\nlauncher local\n\n[launchers]\nremote% farm\n\n[host-types]\nfarm $MT_RUN_AREA_HOME/launch.sh -q farm\n`,
    files: { 'launch.sh': FOREGROUND },
    tests: {
      here: '[ezsteps]\nrun  true\n',
      remote1:
        '[ezsteps]\nmeasure  trellis set-value latency 12 --expected 10 --tol 30%\nnote  trellis set-value build 4711\nwarn  trellis test-status --status WARN -m "slow disk"\n',
    },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 0, { output: res.stdout + res.stderr });
  const json = JSON.parse((await trellis(t, area, ['list', 'tests', '-t', TARGET, '-r', 'r', '--json'])).stdout) as Array<{
    testname: string;
    launcher: string;
    status: string;
    comment: string;
  }>;
  t.same(json.map((r) => `${r.testname} ${r.launcher} ${r.status}`).sort(), ['here local PASS', 'remote1 command WARN']);
  const shown = JSON.parse((await trellis(t, area, ['show', 'remote1', '-t', TARGET, '-r', 'r', '--json'])).stdout) as {
    comment: string;
    data: Array<{ name: string; value: string; status: string }>;
  };
  t.equal(shown.comment, 'slow disk', 'what the test said of itself, read back by exec');
  t.same(
    shown.data.map((d) => `${d.name}=${d.value} ${d.status}`),
    ['build=4711 n/a', 'latency=12 PASS'],
    'values recorded through the server',
  );
  t.equal(readLines(path.join(area, 'launches.log')).length, 1, 'only remote1 went through the launcher');
});

t.test('a launcher that fails before exec began marks the test with its exit code and last line', async (t) => {
  const area = makeArea(t, {
    config: config('$MT_RUN_AREA_HOME/launch.sh'),
    files: { 'launch.sh': '#!/bin/sh\necho "no queue named default" >&2\nexit 3\n' },
    tests: { a: '[ezsteps]\nrun  true\n', b: '[requirements]\nwaiton a\n\n[ezsteps]\nrun  true\n' },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 1);
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { a: 'INCOMPLETE/DEAD', b: 'NOT_STARTED/PREQ_FAIL' });
  t.match(rows.get('a')!.comment, /the launcher command exited 3: no queue named default \(see \S+mt_launch\.log\)/);
  t.match(
    fs.readFileSync(path.join(workDir(area, 'r', 'a'), 'mt_launch.log'), 'utf8'),
    /^LAUNCHCMD: \$MT_RUN_AREA_HOME\/launch\.sh \S+ \S+ exec /,
  );
});

t.test('a launcher command that is not installed is refused before the run, naming the line', async (t) => {
  const area = makeArea(t, { config: config('bsub -q normal'), tests: { a: '[ezsteps]\nrun  true\n' } });
  const res = await run(t, area, 'r', [], { env: { PATH: '/usr/bin:/bin' } });
  t.equal(res.code, 3, res.stderr);
  t.match(res.stderr, /trellis\.config:\d+: 'bsub' is not a command on PATH/);
  t.equal(res.stderr.trim().split('\n').length, 1, 'one line');
  const bad = await run(t, area, 'r', ['--launcher', 'ssh'], {});
  t.equal(bad.code, 3);
  t.match(bad.stderr, /--launcher 'ssh': no hosts to ssh to/);
  const direct = await run(t, area, 'r', ['--launcher', 'slurm', '--direct']);
  t.not(direct.code, 0);
  t.match(direct.stderr, /bypasses|sbatch is not on PATH/);
});

/** The `trellis exec` process a step descends from (the spawner's helper stands between them). */
function execAncestorOf(pid: number): number {
  for (let p = pid, i = 0; i < 4; i++) {
    p = Number(/^\d+ \(.*\) \S (\d+)/.exec(fs.readFileSync(`/proc/${p}/stat`, 'utf8'))?.[1]);
    if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes('exec')) return p;
  }
  throw new Error(`no trellis exec above pid ${pid}`);
}

t.test('exec: a second exec of a running job leaves it alone; kill -9 of exec mid-step makes it DEAD and ends the step', async (t) => {
  const step = 'echo $$ > "$MT_RUN_AREA_HOME/step.pid"; sleep 1000 & wait';
  const area = makeArea(t, {
    config: config('$MT_RUN_AREA_HOME/launch.sh -q fast'),
    files: { 'launch.sh': BACKGROUND },
    tests: { long: `[ezsteps]\nhang  ${step}\n`, after: '[requirements]\nwaiton long\n\n[ezsteps]\nrun  true\n' },
  });
  let pgid: number | undefined;
  killGroupOnTeardown(t, () => pgid);
  const proc = startRun(t, area, 'r');
  pgid = await readPidFile(path.join(area, 'step.pid'), proc);
  const execPid = execAncestorOf(pgid);
  const spec = path.join(workDir(area, 'r', 'long'), '.trellis-job.json');
  const second = await runCli(t, ['exec', spec]);
  t.equal(second.code, 5, 'refused');
  t.match(second.stderr, new RegExp(`long is being run by exec pid ${execPid} on host \\S+`));
  t.equal(second.stderr.trim().split('\n').length, 1);
  t.ok(isAlive(pgid), "the first exec's step still runs");
  process.kill(execPid, 'SIGKILL');
  const res = await proc.done;
  t.equal(res.code, 1, 'the run ends', { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { long: 'INCOMPLETE/DEAD', after: 'NOT_STARTED/PREQ_FAIL' });
  t.match(rows.get('long')!.comment, new RegExp(`exec pid ${execPid} on host \\S+ is no longer running`));
  await waitUntil(() => groupMembers(pgid!).length === 0, 'the orphaned step ended by the reaper');
});

t.test('exec: trellis kill of a job exec runs ends its step group: KILLED/ABORT', async (t) => {
  const step = 'echo $$ > "$MT_RUN_AREA_HOME/step.pid"; sleep 1000 & echo $! > "$MT_RUN_AREA_HOME/child.pid"; wait';
  const area = makeArea(t, {
    config: config('$MT_RUN_AREA_HOME/launch.sh -q fast'),
    files: { 'launch.sh': BACKGROUND },
    tests: { long: `[ezsteps]\nhang  ${step}\n` },
  });
  let pgid: number | undefined;
  killGroupOnTeardown(t, () => pgid);
  const proc = startRun(t, area, 'r');
  pgid = await readPidFile(path.join(area, 'step.pid'), proc);
  const child = await readPidFile(path.join(area, 'child.pid'), proc);
  const killed = await trellis(t, area, ['kill', '-t', TARGET, '-r', 'r', '-p', 'long']);
  t.equal(killed.code, 0, killed.stderr);
  const res = await proc.done;
  t.equal(res.code, 1, { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { long: 'KILLED/ABORT' }, `comment: ${rows.get('long')?.comment}\n${res.stdout}${res.stderr}`);
  t.equal(isAlive(child), false, "the step's background child is gone");
  t.same(groupMembers(pgid), []);
});

t.test('kill -9 of the runner while exec runs a job: exec finishes and records it; the next run keeps it', async (t) => {
  const step =
    'echo $$ > "$MT_RUN_AREA_HOME/step.pid"; while [ ! -e "$MT_RUN_AREA_HOME/go" ]; do sleep 0.05; done; echo x >> "$MT_RUN_AREA_HOME/count"';
  const area = makeArea(t, {
    config: config('$MT_RUN_AREA_HOME/launch.sh -q fast'),
    files: { 'launch.sh': BACKGROUND },
    tests: { remote: `[ezsteps]\nwork  ${step}\n`, after: '[requirements]\nwaiton remote\n\n[ezsteps]\nrun  true\n' },
  });
  const proc = startRun(t, area, 'r');
  await readPidFile(path.join(area, 'step.pid'), proc);
  proc.child.kill('SIGKILL');
  await proc.done;
  fs.writeFileSync(path.join(area, 'go'), '');
  await waitUntil(
    () => {
      const out = spawnSync(process.execPath, [trellisBin, 'list', 'tests', '--area', area, '-t', TARGET, '-r', 'r', '--json'], {
        encoding: 'utf8',
      });
      return out.status === 0 && /"status": "PASS"/.test(out.stdout);
    },
    'exec to record the job',
    30_000,
  );
  t.same(statesOf(await listTests(t, area, 'r')), { remote: 'COMPLETED/PASS', after: 'NOT_STARTED/n/a' });
  const again = await run(t, area, 'r');
  t.equal(again.code, 0, { output: again.stdout + again.stderr });
  t.same(statesOf(await listTests(t, area, 'r')), { remote: 'COMPLETED/PASS', after: 'COMPLETED/PASS' });
  t.equal(fs.readFileSync(path.join(area, 'count'), 'utf8'), 'x\n', 'the job ran once');
});

t.test('exec refuses a spec that points outside its run area, with one line', async (t) => {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nrun  true\n' } });
  const dir = path.join(area, 'runs', 'linux', 'x86_64', 'r', 'a');
  fs.mkdirSync(dir, { recursive: true });
  const spec = path.join(dir, '.trellis-job.json');
  const body = {
    version: 1,
    kind: 'remote',
    launchId: 'x',
    launcher: 'command',
    runArea: path.join(area, 'runs'),
    areaDir: area,
    runId: 1,
    testId: 1,
    target: TARGET,
    runname: 'r',
    testname: 'a',
    itempath: '',
    workDir: '/etc',
    shell: '/bin/sh',
    who: '',
    force: false,
    deadtime: 60,
    env: {},
    def: { name: 'a', dir: area, configFile: 'x', steps: [], skip: {}, triggers: [], runtimelim: null },
  };
  fs.writeFileSync(spec, JSON.stringify(body));
  const res = await runCli(t, ['exec', spec]);
  t.equal(res.code, 2);
  t.match(res.stderr, /^trellis: job spec \S+ names a work folder outside its run area \(\/etc is not inside \S+\/runs\)/);
  fs.writeFileSync(spec, '{"version": 1');
  const garbled = await runCli(t, ['exec', spec]);
  t.equal(garbled.code, 2);
  t.match(garbled.stderr, /is not JSON/);
  t.equal(garbled.stderr.trim().split('\n').length, 1);
});
