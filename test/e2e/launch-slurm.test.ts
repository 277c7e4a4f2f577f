/**
 * The Slurm launcher on a real single-node Slurm (../shared/slurm): the example area gives the
 * same outcomes as with the local launcher, every job sees its SLURM_JOB_ID, `trellis kill` and a
 * runtime limit end the job, `scancel` from outside marks the test, and a job Slurm fails or
 * cancels before exec began is marked with Slurm's reason.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { DEFAULT_CONFIG, makeArea } from '../helpers/area.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { listTests, readPidFile, run, startRun, statesOf, TARGET, trellis, waitUntil, workDir } from '../helpers/run-e2e.js';
import { stopServersUnder } from '../helpers/servers.js';
import { activeJobs, cancelJobs, ensureSlurm, jobInfo } from '../helpers/slurm.js';

ensureSlurm();
// Real Slurm schedules on a one-second tick: this file needs more than the suite's default limit.
t.setTimeout(480_000);

const SLURM_CONFIG = `${DEFAULT_CONFIG}\n[jobtools]\nlauncher slurm\n`;

/** The Slurm job ids recorded on a run's rows. */
async function jobIdsOf(t: Parameters<typeof listTests>[0], area: string, runname: string): Promise<string[]> {
  const res = await trellis(t, area, ['list', 'tests', '-t', TARGET, '-r', runname, '--json']);
  const rows = JSON.parse(res.stdout) as Array<{ jobId: string; launcher: string }>;
  return rows.filter((r) => r.launcher === 'slurm' && r.jobId !== '').map((r) => r.jobId);
}

t.test(
  'the example area through Slurm: the same outcomes as with the local launcher (linux/aarch64: pass, fail, PREQ_FAIL, TIMED_OUT)',
  async (t) => {
    const runArea = t.testdir();
    t.teardown(() => stopServersUnder(runArea));
    const area = path.join(repoRoot, 'testconfig');
    const on = async (target: string, launcher: string) => {
      const res = await runCli(t, ['run', '--area', area, '--runarea', runArea, '-t', target, '-r', launcher, '--launcher', launcher]);
      const rows = await runCli(t, ['list', 'tests', '--area', area, '--runarea', runArea, '-t', target, '-r', launcher, '--json']);
      const list = JSON.parse(rows.stdout) as Array<{
        testname: string;
        itempath: string;
        state: string;
        status: string;
        launcher: string;
        jobId: string;
      }>;
      return { code: res.code, out: res.stdout + res.stderr, list };
    };
    // aarch64 is the target with every kind of outcome: PASS, FAIL, PREQ_FAIL and TIMED_OUT.
    for (const target of ['linux/aarch64']) {
      const local = await on(target, 'local');
      const slurm = await on(target, 'slurm');
      t.equal(slurm.code, local.code, `${target}: the same exit code`, { output: slurm.out });
      const outcome = (l: typeof local.list) => l.map((r) => `${r.testname}/${r.itempath} ${r.state}/${r.status}`).sort();
      t.same(outcome(slurm.list), outcome(local.list), `${target}: the same states and statuses`);
      const leaves = slurm.list.filter((r) => r.itempath !== '' || !slurm.list.some((i) => i.testname === r.testname && i.itempath !== ''));
      const ran = leaves.filter((r) => r.status !== 'PREQ_FAIL');
      t.ok(
        ran.every((r) => r.launcher === 'slurm' && /^\d+$/.test(r.jobId)),
        `${target}: every job that ran has its Slurm job id`,
      );
      t.equal(new Set(ran.map((r) => r.jobId)).size, ran.length, 'one Slurm job each');
    }
    const perf = JSON.parse(
      (await runCli(t, ['show', 'perf', '--area', area, '--runarea', runArea, '-t', 'linux/aarch64', '-r', 'slurm', '--json'])).stdout,
    ) as { state: string; status: string; jobId: string };
    t.equal(`${perf.state}/${perf.status}`, 'KILLED/TIMED_OUT', 'the runtime limit ended it');
    t.same(activeJobs([perf.jobId]), [], 'and its Slurm job is gone');
  },
);

t.test('each test sees its own SLURM_JOB_ID; output and job script stay in the work folder', async (t) => {
  const area = makeArea(t, {
    config: `${SLURM_CONFIG}\n[slurm]\nargs --comment=from-config\n`,
    tests: {
      a: '[items]\nN 1 2 3\n\n[ezsteps]\nenv  echo "job=$SLURM_JOB_ID name=$SLURM_JOB_NAME"\n',
    },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 0, { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { a: 'COMPLETED/PASS', 'a/1': 'COMPLETED/PASS', 'a/2': 'COMPLETED/PASS', 'a/3': 'COMPLETED/PASS' });
  const json = JSON.parse((await trellis(t, area, ['list', 'tests', '-t', TARGET, '-r', 'r', '--json'])).stdout) as Array<{
    itempath: string;
    jobId: string;
  }>;
  for (const n of ['1', '2', '3']) {
    const dir = workDir(area, 'r', 'a', n);
    const jobId = json.find((r) => r.itempath === n)!.jobId;
    t.equal(fs.readFileSync(path.join(dir, 'env.log'), 'utf8'), `job=${jobId} name=trellis:a/${n}\n`, `a/${n} ran as Slurm job ${jobId}`);
    t.ok(fs.existsSync(path.join(dir, `slurm-${jobId}.out`)), "Slurm's output file is in the work folder");
    t.equal(jobInfo(jobId)['JobState'], 'COMPLETED');
    t.equal(jobInfo(jobId)['Comment'], 'from-config', '[slurm] args reach sbatch');
  }
});

t.test('trellis kill of a running test ends its Slurm job; scancel from outside marks the test', async (t) => {
  const hang = 'echo $$ > "$MT_RUN_AREA_HOME/$MT_TEST_NAME.pid"; sleep 1000 & wait';
  const area = makeArea(t, { config: SLURM_CONFIG, tests: { k: `[ezsteps]\nhang  ${hang}\n`, s: `[ezsteps]\nhang  ${hang}\n` } });
  let ids: string[] = [];
  t.teardown(() => cancelJobs(ids));
  const proc = startRun(t, area, 'r');
  await readPidFile(path.join(area, 'k.pid'), proc);
  await readPidFile(path.join(area, 's.pid'), proc);
  ids = await jobIdsOf(t, area, 'r');
  t.equal(ids.length, 2);
  const json = JSON.parse((await trellis(t, area, ['list', 'tests', '-t', TARGET, '-r', 'r', '--json'])).stdout) as Array<{
    testname: string;
    jobId: string;
  }>;
  const kJob = json.find((r) => r.testname === 'k')!.jobId;
  const sJob = json.find((r) => r.testname === 's')!.jobId;
  const t0 = Date.now();
  t.equal((await trellis(t, area, ['kill', '-t', TARGET, '-r', 'r', '-p', 'k'])).code, 0);
  await waitUntil(() => activeJobs([kJob]).length === 0, `Slurm job ${kJob} to leave the queue`, 60_000, proc);
  t.comment(`trellis kill → job ${kJob} gone from squeue in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  cancelJobs([sJob]);
  const res = await proc.done;
  t.equal(res.code, 1, { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { k: 'KILLED/ABORT', s: 'KILLED/ABORT' });
  t.match(rows.get('k')!.comment, /killed on request/);
  // The step ran in the job's own shell (no exec to see the TERM): Slurm's word for it.
  t.match(rows.get('s')!.comment, new RegExp(`Slurm job ${sJob} CANCELLED`));
  // The run ends once squeue no longer runs them; Slurm may list them (COMPLETING) a moment longer.
  await waitUntil(() => activeJobs(ids).length === 0, `Slurm jobs ${ids.join(', ')} to leave the queue`, 60_000).catch(() => undefined);
  t.same(activeJobs(ids), []);
});

t.test('a runtime limit ends the job: KILLED/TIMED_OUT, nothing left in the queue', async (t) => {
  const area = makeArea(t, { config: SLURM_CONFIG, tests: { slow: '[requirements]\nruntimelim 2s\n\n[ezsteps]\nhang  sleep 1000\n' } });
  const res = await run(t, area, 'r');
  t.equal(res.code, 1, { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { slow: 'KILLED/TIMED_OUT' });
  const ids = await jobIdsOf(t, area, 'r');
  t.same(activeJobs(ids), []);
  t.match(jobInfo(ids[0]!)['TimeLimit'], /^00:02:00$/, 'sbatch --time is the limit rounded up, plus a minute');
});

t.test('a shell job: no Node on the node, a second run of its script runs nothing, exec where a step needs it', async (t) => {
  const area = makeArea(t, {
    config: `${SLURM_CONFIG}\n[params]\nWHO default=world\n`,
    tests: {
      plain: '[ezsteps]\none  echo hello {WHO} > out.txt; trellis set-value size 3 --expected 3\ntwo  exit 2\nthree  cat out.txt\n',
      judged: '[ezsteps]\nbuild  echo ok\n\n[logrules]\nbuild  error /error/\n',
      fails: '[ezsteps]\na  false\nb  echo never\n',
    },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 1, { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { plain: 'COMPLETED/WARN', judged: 'COMPLETED/PASS', fails: 'COMPLETED/FAIL' });
  const plainDir = workDir(area, 'r', 'plain');
  t.ok(fs.existsSync(path.join(plainDir, '.trellis-job.sh')), 'plain ran as a shell job');
  t.notOk(fs.existsSync(path.join(workDir(area, 'r', 'judged'), '.trellis-job.sh')), 'a step with log rules goes through exec');
  t.equal(fs.readFileSync(path.join(plainDir, 'three.log'), 'utf8'), 'hello world\n', 'parameters filled in, steps in order');
  t.equal(fs.readFileSync(path.join(plainDir, 'two.exit'), 'utf8'), '2\n');
  t.notOk(fs.existsSync(path.join(workDir(area, 'r', 'fails'), 'b.log')), 'a failing step ends the job');
  const show = JSON.parse((await trellis(t, area, ['show', '-t', TARGET, '-r', 'r', 'plain', '--json'])).stdout) as {
    host: string;
    steps: Array<{ name: string; status: string; exitCode: number | null; start: string; end: string }>;
    data: Array<{ name: string; value: string; status: string }>;
  };
  t.same(
    show.steps.map((s) => `${s.name}:${s.status}:${s.exitCode}`),
    ['one:PASS:0', 'two:WARN:2', 'three:PASS:0'],
  );
  t.ok(
    show.steps.every(
      (s, i) => Date.parse(s.start) <= Date.parse(s.end) && (i === 0 || Date.parse(show.steps[i - 1]!.end) <= Date.parse(s.start)),
    ),
    'step times from the files, in order',
  );
  t.same(
    show.data.map((d) => `${d.name}=${d.value}:${d.status}`),
    ['size=3:PASS'],
    'a value reported from the node, through the server',
  );
  t.equal(show.host, os.hostname().split('.')[0], "the node's name");
  // Run again by hand (a requeued or doubled job): the claim is taken, nothing runs.
  fs.rmSync(path.join(plainDir, 'three.log'));
  const again = spawnSync('/bin/sh', [path.join(plainDir, '.trellis-job.sh')], { encoding: 'utf8' });
  t.equal(again.status, 0);
  t.match(again.stderr, /this job ran here before/);
  t.notOk(fs.existsSync(path.join(plainDir, 'three.log')), 'its steps did not run again');

  // The runner killed -9 while its shell job runs: the job goes on, and its test is recovered
  // from the exit files once the reaper finds the runner gone.
  const gate = path.join(area, 'gate');
  const lone = makeArea(t, {
    config: SLURM_CONFIG,
    tests: { w: `[ezsteps]\nwait  while [ ! -e ${gate} ]; do sleep 0.1; done\nafter  echo done\n` },
  });
  let loneIds: string[] = [];
  t.teardown(() => cancelJobs(loneIds));
  const proc = startRun(t, lone, 'r');
  const started = path.join(workDir(lone, 'r', 'w'), '.trellis-started');
  await waitUntil(() => fs.existsSync(started), 'the shell job to start', 60_000, proc);
  loneIds = await jobIdsOf(t, lone, 'r');
  proc.child.kill('SIGKILL');
  await proc.done;
  fs.writeFileSync(gate, '');
  await waitUntil(() => activeJobs(loneIds).length === 0, 'the orphaned job to end', 60_000);
  const reaped = await trellis(t, lone, ['list', 'tests', '-t', TARGET, '-r', 'r']);
  t.match(reaped.stderr, /w: its runner is gone; marked COMPLETED\/PASS \(every step ended \(recovered from the exit files/);
  t.same(statesOf(await listTests(t, lone, 'r')), { w: 'COMPLETED/PASS' });

  const bad = makeArea(t, { config: `${SLURM_CONFIG}\n[slurm]\njob thin\n`, tests: { a: '[ezsteps]\none  true\n' } });
  const refused = await run(t, bad, 'r');
  t.equal(refused.code, 3, { output: refused.stdout + refused.stderr });
  t.match(refused.stderr, /trellis\.config:\d+: \[slurm\] job 'thin' is not a way to run a Slurm job; write `job shell`/);
});

t.test("jobs Slurm ends before exec began are marked with Slurm's reason, never left LAUNCHED", async (t) => {
  // A held job never starts: cancelling it is a job Slurm ended before exec began.
  const held = makeArea(t, { config: `${DEFAULT_CONFIG}\n[jobtools]\nlauncher slurm --hold\n`, tests: { h: '[ezsteps]\nrun  true\n' } });
  let ids: string[] = [];
  t.teardown(() => cancelJobs(ids));
  const proc = startRun(t, held, 'r');
  await waitUntil(() => fs.existsSync(path.join(workDir(held, 'r', 'h'), '.trellis-job.sh')), 'the job to be submitted', 60_000, proc);
  for (;;) {
    ids = await jobIdsOf(t, held, 'r');
    if (ids.length > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  cancelJobs(ids);
  const res = await proc.done;
  t.equal(res.code, 1, { output: res.stdout + res.stderr });
  const rows = await listTests(t, held, 'r');
  t.same(statesOf(rows), { h: 'KILLED/ABORT' });
  t.match(rows.get('h')!.comment, new RegExp(`Slurm job ${ids[0]} CANCELLED`));

  // A compute node without the trellis command: the batch script fails before exec (`job exec`).
  const broken = makeArea(t, {
    config: `${DEFAULT_CONFIG}\n[jobtools]\nlauncher slurm\ntrellis /nonexistent/trellis\n\n[slurm]\njob exec\n`,
    tests: { b: '[ezsteps]\nrun  true\n', after: '[requirements]\nwaiton b\n\n[ezsteps]\nrun  true\n' },
  });
  const res2 = await run(t, broken, 'r');
  t.equal(res2.code, 1, { output: res2.stdout + res2.stderr });
  const rows2 = await listTests(t, broken, 'r');
  t.same(statesOf(rows2), { b: 'INCOMPLETE/DEAD', after: 'NOT_STARTED/PREQ_FAIL' });
  t.match(rows2.get('b')!.comment, /^Slurm job \d+ FAILED/);
});
