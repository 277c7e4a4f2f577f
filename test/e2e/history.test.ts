/**
 * History and monitoring through the built CLI: `history` and `last-success` after two runs (one
 * failing), through the server and --direct; `last-success` of a test that never passed; `check`
 * over jobs recorded with `trellis record` at old times (stale, never, slow, fine); and the
 * one-line errors of bad times and statuses.
 */
import t from 'tap';
import { ExitCode } from '../../src/util/errors.js';
import { makeArea } from '../helpers/area.js';
import { runCli } from '../helpers/cli.js';
import { assertUserError, dump, parseJson } from '../helpers/e2e.js';

interface OutcomeJson {
  test: string;
  kind: string;
  target: string;
  runname: string;
  state: string;
  status: string;
  success: boolean;
  host: string;
  start: string | null;
  duration: number | null;
  comment: string;
}

const X86 = ['-t', 'linux/x86_64'];

t.test('history and last-success after two runs, one failing; through the server and --direct', async (t) => {
  const area = makeArea(t, {
    tests: {
      flip: '[ezsteps]\ncheck test ! -e "$MT_RUN_AREA_HOME/fail-now"\n',
      bad: '[ezsteps]\nboom exit 1\n',
    },
  });
  const cli = (args: string[]) => runCli(t, args, { cwd: area });
  t.equal((await cli(['run', ...X86, '-r', 'first'])).code, ExitCode.testsFailed, 'bad fails');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`${area}/fail-now`, '');
  t.equal((await cli(['run', ...X86, '-r', 'second'])).code, ExitCode.testsFailed);

  for (const mode of [[], ['--direct']]) {
    const text = await cli(['history', 'flip', ...mode]);
    t.equal(text.code, 0, dump(text));
    const lines = text.stdout.trimEnd().split('\n');
    t.match(lines[0], /^STARTED +TARGET +RUN +HOST +TIME +STATUS +COMMENT$/);
    t.match(
      lines[1],
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +linux\/x86_64 +second +\S+ +\d+\.\ds +FAIL +step check exited 1$/,
      `newest first ${mode.join('')}`,
    );
    t.match(lines[2], /linux\/x86_64 +first +\S+ +\d+\.\ds +PASS/);
    t.equal(lines.length, 3);
  }
  const json = parseJson<OutcomeJson[]>(await cli(['history', 'flip', '--json', '-n', '1']));
  t.match(json, [
    {
      test: 'flip',
      kind: 'run',
      target: 'linux/x86_64',
      runname: 'second',
      state: 'COMPLETED',
      status: 'FAIL',
      success: false,
      start: /^\d{4}-/,
      duration: Number,
    },
  ]);
  t.equal(json.length, 1, '-n 1');

  const last = await cli(['last-success', 'flip']);
  t.equal(last.code, 0, dump(last));
  t.match(
    last.stdout,
    /^flip last succeeded at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(.* ago\) on \S+ in run linux\/x86_64 first: PASS in \d+\.\ds\n$/,
  );
  const lastJson = parseJson<{ test: string; lastSuccess: OutcomeJson; latest: OutcomeJson }>(
    await cli(['last-success', 'flip', '--json', '--direct']),
  );
  t.match(lastJson, { test: 'flip', lastSuccess: { runname: 'first', status: 'PASS' }, latest: { runname: 'second', status: 'FAIL' } });

  const never = await cli(['last-success', 'bad']);
  t.equal(never.code, 1, `never succeeded: exit 1\n${dump(never)}`);
  t.match(never.stdout, /^bad has never succeeded; the latest outcome is FAIL at .* in run linux\/x86_64 second\n$/);
  t.equal(never.stderr, '');
  t.match(parseJson(await cli(['last-success', 'bad', '--json'])), { lastSuccess: null, latest: { status: 'FAIL' } });

  assertUserError(t, await cli(['history', 'nosuch']), ExitCode.notFound, /no outcome of nosuch is recorded/);
  assertUserError(
    t,
    await cli(['last-success', 'flip', '-t', 'bsd/%']),
    ExitCode.notFound,
    /no outcome of flip is recorded on targets matching bsd\/%/,
  );
});

t.test('check: stale, never and slow jobs recorded at old times; all fine; names with nothing recorded', async (t) => {
  const area = makeArea(t, { tests: {} });
  const cli = (args: string[]) => runCli(t, args, { cwd: area });
  const now = Math.floor(Date.now() / 1000);
  const h = 3600;
  const record = async (name: string, start: number, seconds: number, status = 'PASS') => {
    const r = await cli(['record', name, '--start', String(start), '--end', String(start + seconds), '--status', status, '--host', 'nas1']);
    t.equal(r.code, 0, dump(r));
  };
  // Ended 71.5 h ago: "2d23h" for the next half hour, however slowly the commands below run.
  await record('stale', now - 71.5 * h - 60, 60);
  await record('never', now - 2 * h, 5, 'FAIL');
  for (const age of [30, 20, 10]) await record('slow', now - age * h, 10);
  await record('slow', now - 1 * h, 200);
  await record('fresh', now - 3 * h, 60);
  const iso = new Date((now - 5 * h) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const r = await cli(['record', 'fresh', '--start', iso, '--end', iso, '-m', 'from cron on nas1', '--direct']);
  t.equal(r.code, 0, dump(r));
  t.match(r.stdout, /^recorded fresh: PASS on \S+, .* to .* \(0\.0s\)\n$/);

  const res = await cli(['check', '--max-age', '26h']);
  t.equal(res.code, 1, dump(res));
  const lines = res.stdout.trimEnd().split('\n');
  t.match(lines[0], /^PROBLEM +TEST +TARGET +DETAIL$/);
  t.match(res.stdout, /^NEVER +never +- +never succeeded in 1 outcome; latest FAIL .* ago on nas1 \(record\)$/m);
  t.match(res.stdout, /^SLOW +slow +- +took 3m20s, 20\.0× the mean of its last 3 successes \(10\.0s\)$/m);
  t.match(res.stdout, /^STALE +stale +- +last success 2d23h ago \(.*\); latest PASS 2d23h ago on nas1 \(record\)$/m);
  t.notMatch(res.stdout, /fresh/);
  t.equal(lines.at(-1), '3 of 4 tests need attention (max age 26h)');

  const json = parseJson<{ ok: boolean; maxAge: number; checked: number; problems: Array<{ problem: string; test: string }> }>(
    await cli(['check', '--max-age', '26h', '--json', '--direct']),
  );
  t.match(json, { ok: false, maxAge: 26 * h, checked: 4 });
  t.same(
    json.problems.map((p) => `${p.problem} ${p.test}`),
    ['never never', 'slow slow', 'stale stale'],
  );

  const fine = await cli(['check', '--max-age', '26h', '-p', 'fresh']);
  t.equal(fine.code, 0, dump(fine));
  t.equal(fine.stdout, 'all 1 test succeeded within 26h\n');
  t.equal((await cli(['check', '--max-age', '4d', '-p', 'fresh,stale'])).code, 0, 'within 4 days');
  t.equal((await cli(['check', '--max-age', '26h', '-p', 'slow', '--slow-factor', '25'])).code, 0, 'not slow at 25×');
  t.equal(
    (await cli(['check', '--max-age', '26h', '-p', 'slow', '--slow-min', '4m'])).code,
    0,
    'not slow when under --slow-min over the mean',
  );

  const ghost = await cli(['check', '--max-age', '26h', '-p', 'fresh,ghost']);
  t.equal(ghost.code, 1, dump(ghost));
  t.match(ghost.stdout, /^NEVER +ghost +- +nothing recorded$/m);
  assertUserError(
    t,
    await cli(['check', '--max-age', '26h', '-p', 'nope%']),
    ExitCode.notFound,
    /nothing to check: no outcome is recorded for tests matching nope%/,
  );
  assertUserError(t, await cli(['check', '--max-age', 'soon']), ExitCode.usage, /--max-age 'soon' is not a duration/, /26h/);
});

t.test('record: bad times, statuses and names are one-line errors, and record nothing', async (t) => {
  const area = makeArea(t, { tests: {} });
  const cli = (args: string[]) => runCli(t, args, { cwd: area });
  const bad: Array<[string[], RegExp]> = [
    [['record', 'job', '--start', '2026-11-23T02:00:00', '--end', '1795400000'], /--start '2026-11-23T02:00:00' has no time zone.*add Z/],
    [['record', 'job', '--start', 'monday', '--end', '1795400000'], /--start 'monday' is not a time/],
    [['record', 'job', '--start', '1795400000', '--end', '2026-13-01T00:00:00Z'], /--end '2026-13-01T00:00:00Z' is not a real date/],
    [['record', 'job', '--start', '1795400000', '--end', '1795399999'], /--end 1795399999 is before --start 1795400000/],
    [['record', 'job', '--start', '1', '--end', '2', '--status', 'GREAT'], /--status 'GREAT' is not a status; use one of PASS, WARN/],
    [['record', 'job', '--start', '1', '--end', '2', '--host', ' '], /--host must not be empty/],
    [['record', 'a b', '--start', '1', '--end', '2'], /job name 'a b' cannot be recorded/],
    [['record', 'job', '--start', '1'], /missing required option --end/],
  ];
  for (const [args, pattern] of bad) assertUserError(t, await cli(args), ExitCode.usage, pattern);
  assertUserError(t, await cli(['history', 'job']), ExitCode.notFound, /no outcome of job/);
});
