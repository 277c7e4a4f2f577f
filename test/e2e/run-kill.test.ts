/**
 * Stopping tests through the built CLI: runtimelim kills the whole process group (TERM, then
 * KILL), Ctrl-C on the runner stops and marks its tests, and a runner killed with -9 leaves
 * tests that are found INCOMPLETE/DEAD and rerun by the next `trellis run`.
 */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { KILL_GRACE_MS } from '../../src/runner/step-process.js';
import { makeArea } from '../helpers/area.js';
import {
  groupMembers,
  isAlive,
  killGroupOnTeardown,
  listTests,
  readPidFile,
  run,
  startRun,
  statesOf,
  TARGET,
  trellis,
  waitUntil,
  workDir,
} from '../helpers/run-e2e.js';
import type { CliProcess } from '../helpers/cli.js';
import { findPacketFiles } from '../helpers/servers.js';

/** A step that starts a background sleep, writes both pids to the area and waits. */
const SPAWNER = 'sleep 1000 & echo $! > "$MT_RUN_AREA_HOME/$MT_TEST_NAME.child"; echo $$ > "$MT_RUN_AREA_HOME/$MT_TEST_NAME.pid"; wait';

t.test('runtimelim kills the whole process group: KILLED/TIMED_OUT, the child gone', async (t) => {
  const area = makeArea(t, {
    tests: {
      slow: `[requirements]\nruntimelim 1s\n\n[ezsteps]\nhang  ${SPAWNER}\nnever  touch "$MT_RUN_AREA_HOME/next-step"\n`,
      quick: '[ezsteps]\nrun  true\n',
    },
  });
  let pgid: number | undefined;
  killGroupOnTeardown(t, () => pgid);
  const res = await run(t, area, 'r');
  pgid = Number(fs.readFileSync(path.join(area, 'slow.pid'), 'utf8'));
  const child = Number(fs.readFileSync(path.join(area, 'slow.child'), 'utf8'));
  t.equal(res.code, 1, 'exit 1', { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { slow: 'KILLED/TIMED_OUT', quick: 'COMPLETED/PASS' });
  t.match(rows.get('slow')!.comment, /runtime limit of 1s/);
  t.equal(isAlive(child), false, `background child ${child} is gone`);
  t.same(groupMembers(pgid), [], 'the step process group is empty');
  t.notOk(fs.existsSync(path.join(area, 'next-step')), 'no later step ran');
  t.ok(fs.existsSync(path.join(workDir(area, 'r', 'slow'), 'hang.log')));
  t.match(res.stdout, /TIMED_OUT\s+slow/);
});

t.test('runtimelim: a step that ignores TERM gets KILL', async (t) => {
  const area = makeArea(t, {
    tests: { stubborn: `[requirements]\nruntimelim 1\n\n[ezsteps]\nhang  trap '' TERM; ${SPAWNER}\n` },
  });
  let pgid: number | undefined;
  killGroupOnTeardown(t, () => pgid);
  const res = await run(t, area, 'r');
  pgid = Number(fs.readFileSync(path.join(area, 'stubborn.pid'), 'utf8'));
  const child = Number(fs.readFileSync(path.join(area, 'stubborn.child'), 'utf8'));
  t.equal(res.code, 1, 'exit 1', { output: res.stdout + res.stderr });
  t.same(statesOf(await listTests(t, area, 'r')), { stubborn: 'KILLED/TIMED_OUT' });
  t.equal(isAlive(child), false);
  t.same(groupMembers(pgid), []);
});

t.test('Ctrl-C: exit 130, the running test KILLED/ABORT with its group gone, queued tests NOT_STARTED', async (t) => {
  const area = makeArea(t, {
    tests: {
      long: `[requirements]\npriority 10\n\n[ezsteps]\nhang  ${SPAWNER}\n`,
      q1: '[ezsteps]\nrun  touch "$MT_RUN_AREA_HOME/q1-ran"\n',
      q2: '[ezsteps]\nrun  touch "$MT_RUN_AREA_HOME/q2-ran"\n',
    },
  });
  let pgid: number | undefined;
  killGroupOnTeardown(t, () => pgid);
  const proc = startRun(t, area, 'r', ['-j', '1']);
  pgid = await readPidFile(path.join(area, 'long.pid'), proc);
  const child = await readPidFile(path.join(area, 'long.child'), proc);
  t.ok(isAlive(child), 'the step runs');
  proc.child.kill('SIGINT');
  const res = await proc.done;
  t.equal(res.code, 130, 'exit 130', { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { long: 'KILLED/ABORT', q1: 'NOT_STARTED/n/a', q2: 'NOT_STARTED/n/a' });
  t.match(rows.get('long')!.comment, /interrupted/);
  t.equal(isAlive(child), false);
  t.same(groupMembers(pgid), []);
  t.notOk(fs.existsSync(path.join(area, 'q1-ran')));
  t.notOk(fs.existsSync(workDir(area, 'r', 'q1')));
  // a rerun picks up what was stopped and what never started
  fs.writeFileSync(path.join(area, 'tests', 'long', 'testconfig'), '[ezsteps]\nrun  true\n');
  const again = await run(t, area, 'r');
  t.equal(again.code, 0, 'exit 0', { output: again.stdout + again.stderr });
  t.same(statesOf(await listTests(t, area, 'r')), { long: 'COMPLETED/PASS', q1: 'COMPLETED/PASS', q2: 'COMPLETED/PASS' });
});

t.test('Ctrl-C: tests waiting on the stopped test stay NOT_STARTED, not PREQ_FAIL', async (t) => {
  const area = makeArea(t, {
    tests: {
      long: `[ezsteps]\nhang  ${SPAWNER}\n`,
      after: '[requirements]\nwaiton long\n\n[ezsteps]\nrun  true\n',
      lazy: '[requirements]\nwaiton long\n\n[items]\nX [system echo p q]\n\n[ezsteps]\nrun  true\n',
    },
  });
  let pgid: number | undefined;
  killGroupOnTeardown(t, () => pgid);
  const proc = startRun(t, area, 'r');
  pgid = await readPidFile(path.join(area, 'long.pid'), proc);
  proc.child.kill('SIGINT');
  const res = await proc.done;
  t.equal(res.code, 130, 'exit 130', { output: res.stdout + res.stderr });
  t.same(statesOf(await listTests(t, area, 'r')), { long: 'KILLED/ABORT', after: 'NOT_STARTED/n/a', lazy: 'NOT_STARTED/n/a' });
  t.notMatch(res.stdout, /PREQ_FAIL\s+(after|lazy)/);
});

t.test('Ctrl-C twice: KILL at once, without waiting out the grace period, when the step ignores TERM', async (t) => {
  // the background child ignores TERM; the shell notes each TERM in a file and keeps waiting
  const stubborn = `trap '' TERM; ${SPAWNER.replace('; wait', '')}; trap 'echo term >> "$MT_RUN_AREA_HOME/term"' TERM; while :; do wait; done`;
  const area = makeArea(t, { tests: { long: `[ezsteps]\nhang  ${stubborn}\n` } });
  let pgid: number | undefined;
  killGroupOnTeardown(t, () => pgid);
  const proc = startRun(t, area, 'r');
  pgid = await readPidFile(path.join(area, 'long.pid'), proc);
  const child = await readPidFile(path.join(area, 'long.child'), proc);
  const t0 = Date.now();
  proc.child.kill('SIGINT');
  // the first Ctrl-C has sent TERM (the step shrugs it off); now the second one
  await waitUntil(() => fs.existsSync(path.join(area, 'term')), 'the step to see TERM', 60_000, proc);
  t.ok(isAlive(child), 'TERM alone did not end it');
  proc.child.kill('SIGINT');
  const res = await proc.done;
  t.ok(Date.now() - t0 < KILL_GRACE_MS, 'ended before the TERM-to-KILL grace period was over');
  t.equal(res.code, 130, 'exit 130', { output: res.stdout + res.stderr });
  t.same(statesOf(await listTests(t, area, 'r')), { long: 'KILLED/ABORT' });
  t.equal(isAlive(child), false);
  t.same(groupMembers(pgid), []);
});

t.test('kill -9 of the runner: the running test is INCOMPLETE/DEAD and its orphaned step ended, the next run reruns it', async (t) => {
  const hang = `if [ -e "$MT_RUN_AREA_HOME/second" ]; then exit 0; fi; ${SPAWNER}`;
  const area = makeArea(t, {
    tests: {
      done: '[requirements]\npriority 10\n\n[ezsteps]\nrun  echo x >> "$MT_RUN_AREA_HOME/done-count"\n',
      long: `[requirements]\nwaiton done\n\n[ezsteps]\nhang  ${hang}\n`,
      queued: '[requirements]\nwaiton long\n\n[ezsteps]\nrun  true\n',
    },
  });
  let pgid: number | undefined;
  killGroupOnTeardown(t, () => pgid);
  const proc = startRun(t, area, 'r');
  pgid = await readPidFile(path.join(area, 'long.pid'), proc);
  const child = await readPidFile(path.join(area, 'long.child'), proc);
  proc.child.kill('SIGKILL');
  const res = await proc.done;
  t.equal(res.signal, 'SIGKILL');
  // the orphaned step still runs until someone finds its runner dead
  t.ok(isAlive(child));
  const rows = await listTests(t, area, 'r');
  // `done` ended before `long` could start: its end was recorded first (design §6)
  t.same(statesOf(rows), { done: 'COMPLETED/PASS', long: 'INCOMPLETE/DEAD', queued: 'NOT_STARTED/n/a' });
  // the reaper (in the server, on this host) ended the step's whole process group
  await waitUntil(() => groupMembers(pgid!).length === 0, `group ${pgid} ended by the reaper`);
  t.equal(isAlive(child), false, 'the background child went with it');

  fs.writeFileSync(path.join(area, 'second'), '');
  const again = await run(t, area, 'r');
  t.equal(again.code, 0, 'exit 0', { output: again.stdout + again.stderr });
  t.same(statesOf(await listTests(t, area, 'r')), { done: 'COMPLETED/PASS', long: 'COMPLETED/PASS', queued: 'COMPLETED/PASS' });
  t.equal(fs.readFileSync(path.join(area, 'done-count'), 'utf8'), 'x\n', 'the test that passed was not rerun');
});

/** True while a request waits unread on a connection to `port` (its socket's receive queue, /proc/net/tcp). */
function requestWaiting(port: number): boolean {
  const local = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, address, , state, queues] = line.trim().split(/\s+/);
      // 01: established; the queues are `tx:rx` in hex
      if (address?.endsWith(local) && state === '01' && Number.parseInt(queues?.split(':')[1] ?? '0', 16) > 0) return true;
    }
  }
  return false;
}

/**
 * A run of `first` then `second` (-j 1) whose server is stopped (SIGSTOP) while `first` runs. Its
 * first step's end goes out as a batch the server cannot answer (seen waiting in the server's
 * socket), so what the runner queues after it stays in the runner: `first`'s end and `second`'s
 * LAUNCHED. `second`'s step starts anyway: its launch is in the runner's journal. The runner is
 * killed -9 once `ready` says so; then the server goes on. Returns the area and `second`'s group.
 */
async function killBeforeLaunchLands(
  t: Test,
  secondStep: string,
  ready: (area: string, proc: CliProcess) => Promise<number>,
): Promise<{ area: string; pgid: number }> {
  const waitFor = (name: string) => `while [ ! -e "$MT_RUN_AREA_HOME/${name}" ]; do sleep 0.05; done`;
  const area = makeArea(t, {
    tests: {
      first: `[requirements]\npriority 10\n\n[ezsteps]\nwait  echo $$ > "$MT_RUN_AREA_HOME/first.pid"; ${waitFor('go')}\nlast  ${waitFor('go2')}\n`,
      second: `[ezsteps]\nhang  ${secondStep}\n`,
    },
  });
  let pgid: number | undefined;
  killGroupOnTeardown(t, () => pgid);
  const proc = startRun(t, area, 'r', ['-j', '1']);
  await readPidFile(path.join(area, 'first.pid'), proc);
  const packets = findPacketFiles(area);
  t.equal(packets.length, 1, 'the runner uses one server');
  const { pid: server, port } = JSON.parse(fs.readFileSync(packets[0]!, 'utf8')) as { pid: number; port: number };
  const resume = () => {
    try {
      process.kill(server, 'SIGCONT');
    } catch {
      // gone already
    }
  };
  t.teardown(resume);
  process.kill(server, 'SIGSTOP');
  fs.writeFileSync(path.join(area, 'go'), '');
  await waitUntil(() => requestWaiting(port), 'the end of the first step to wait in the stopped server', 60_000, proc);
  fs.writeFileSync(path.join(area, 'go2'), '');
  pgid = await ready(area, proc);
  proc.child.kill('SIGKILL');
  t.equal((await proc.done).signal, 'SIGKILL');
  resume();
  return { area, pgid };
}

t.test(
  'kill -9 of the runner before a launch reached the store: its running step is found and ended, the next run reruns it',
  async (t) => {
    const hang = `if [ -e "$MT_RUN_AREA_HOME/again" ]; then exit 0; fi; ${SPAWNER}`;
    let child = 0;
    const { area, pgid } = await killBeforeLaunchLands(t, hang, async (area, proc) => {
      const pid = await readPidFile(path.join(area, 'second.pid'), proc);
      child = await readPidFile(path.join(area, 'second.child'), proc);
      return pid;
    });
    const rows = await listTests(t, area, 'r');
    t.same(statesOf(rows), { first: 'COMPLETED/PASS', second: 'INCOMPLETE/DEAD' }, 'first recovered from its exit file, second dead');
    await waitUntil(() => groupMembers(pgid).length === 0, `group ${pgid} ended by the reaper`);
    t.equal(isAlive(child), false, 'the background child went with it');
    fs.writeFileSync(path.join(area, 'again'), '');
    const again = await run(t, area, 'r');
    t.equal(again.code, 0, 'exit 0', { output: again.stdout + again.stderr });
    t.same(statesOf(await listTests(t, area, 'r')), { first: 'COMPLETED/PASS', second: 'COMPLETED/PASS' });
  },
);

t.test('kill -9 of the runner before a launch reached the store: a step that ended is recovered, never run again', async (t) => {
  const step = 'echo $$ > "$MT_RUN_AREA_HOME/second.pid"; echo x >> "$MT_RUN_AREA_HOME/second-count"; exit 2';
  const { area } = await killBeforeLaunchLands(t, step, async (area, proc) => {
    const pid = await readPidFile(path.join(area, 'second.pid'), proc);
    const exitFile = path.join(workDir(area, 'r', 'second'), 'hang.exit');
    await waitUntil(() => fs.existsSync(exitFile) && fs.readFileSync(exitFile, 'utf8') === '2\n', 'the step to end', 60_000, proc);
    return pid;
  });
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { first: 'COMPLETED/PASS', second: 'COMPLETED/WARN' }, 'both recovered from their exit files');
  t.match(rows.get('second')!.comment, /recovered from the exit files/);
  const again = await run(t, area, 'r');
  t.equal(again.code, 0, 'exit 0', { output: again.stdout + again.stderr });
  t.same(statesOf(await listTests(t, area, 'r')), { first: 'COMPLETED/PASS', second: 'COMPLETED/WARN' });
  t.equal(fs.readFileSync(path.join(area, 'second-count'), 'utf8'), 'x\n', 'the step ran once');
});

t.test('kill -9 of the runner, then its last step ends: the reaper records it from the exit file, the next run keeps it', async (t) => {
  // The step waits for `go`, which the test creates after the runner is gone.
  const step =
    'echo $$ > "$MT_RUN_AREA_HOME/slow.pid"; while [ ! -e "$MT_RUN_AREA_HOME/go" ]; do sleep 0.05; done; echo x >> "$MT_RUN_AREA_HOME/slow-count"; exit 2';
  const area = makeArea(t, {
    tests: {
      slow: `[ezsteps]\nfirst  true\nlast  ${step}\n`,
      after: '[requirements]\nwaiton slow\n\n[ezsteps]\nrun  true\n',
    },
  });
  let pgid: number | undefined;
  killGroupOnTeardown(t, () => pgid);
  const proc = startRun(t, area, 'r');
  pgid = await readPidFile(path.join(area, 'slow.pid'), proc);
  proc.child.kill('SIGKILL');
  t.equal((await proc.done).signal, 'SIGKILL');
  fs.writeFileSync(path.join(area, 'go'), '');
  const exitFile = path.join(workDir(area, 'r', 'slow'), 'last.exit');
  await waitUntil(() => fs.existsSync(exitFile) && fs.readFileSync(exitFile, 'utf8') === '2\n', 'the step to end and write its exit file');
  await waitUntil(() => groupMembers(pgid!).length === 0, 'the step shell to exit');
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { slow: 'COMPLETED/WARN', after: 'NOT_STARTED/n/a' }, 'exit 2 is WARN, recovered instead of DEAD');
  t.match(rows.get('slow')!.comment, /recovered from the exit files/);
  const shown = await trellis(t, area, ['show', 'slow', '-t', TARGET, '-r', 'r']);
  t.match(shown.stdout, /last\s+COMPLETED\s+WARN\s+2/, 'the step is recorded with its exit code');
  const again = await run(t, area, 'r');
  t.equal(again.code, 0, 'exit 0', { output: again.stdout + again.stderr });
  t.same(statesOf(await listTests(t, area, 'r')), { slow: 'COMPLETED/WARN', after: 'COMPLETED/PASS' });
  t.equal(fs.readFileSync(path.join(area, 'slow-count'), 'utf8'), 'x\n', 'the recovered test was not run again');
});
