/**
 * `trellis agent`, `trellis hosts` and `--launcher agents` on this host: a run through one agent,
 * SIGTERM draining an agent that runs a job (the job finishes, nothing new is taken), the bad
 * inputs (one line each, the right exit code), and an agent started by a user who cannot read the
 * area token, refused in one line.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { assertUserError, dump, parseJson } from '../helpers/e2e.js';
import { makeArea } from '../helpers/area.js';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { listTests, readLines, run, trellis, waitUntil } from '../helpers/run-e2e.js';
import { makeUsers, readableInstall, runAs } from '../helpers/users.js';
import { isPidAlive, serverPids } from '../helpers/servers.js';
import Database from 'better-sqlite3';
import { openDirectStore } from '../../src/store/direct-store.js';
import { shortHostname } from '../../src/util/host.js';

const CONFIG = '[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs 4\n';
const step = (body: string) => `[ezsteps]\nwork ${body}\n`;

function startAgent(t: Parameters<typeof startCli>[0], area: string, ...args: string[]): CliProcess {
  return startCli(t, ['agent', '--area', area, ...args]);
}

t.test('a run through one agent; SIGTERM drains it', async (t) => {
  const area = makeArea(t, {
    config: CONFIG,
    tests: {
      quick: `[items]\nN 1 2 3\n${step('echo "$TRELLIS_AGENT $N" >> "$MT_RUN_AREA_HOME/log"')}`,
      slow: step('touch "$MT_RUN_AREA_HOME/slow-started"; while [ ! -e "$MT_RUN_AREA_HOME/go" ]; do sleep 0.1; done'),
      after: `[requirements]\nwaiton slow\n${step('true')}`,
    },
  });
  const agent = startAgent(t, area, '--name', 'solo', '--slots', '2', '--tags', 'linux');
  await agent.waitFor((out) => /agent solo on .*: 2 slot\(s\), tags linux/.test(out));

  const res = await run(t, area, 'r1', ['--launcher', 'agents', '-p', 'quick']);
  t.equal(res.code, 0, 'the run passes', { output: dump(res) });
  t.same(readLines(path.join(area, 'log')).sort(), ['solo 1', 'solo 2', 'solo 3'], 'each item ran once, by the agent');

  // The agent tells the queue a job ended with its next request, just after the run saw the end.
  const hostsNow = async () =>
    parseJson<Array<{ name: string; status: string; slots: number; used: number }>>(await trellis(t, area, ['hosts', '--json']));
  let hosts = await hostsNow();
  for (let i = 0; hosts[0]?.status !== 'idle'; i++) {
    if (i > 600) throw new Error(`the agent never became idle: ${JSON.stringify(hosts)}`);
    hosts = await hostsNow();
  }
  t.match(hosts, [{ name: 'solo', status: 'idle', slots: 2, used: 0 }]);
  const table = await trellis(t, area, ['hosts']);
  t.match(table.stdout, /^NAME\s+HOST\s+STATUS\s+SLOTS\s+TAGS\s+HEARTBEAT\s+LOAD\s+VERSION\s+RUNNING$/m);
  t.match(table.stdout, /^solo\s+\S+\s+idle\s+0\/2\s+linux\s+\d+s ago/m);

  // Its server killed -9: the agent goes on through the next one (here started by the next run).
  const [server] = serverPids(area);
  t.ok(server !== undefined, 'a server serves the area');
  process.kill(server!, 'SIGKILL');
  await waitUntil(() => !isPidAlive(server!), 'the server gone');
  const again = await run(t, area, 'r1b', ['--launcher', 'agents', '-p', 'quick']);
  t.equal(again.code, 0, 'a run after the server died passes through the same agent', { output: dump(again) });
  t.equal(readLines(path.join(area, 'log')).length, 6, 'its items ran on the agent');
  t.equal(agent.child.exitCode, null, 'the agent still runs');

  // SIGTERM while it runs `slow`: slow finishes, `after` (queued later) is not taken.
  const runProc = startCli(t, ['run', '--area', area, '-t', 'linux/x86_64', '-r', 'r2', '--launcher', 'agents', '-p', 'slow,after']);
  await waitUntil(() => fs.existsSync(path.join(area, 'slow-started')), 'slow started', 60_000, runProc);
  agent.child.kill('SIGTERM');
  await agent.waitFor((out) => /asked to stop \(a signal\): finishing the jobs it runs \(1 running\)/.test(out));
  const draining = parseJson<Array<{ status: string }>>(await trellis(t, area, ['hosts', '--json']));
  t.equal(draining[0]?.status, 'draining', 'hosts shows it draining');
  fs.writeFileSync(path.join(area, 'go'), '');
  const left = await agent.done;
  t.equal(left.code, 0, 'the agent leaves with 0 once its job ended', { output: dump(left) });
  t.match(left.stdout, /agent solo left the pool/);
  const r2 = await runProc.done;
  t.equal(r2.code, 1, 'the run does not pass: `after` had no agent', { output: dump(r2) });
  t.match(r2.stdout, /PASS\s+slow/);
  t.match(
    r2.stdout,
    /DEAD\s+after .*no live agent can take it \(it needs no requirement; no agent is running \(start one with `trellis agent`\)\)/,
  );
});

t.test('a chain through one agent: each test is queued, with its launch, when the one before ended', async (t) => {
  const chain = (before: string) => `[requirements]\nwaiton ${before}\n${step(`echo $MT_TEST_NAME >> "$MT_RUN_AREA_HOME/order"`)}`;
  const area = makeArea(t, {
    config: CONFIG,
    tests: { c1: step('echo c1 >> "$MT_RUN_AREA_HOME/order"'), c2: chain('c1'), c3: chain('c2'), c4: chain('c3') },
  });
  const agent = startAgent(t, area, '--name', 'solo', '--slots', '1');
  await agent.waitFor((out) => /agent solo on /.test(out));
  const res = await run(t, area, 'chain', ['--launcher', 'agents', '-p', 'c%']);
  t.equal(res.code, 0, 'the run passes', { output: dump(res) });
  t.match(res.stdout, /4 tests and items \(4 ran\)/, 'all four ran and the summary says so');
  t.same(readLines(path.join(area, 'order')), ['c1', 'c2', 'c3', 'c4'], 'in order, each once');
  // Again: every launch carries the rerun's reset with it.
  const again = await run(t, area, 'chain', ['--launcher', 'agents', '-p', 'c%', '--rerun-all']);
  t.equal(again.code, 0, 'the rerun passes', { output: dump(again) });
  t.equal(readLines(path.join(area, 'order')).length, 8, 'each ran once more');
  const rows = await listTests(t, area, 'chain');
  t.same(
    [...rows.values()].map((r) => [r.testname, r.state, r.status]),
    [
      ['c1', 'COMPLETED', 'PASS'],
      ['c2', 'COMPLETED', 'PASS'],
      ['c3', 'COMPLETED', 'PASS'],
      ['c4', 'COMPLETED', 'PASS'],
    ],
  );
});

t.test("-j over two agents: the runner queues ahead, the queue keeps the run's limit", async (t) => {
  // Each job writes its start and end (ns) and sleeps a while, so that jobs that run together overlap.
  const mark = (what: string) => `echo "${what} $(date +%s%N)" >> "$MT_RUN_AREA_HOME/marks"`;
  const area = makeArea(t, {
    config: CONFIG,
    tests: { many: `[items]\nN 1 2 3 4 5 6 7 8\n${step(`${mark('start')}; sleep 0.3; ${mark('end')}`)}` },
  });
  const agents = [startAgent(t, area, '--name', 'p1', '--slots', '2'), startAgent(t, area, '--name', 'p2', '--slots', '2')];
  for (const [i, agent] of agents.entries()) await agent.waitFor((out) => new RegExp(`agent p${i + 1} on `).test(out));
  const res = await run(t, area, 'limited', ['--launcher', 'agents', '-p', 'many', '-j', '2']);
  t.equal(res.code, 0, 'the run passes', { output: dump(res) });
  const marks = readLines(path.join(area, 'marks')).map((l) => {
    const [what, ns] = l.split(' ');
    return { delta: what === 'start' ? 1 : -1, at: BigInt(ns!) };
  });
  t.equal(marks.length, 16, 'each of the 8 jobs started and ended once');
  // Ends before starts at the same instant: a job that ends as another starts did not overlap it.
  marks.sort((a, b) => (a.at === b.at ? a.delta - b.delta : a.at < b.at ? -1 : 1));
  let running = 0;
  let most = 0;
  for (const m of marks) {
    running += m.delta;
    most = Math.max(most, running);
  }
  t.ok(most <= 2, `at most 2 jobs ran at once over the agents' 4 slots (${most})`);
  // The runner queued more than 2 (the queue held the rest back): the limit was the queue's.
  const db = new Database(path.join(area, 'runs', '.db', 'main.db'), { readonly: true });
  t.teardown(() => db.close());
  const jobs = db.prepare(`SELECT queued, ended, run_limit FROM job_queue`).all() as Array<{
    queued: number;
    ended: number;
    run_limit: number;
  }>;
  t.same([...new Set(jobs.map((j) => j.run_limit))], [2], 'each job carried the run limit');
  const firstEnd = Math.min(...jobs.map((j) => j.ended));
  t.ok(jobs.filter((j) => j.queued < firstEnd).length > 2, 'more than 2 jobs were queued before the first one ended');
});

t.test('a run stopped with Ctrl-C stops its job on the agent', async (t) => {
  const area = makeArea(t, {
    config: CONFIG,
    tests: { long: step('touch "$MT_RUN_AREA_HOME/started"; sleep 300') },
  });
  const agent = startAgent(t, area, '--name', 'solo', '--slots', '1');
  await agent.waitFor((out) => /agent solo on /.test(out));
  const runProc = startCli(t, ['run', '--area', area, '-t', 'linux/x86_64', '-r', 'k', '--launcher', 'agents']);
  await waitUntil(() => fs.existsSync(path.join(area, 'started')), 'the step started', 60_000, runProc);
  runProc.child.kill('SIGINT');
  const res = await runProc.done;
  t.not(res.code, 0, 'the run ends, not passing', { output: dump(res) });
  const rows = parseJson<Array<{ testname: string; state: string; agent?: string }>>(
    await trellis(t, area, ['list', 'tests', '-t', 'linux/x86_64', '-r', 'k', '--json']),
  );
  t.match(rows, [{ testname: 'long', state: 'KILLED', agent: 'solo' }], 'the job was killed on the agent');
  // The agent tells the queue its job ended just after recording the end: wait for that word.
  const idle = async () => parseJson<Array<{ status: string }>>(await trellis(t, area, ['hosts', '--json']))[0]?.status === 'idle';
  for (let i = 0; !(await idle()); i++) if (i > 600) throw new Error('the agent never became idle');
  t.pass('the agent is idle again');
  t.equal(agent.child.exitCode, null, 'and still runs');
});

t.test('a job spec never makes an agent run anything outside its run area', async (t) => {
  const area = makeArea(t, { config: CONFIG, tests: { ok: step('echo ran >> "$MT_RUN_AREA_HOME/ran"') } });
  const agent = startAgent(t, area, '--name', 'solo', '--slots', '1');
  await agent.waitFor((out) => /agent solo on /.test(out));
  t.equal((await run(t, area, 'r0', ['--launcher', 'agents'])).code, 0, 'a run through the agent');
  const runArea = path.join(area, 'runs');
  const workDir = path.join(runArea, 'linux', 'x86_64', 'r0', 'ok');
  const good = JSON.parse(fs.readFileSync(path.join(workDir, '.trellis-job.json'), 'utf8')) as Record<string, unknown>;
  const store = openDirectStore(runArea, { host: shortHostname() });
  t.teardown(() => store.close());
  const runRec = (await store.findRun('linux/x86_64', 'r0'))!;
  const row = (await store.getTest(runRec.id, 'ok', ''))!;
  const outside = path.join(path.dirname(area), `${path.basename(area)}-outside`);
  fs.mkdirSync(outside, { recursive: true });
  t.teardown(() => fs.rmSync(outside, { recursive: true, force: true }));

  // A launch whose spec lies outside the run area, then one inside it naming a work folder outside;
  // then specs that come with the job from the queue (as the runner queues them): one naming a
  // work folder outside, one a folder not made yet under a link that leads out of the run area.
  const linkOut = path.join(runArea, 'linux', 'x86_64', 'r0', 'escape');
  fs.symlinkSync(outside, linkOut);
  const cases: Array<[string, (launchId: string) => { specFile: string; spec?: object }, RegExp]> = [
    [
      'spec outside',
      (launchId) => {
        const file = path.join(outside, 'spec.json');
        fs.writeFileSync(file, JSON.stringify({ ...good, launchId }));
        return { specFile: file };
      },
      /agent solo refused it: job spec .*spec\.json is not in the run area/,
    ],
    [
      'work folder outside',
      (launchId) => {
        const file = path.join(workDir, 'evil.json');
        fs.writeFileSync(file, JSON.stringify({ ...good, launchId, workDir: outside }));
        return { specFile: file };
      },
      /agent solo refused it: job spec .*evil\.json names a work folder outside/,
    ],
    [
      'queued spec, work folder outside',
      (launchId) => ({ specFile: path.join(workDir, '.trellis-job.json'), spec: { ...good, launchId, workDir: outside } }),
      /agent solo refused it: job spec .*\.trellis-job\.json names a work folder outside/,
    ],
    [
      'queued spec, work folder under a link out of the run area',
      (launchId) => {
        const dir = path.join(linkOut, 'ok');
        return { specFile: path.join(dir, '.trellis-job.json'), spec: { ...good, launchId, workDir: dir } };
      },
      /agent solo refused it: job spec .*escape\/ok\/\.trellis-job\.json is not in the run area/,
    ],
  ];
  for (const [what, specOf, why] of cases) {
    const launchId = `L-${what.replace(/[ ,]+/g, '-')}`;
    const { specFile, spec } = specOf(launchId);
    await store.write(runRec.id, [
      {
        kind: 'test',
        opId: `${launchId}-mark`,
        testId: row.id,
        set: { state: 'LAUNCHED', launchId, launcher: 'agents' },
        time: Date.now() / 1000,
      },
    ]);
    await store.enqueueJobs(
      [
        {
          runId: runRec.id,
          testId: row.id,
          launchId,
          specFile,
          ...(spec ? { spec } : {}),
          target: runRec.target,
          runname: runRec.runname,
          label: 'ok',
          tags: [],
          hosts: [],
          requeues: 0,
          runnerAgentId: 1,
        },
      ],
      { now: Date.now() / 1000, deadtime: 60 },
    );
    await waitUntil(
      () => {
        const db = new Database(path.join(runArea, '.db', `${runRec.id}.db`), { readonly: true });
        try {
          return (db.prepare(`SELECT state FROM tests WHERE id = ?`).get(row.id) as { state: string }).state === 'INCOMPLETE';
        } finally {
          db.close();
        }
      },
      `${what}: the test ended`,
      60_000,
      agent,
    );
    const after = (await store.getTest(runRec.id, 'ok', ''))!;
    t.match(after, { state: 'INCOMPLETE', status: 'DEAD', comment: why }, `${what}: refused, the test DEAD with the reason`);
  }
  t.same(readLines(path.join(area, 'ran')), ['ran'], 'the step ran only in the first, real run');
  t.same(fs.readdirSync(outside).sort(), ['spec.json'], 'and nothing was made outside');
  t.equal(agent.child.exitCode, null, 'the agent goes on');
});

t.test('bad inputs: one line each', async (t) => {
  const area = makeArea(t, {
    config: CONFIG,
    tests: {
      ok: step('true'),
    },
  });
  const cases: Array<[string[], number, RegExp[]]> = [
    [['agent', '--slots', '0'], 2, [/--slots 0: expected a whole number of 1 or more/]],
    [['agent', '--tags', 'a b'], 2, [/--tags 'a b' is not letters, digits/]],
    [['agent', '--name', 'a:b'], 2, [/--name 'a:b' is not letters/]],
    [['agent', '--direct'], 2, [/an agent works through the run area's server, which --direct bypasses/]],
    [['agent', 'stop'], 2, [/agent stop: which agent\?/]],
    [['agent', 'stop', 'nosuch'], 4, [/no agent named nosuch in this run area/, /known: none/]],
    [['run', '-t', 'linux/x86_64', '-r', 'x', '--on', 'a b'], 2, [/--on 'a b' is not letters/]],
    [
      ['run', '-t', 'linux/x86_64', '-r', 'x', '--on', 'gpu', '--launcher', 'local'],
      2,
      [/--on places tests on agents, but the launcher is 'local'/],
    ],
    [['run', '-t', 'linux/x86_64', '-r', 'x', '--launcher', 'agents now'], 3, [/the agents launcher takes no words/]],
  ];
  for (const [args, code, patterns] of cases) {
    const res = await trellis(t, area, args);
    assertUserError(t, res, code, ...patterns);
  }
  fs.mkdirSync(path.join(area, 'tests', 'badtag'));
  fs.writeFileSync(path.join(area, 'tests', 'badtag', 'testconfig'), `[requirements]\ntags gpu,no/slash\n${step('true')}`);
  const badTag = await trellis(t, area, ['run', '-t', 'linux/x86_64', '-r', 'x', '--launcher', 'agents', '-p', 'badtag']);
  assertUserError(t, badTag, 3, /badtag\/testconfig:2: \[requirements\] tags: 'no\/slash' is not letters/);
  fs.rmSync(path.join(area, 'tests', 'badtag'), { recursive: true });
  fs.appendFileSync(path.join(area, 'trellis.config'), '\n[agents]\nrequeue often\n');
  const bad = await trellis(t, area, ['run', '-t', 'linux/x86_64', '-r', 'x', '--launcher', 'agents', '-p', 'ok']);
  assertUserError(t, bad, 3, /trellis\.config:\d+: \[agents\] requeue 'often' is not a count/);
});

t.test('an agent whose user cannot read the area token is refused in one line', async (t) => {
  const area = makeArea(t, { config: CONFIG, tests: { ok: step('true') } });
  // The run area exists (and its token, 0600 to its owner) once a command has used it.
  t.equal((await trellis(t, area, ['hosts'])).code, 0);
  const runArea = path.join(area, 'runs');
  // Others may reach the area and the run area's folder, not what is in .meta.
  for (let d = area; d !== path.dirname(d); d = path.dirname(d)) fs.chmodSync(d, fs.statSync(d).mode | 0o005);
  fs.chmodSync(runArea, 0o755);
  const { users } = makeUsers(t, ['agt']);
  const res = await runAs(users['agt']!, readableInstall(t), ['agent', '--runarea', runArea], '/');
  assertUserError(t, res, 6, /cannot read .*\.meta\/token: EACCES/, /you need read access to the run area/);
});
