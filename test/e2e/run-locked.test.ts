/**
 * Locked runs through the built CLI: lock refused while a runner is live; every write path refused
 * on a locked run in one line (run, set-state-status, remove, kill, the in-test helpers); --force
 * writes, keeps the lock, and each forced write is in `trellis log` with user@host and time.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ExitCode } from '../../src/util/errors.js';
import { makeArea } from '../helpers/area.js';
import { runCli } from '../helpers/cli.js';
import { assertUserError, dump, parseJson } from '../helpers/e2e.js';
import { listTests, startRun, statesOf, trellis, waitUntil, TARGET } from '../helpers/run-e2e.js';
import type { Row, RunRow } from './commands-fixture.js';

const R = ['-t', TARGET, '-r', 'r'];
/** `hold.sh NAME`: touches started-NAME, then waits for release-NAME (or for the area to go). */
const HOLD =
  '#!/bin/sh\nH="$MT_RUN_AREA_HOME"\ntouch "$H/started-$1"\nwhile [ -d "$H" ] && [ ! -e "$H/release-$1" ]; do sleep 0.05; done\n';
const LOCKED = /run linux\/x86_64\/r is locked \(by \S+@\S+ at \d{4}-\d\d-\d\dT[\d:]+Z\)/;
const WHAT_TO_DO = /trellis unlock -t linux\/x86_64 -r r.*--force/;

interface LogRow {
  seq: number;
  time: string;
  kind: string;
  detail: string;
  who: string;
  test: string | null;
}

function lockedArea(t: Parameters<typeof makeArea>[0]) {
  const area = makeArea(t, {
    tests: {
      a: '[ezsteps]\nx true\n',
      // Reports on itself: the helpers write to the run, so they too meet the lock.
      h: '[ezsteps]\nx trellis test-status --status WARN -m "said so" && trellis set-value v 1 --expected 1 && trellis step extra --state end --status PASS\n',
      slow: '[ezsteps]\nhold  "$MT_RUN_AREA_HOME/hold.sh" "$MT_RUNNAME"\n',
    },
    files: { 'hold.sh': HOLD },
  });
  const cli = (args: string[], env?: Record<string, string>) => trellis(t, area, args, env ? { env } : {});
  const runRow = async () => parseJson<RunRow[]>(await cli(['list', 'runs', '--json'])).find((r) => r.runname === 'r')!;
  return { area, cli, runRow };
}

t.test('lock: refused while a runner is live; shown by list runs; a second lock keeps the first', async (t) => {
  const { area, cli, runRow } = lockedArea(t);
  const proc = startRun(t, area, 'r');
  await waitUntil(() => fs.existsSync(path.join(area, 'started-r')), 'slow to start', 60_000, proc);
  assertUserError(
    t,
    await cli(['lock', ...R]),
    ExitCode.conflict,
    /run linux\/x86_64\/r is being run by pid \d+/,
    /wait for it to end|trellis kill/,
  );
  fs.writeFileSync(path.join(area, 'release-r'), '');
  const res = await proc.done;
  t.equal(res.code, 0, dump(res));

  const lock = await cli(['lock', ...R]);
  t.equal(lock.code, 0, dump(lock));
  t.match(lock.stdout, /^Locked linux\/x86_64\/r \(by \S+@\S+\)/);
  t.match(await runRow(), { state: 'locked', lockedBy: /^\S+@\S+$/, status: 'WARN' });
  t.match((await cli(['list', 'runs'])).stdout, /linux\/x86_64\s+r\s+locked\s+WARN/);
  const again = await cli(['lock', ...R], { USER: 'someone-else' });
  t.equal(again.code, 0, dump(again));
  t.match(again.stdout, /already locked \(by (?!someone-else)\S+@\S+ at /);
});

t.test('a locked run refuses every write in one line; nothing changes', async (t) => {
  const { area, cli } = lockedArea(t);
  t.equal((await cli(['run', ...R, '-p', 'a,h'])).code, 0);
  t.equal((await cli(['lock', ...R])).code, 0);
  const before = statesOf(await listTests(t, area, 'r'));

  for (const args of [
    ['run', ...R, '-p', 'a,h', '--rerun-all'],
    ['run', ...R, '-p', 'slow'],
    ['set-state-status', 'COMPLETED,FAIL', ...R, '-p', 'a'],
    ['remove', ...R],
    ['remove', ...R, '-p', 'a'],
  ]) {
    assertUserError(t, await cli(args), ExitCode.conflict, LOCKED, WHAT_TO_DO);
  }
  t.ok(fs.existsSync(path.join(area, 'runs', 'linux', 'x86_64', 'r', 'a')), 'remove -p left the work folder');
  const kill = await cli(['kill', ...R]);
  t.equal(kill.code, 0, 'kill without a live runner writes nothing');
  t.match(kill.stdout, /Nothing to kill/);

  // The in-test helpers of a test of this run (as a test's own step would call them).
  const run = parseJson<RunRow[]>(await cli(['list', 'runs', '--json']))[0]!;
  const h = parseJson<Row[]>(await cli(['list', 'tests', ...R, '--json'])).find((r) => r.testname === 'h') as Row & { id: number };
  const env = {
    TRELLIS_RUN_AREA: path.join(area, 'runs'),
    TRELLIS_RUN_ID: String(run.id),
    TRELLIS_TEST_ID: String(h.id),
    TRELLIS_AREA: area,
  };
  for (const args of [
    ['test-status', '--status', 'FAIL'],
    ['set-value', 'v', '2'],
    ['step', 's', '--state', 'start'],
  ]) {
    assertUserError(t, await runCli(t, args, { cwd: area, env }), ExitCode.conflict, LOCKED, WHAT_TO_DO);
  }
  t.same(statesOf(await listTests(t, area, 'r')), before, 'nothing changed');

  const forced = await runCli(t, ['test-status', '--status', 'FAIL', '--force'], { cwd: area, env });
  t.equal(forced.code, 0, dump(forced));
  t.match(statesOf(await listTests(t, area, 'r')), { h: 'COMPLETED/FAIL' }, 'a helper with --force writes');
});

t.test('--force writes, keeps the lock, and trellis log shows each forced write with who and when', async (t) => {
  const { area, cli, runRow } = lockedArea(t);
  t.equal((await cli(['run', ...R, '-p', 'a,h'])).code, 0);
  t.equal((await cli(['lock', ...R])).code, 0);

  // A forced run: its tests' helpers write too (the run hands them TRELLIS_FORCE).
  const rerun = await cli(['run', ...R, '-p', 'a,h', '--rerun-all', '--force']);
  t.equal(rerun.code, 0, dump(rerun));
  t.match(statesOf(await listTests(t, area, 'r')), { a: 'COMPLETED/PASS', h: 'COMPLETED/WARN' });
  t.match(await runRow(), { state: 'locked' }, 'still locked');

  // A forced run with a live test: kill needs --force too.
  const proc = startRun(t, area, 'r', ['-p', 'slow', '--force']);
  await waitUntil(() => fs.existsSync(path.join(area, 'started-r')), 'slow to start', 60_000, proc);
  assertUserError(t, await cli(['kill', ...R, '-p', 'slow']), ExitCode.conflict, LOCKED, WHAT_TO_DO);
  const kill = await cli(['kill', ...R, '-p', 'slow', '--force']);
  t.equal(kill.code, 0, dump(kill));
  const res = await proc.done;
  t.equal(res.code, ExitCode.testsFailed, dump(res));
  t.match(statesOf(await listTests(t, area, 'r')), { slow: 'KILLED/ABORT' });

  const set = await cli(['set-state-status', 'COMPLETED,WAIVED', ...R, '-p', 'slow', '--force']);
  t.equal(set.code, 0, dump(set));
  const rm = await cli(['remove', ...R, '-p', 'a', '--force']);
  t.equal(rm.code, 0, dump(rm));
  t.match(
    await runRow(),
    { state: 'locked', status: 'WARN', counts: { WAIVED: 1, WARN: 1 } },
    'the summary follows, the state stays locked',
  );

  const log = parseJson<LogRow[]>(await cli(['log', ...R, '--json']));
  const forced = log.filter((e) => e.kind === 'forced');
  t.ok(forced.length >= 6, `forced writes logged (${forced.length})`);
  for (const e of forced) {
    t.match(e, {
      who: /^\S+@\S+$/,
      detail: /^(write|registration|removal) of \d+ .* while locked by \S+@\S+ at /,
      time: /^\d{4}-\d\d-\d\dT/,
    });
  }
  t.match(forced[forced.length - 1], { detail: /^removal of 1 test\(s\)/ }, 'the last: remove -p a');
  t.match(
    log.filter((e) => e.kind === 'lock'),
    [{ detail: 'locked (was done)', who: /@/ }],
  );
  t.notOk(
    log.some((e) => e.kind === 'run' && log.indexOf(e) > log.findIndex((x) => x.kind === 'lock')),
    'no run state change while locked',
  );

  const text = await cli(['log', ...R]);
  t.equal(text.code, 0, dump(text));
  t.match(text.stdout, /^linux\/x86_64 r: locked \(locked by \S+@\S+ at [-\d: ]+\), WARN; created /);
  t.match(text.stdout, /\n\d{4}-\d\d-\d\d [\d:]+ +lock +\S+@\S+ +locked \(was done\)\n/);
  t.match(text.stdout, /forced +\S+@\S+ +registration of \d+ test\(s\) while locked .*\(and \d+ more forced writes until /);
  t.match(text.stdout, /forced +\S+@\S+ +removal of 1 test\(s\) while locked/);
  t.notMatch(text.stdout, /\bstate\b/, 'no test state changes without --all');

  const all = parseJson<LogRow[]>(await cli(['log', ...R, '--all', '--json']));
  t.ok(
    all.some((e) => e.kind === 'state' && e.test === 'slow' && e.detail === 'KILLED/ABORT'),
    'with --all: state changes, by test name',
  );
  t.ok(
    all.some((e) => e.kind === 'removed' && e.test === 'a'),
    'and removals, named though the row is gone',
  );
  t.same(
    parseJson<LogRow[]>(await cli(['log', ...R, '--kind', 'lock,unlock', '--json'])).map((e) => e.kind),
    ['lock'],
  );
  assertUserError(t, await cli(['log', ...R, '--kind', 'bogus']), ExitCode.usage, /'bogus' is not a kind/, /forced/);

  const unlock = await cli(['unlock', ...R]);
  t.match(unlock.stdout, /^Unlocked linux\/x86_64\/r \(now done\)/);
  t.match(await runRow(), { state: 'done', lockedBy: null });
  t.match(parseJson<LogRow[]>(await cli(['log', ...R, '--kind', 'unlock', '--json'])), [{ detail: 'unlocked (now done)', who: /@/ }]);
  t.match((await cli(['unlock', ...R])).stdout, /is not locked \(it is done\)/);
});

t.test('remove --force of a whole locked run says whose lock it overrode', async (t) => {
  const { cli } = lockedArea(t);
  t.equal((await cli(['run', ...R, '-p', 'a'])).code, 0);
  t.equal((await cli(['lock', ...R])).code, 0);
  const rm = await cli(['remove', ...R, '--force']);
  t.equal(rm.code, 0, dump(rm));
  t.match(rm.stdout, /Removed run linux\/x86_64\/r .*\nIt was locked by \S+@\S+ at [-\d: ]+; removed with --force by \S+@\S+\n/);
  t.same(parseJson<RunRow[]>(await cli(['list', 'runs', '--json'])), []);
});
