/**
 * A run's state through the built CLI (`list runs --json`, `trellis log`): new before anything
 * launches, running while tests run and between launches, done when the last ends — after a rerun
 * of some tests, a kill, Ctrl-C with tests still queued, and a runner killed with -9.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ExitCode } from '../../src/util/errors.js';
import { makeArea } from '../helpers/area.js';
import { dump, parseJson } from '../helpers/e2e.js';
import { listTests, startRun, statesOf, trellis, waitUntil, TARGET } from '../helpers/run-e2e.js';
import type { RunRow } from './commands-fixture.js';

/** `hold.sh NAME`: touches started-NAME, then waits for release-NAME (or for the area to go). */
const HOLD =
  '#!/bin/sh\nH="$MT_RUN_AREA_HOME"\ntouch "$H/started-$1"\nwhile [ -d "$H" ] && [ ! -e "$H/release-$1" ]; do sleep 0.05; done\n';
/** `gate.sh`, the lazy items command: touches planning, waits for go, then names items 1 and 2. */
const GATE =
  '#!/bin/sh\nH="$MT_RUN_AREA_HOME"\ntouch "$H/planning"\nwhile [ -d "$H" ] && [ ! -e "$H/go" ]; do sleep 0.05; done\necho 1 2\n';

interface LogRow {
  kind: string;
  detail: string;
  who: string;
  test: string | null;
}

t.test('new, running, done: first run, rerun, kill, Ctrl-C, kill -9', async (t) => {
  const area = makeArea(t, {
    tests: { t: '[items]\nN [system "$MT_RUN_AREA_HOME/gate.sh"]\n\n[ezsteps]\nhold  "$MT_RUN_AREA_HOME/hold.sh" t$N\n' },
    files: { 'gate.sh': GATE, 'hold.sh': HOLD },
  });
  const file = (name: string) => path.join(area, name);
  const touch = (name: string) => fs.writeFileSync(file(name), '');
  const clear = (...names: string[]) => {
    for (const n of names) fs.rmSync(file(n), { force: true });
  };
  const runOf = async (): Promise<RunRow> => {
    const r = await trellis(t, area, ['list', 'runs', '--json']);
    const run = parseJson<RunRow[]>(r).find((x) => x.runname === 'r');
    if (run === undefined) throw new Error(`no run r\n${dump(r)}`);
    return run;
  };
  /** Polls `list tests` until `pred` holds for the rows (each poll is a whole CLI call). */
  const rowsWhen = async (pred: (s: Record<string, string>) => boolean, what: string) => {
    const deadline = Date.now() + 20000;
    for (;;) {
      const s = statesOf(await listTests(t, area, 'r'));
      if (pred(s)) return s;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
    }
  };

  // First run: the items are known only when gate.sh says go, so nothing can launch before.
  let proc = startRun(t, area, 'r');
  await waitUntil(() => fs.existsSync(file('planning')), 'the lazy items command', 60_000, proc);
  t.match(await runOf(), { state: 'new', status: 'n/a' }, 'new: created and registered, nothing launched');
  touch('go');
  await waitUntil(() => fs.existsSync(file('started-t1')) && fs.existsSync(file('started-t2')), 'both items', 60_000, proc);
  t.match(await runOf(), { state: 'running' }, 'running while tests run');
  touch('release-t1');
  await rowsWhen((s) => s['t/1'] === 'COMPLETED/PASS', 't/1 to end');
  t.match(await runOf(), { state: 'running' }, 'still running: t/2 runs');
  touch('release-t2');
  let res = await proc.done;
  t.equal(res.code, 0, dump(res));
  t.match(await runOf(), { state: 'done', status: 'PASS' }, 'done when the last ended');

  // A rerun of one item: running again, done again; the other keeps its result.
  clear('started-t1', 'release-t1');
  proc = startRun(t, area, 'r', ['-p', 't/1', '--rerun-all']);
  await waitUntil(() => fs.existsSync(file('started-t1')), 'the rerun item', 60_000, proc);
  t.match(await runOf(), { state: 'running' }, 'a rerun: running');
  touch('release-t1');
  res = await proc.done;
  t.equal(res.code, 0, dump(res));
  t.match(await runOf(), { state: 'done', status: 'PASS' }, 'a rerun: done');

  // A kill: the killed item ends KILLED/ABORT and the run is done.
  clear('started-t2', 'release-t2');
  proc = startRun(t, area, 'r', ['-p', 't/2', '--rerun-all']);
  await waitUntil(() => fs.existsSync(file('started-t2')), 'the item to kill', 60_000, proc);
  const kill = await trellis(t, area, ['kill', '-t', TARGET, '-r', 'r', '-p', 't/2']);
  t.equal(kill.code, 0, dump(kill));
  res = await proc.done;
  t.equal(res.code, ExitCode.testsFailed, dump(res));
  t.match(await runOf(), { state: 'done', status: 'ABORT' }, 'a kill: done');

  // Ctrl-C with one item running and the other queued (-j 1): done, the queued one never ran.
  clear('started-t1', 'release-t1', 'started-t2', 'release-t2');
  const reset = await trellis(t, area, ['set-state-status', 'NOT_STARTED,n/a', '-t', TARGET, '-r', 'r', '-p', 't']);
  t.equal(reset.code, 0, dump(reset));
  proc = startRun(t, area, 'r', ['-j', '1']);
  await waitUntil(() => fs.existsSync(file('started-t1')) || fs.existsSync(file('started-t2')), 'one item', 60_000, proc);
  proc.child.kill('SIGINT');
  res = await proc.done;
  t.equal(res.code, ExitCode.interrupted, dump(res));
  const [ran, queued] = fs.existsSync(file('started-t1')) ? ['t/1', 't/2'] : ['t/2', 't/1'];
  t.match(statesOf(await listTests(t, area, 'r')), { [ran]: 'KILLED/ABORT', [queued]: 'NOT_STARTED/n/a' });
  // t shows RUNNING (one item ended, one waits), yet nothing runs: the run is done.
  t.match(await runOf(), { state: 'done' }, 'Ctrl-C: done (the runner is gone), its queued item never ran');

  // kill -9 of the runner with the other item queued: once reaped (list runs does it), done.
  clear('started-t1', 'started-t2');
  proc = startRun(t, area, 'r', ['-p', queued, '-j', '1']);
  await waitUntil(() => fs.existsSync(file(`started-${queued.replace('/', '')}`)), 'the queued item', 60_000, proc);
  proc.child.kill('SIGKILL');
  await proc.done;
  const list = await trellis(t, area, ['list', 'runs']);
  t.match(list.stdout, /linux\/x86_64\s+r\s+done\s/, `list runs shows it done\n${dump(list)}`);
  t.match(list.stderr, /r: 1 tests marked INCOMPLETE\/DEAD; their runner is gone/, dump(list));
  t.match(statesOf(await listTests(t, area, 'r')), { [queued]: 'INCOMPLETE/DEAD', [ran]: 'KILLED/ABORT' });
  touch(`release-${queued.replace('/', '')}`);

  // The log has each change of state, in order, with who; and the runners.
  const log = parseJson<LogRow[]>(await trellis(t, area, ['log', '-t', TARGET, '-r', 'r', '--json']));
  t.same(
    log.filter((e) => e.kind === 'run').map((e) => e.detail),
    ['running', 'done', 'running', 'done', 'running', 'done', 'new', 'running', 'done', 'running', 'done'],
    'five times running, then done (and new when set-state-status made every item NOT_STARTED)',
  );
  // Runs set going by a runner's writes carry its user; done after Ctrl-C or death is the store's own.
  for (const e of log.filter((x) => x.kind === 'run' && x.detail === 'running')) t.match(e.who, /^\S+@\S+$/, 'who: user@host');
  const agents = log.filter((e) => e.kind === 'agent').map((e) => e.detail);
  t.equal(agents.filter((d) => /claimed the run$/.test(d)).length, 5, 'five runners claimed it');
  t.equal(agents.filter((d) => /ended$/.test(d)).length, 4, 'four ended');
  t.match(agents[agents.length - 1], /^runner pid \d+ on host \S+ found dead; it is no longer running$/, 'the fifth was found dead');
  t.notOk(
    log.some((e) => e.kind === 'state'),
    'no test state changes without --all',
  );
});
