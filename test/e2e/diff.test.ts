/**
 * `trellis diff` through the built CLI: two runs of one target, two targets of one run name, the
 * exit code CI gates on (--fail-on), --json, -p, a run still going (pending), missing runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ExitCode } from '../../src/util/errors.js';
import { makeArea } from '../helpers/area.js';
import { runCli } from '../helpers/cli.js';
import { assertUserError, dump, parseJson } from '../helpers/e2e.js';
import { startRun, waitUntil } from '../helpers/run-e2e.js';
import { RUNCONFIGS } from './commands-fixture.js';

interface DiffJson {
  old: { id: number; target: string; runname: string; state: string; status: string };
  new: { id: number; target: string; runname: string; state: string; status: string };
  counts: Record<string, number>;
  failOn: string[];
  failed: boolean;
  tests: Array<{
    testname: string;
    itempath: string;
    class: string;
    old: { state: string; status: string } | null;
    new: { state: string; status: string } | null;
  }>;
}

const X86 = ['-t', 'linux/x86_64'];

/** a passes; b fails on aarch64; c/3 fails on x86_64; flip fails when the file `flip` exists. */
function diffArea(t: Parameters<typeof makeArea>[0]) {
  const area = makeArea(t, {
    runconfigs: RUNCONFIGS,
    tests: {
      a: '[ezsteps]\nx true\n',
      b: '[ezsteps]\nx test "$ARCH" = x86_64\n',
      c: '[items]\nN 1 2 3\n\n[ezsteps]\nx test "$N" != 3 -o "$ARCH" = aarch64\n',
      flip: '[ezsteps]\nx test ! -e "$MT_RUN_AREA_HOME/flip"\n',
      gone: '[ezsteps]\nx true\n',
      added: '[ezsteps]\nx false\n',
      slow: '[ezsteps]\nx touch "$MT_RUN_AREA_HOME/slow-started"; while [ -d "$MT_RUN_AREA_HOME" ] && [ ! -e "$MT_RUN_AREA_HOME/slow-go" ]; do sleep 0.05; done\n',
    },
  });
  const cli = (args: string[]) => runCli(t, args, { cwd: area });
  return { area, cli };
}

t.test('two runs of a target: lists what changed, counts the rest, exits 1 on worse', async (t) => {
  const { area, cli } = diffArea(t);
  t.equal((await cli(['run', ...X86, '-r', 'n1', '-p', 'a,b,c,flip,gone'])).code, ExitCode.testsFailed);
  fs.writeFileSync(path.join(area, 'flip'), '');
  t.equal((await cli(['run', ...X86, '-r', 'n2', '-p', 'a,b,c,flip,added'])).code, ExitCode.testsFailed);

  const r = await cli(['diff', ...X86, '-r', 'n1', '-r', 'n2']);
  t.equal(r.code, ExitCode.testsFailed, `worse: exit 1\n${dump(r)}`);
  t.equal(r.stderr, '');
  t.match(r.stdout, /^old: linux\/x86_64 n1 \(done, FAIL\)\nnew: linux\/x86_64 n2 \(done, FAIL\)\n/);
  t.match(r.stdout, /\nWorse \(1\):\n {2}flip +PASS +-> +FAIL\n/);
  t.match(r.stdout, /\nAppeared \(1\):\n {2}added +- +-> +FAIL\n/);
  t.match(r.stdout, /\nDisappeared \(1\):\n {2}gone +PASS +-> +-\n/);
  t.notMatch(r.stdout, /Better|Same \(/);
  t.match(
    r.stdout,
    /\nworse 1, better 0, appeared 1, disappeared 1, pending 0, same 5\n\(same not listed; --all lists them\)\nFAILED: 1 worse\n$/,
  );

  const all = await cli(['diff', ...X86, '-r', 'n1', '-r', 'n2', '--all']);
  t.match(
    all.stdout,
    /\nSame \(5\):\n {2}a +PASS +-> +PASS\n {2}b +PASS +-> +PASS\n {2}c\/1 +PASS +-> +PASS\n {2}c\/2 .*\n {2}c\/3 +FAIL +-> +FAIL\n/,
    'items one by one, not c itself',
  );

  const back = await cli(['diff', ...X86, '-r', 'n2', '-r', 'n1']);
  t.equal(back.code, 0, `the other way round nothing got worse: exit 0\n${dump(back)}`);
  t.match(back.stdout, /\nBetter \(1\):\n {2}flip +FAIL +-> +PASS\n/);
  t.notMatch(back.stdout, /FAILED/);

  const json = await cli(['diff', ...X86, '-r', 'n1', '-r', 'n2', '--json']);
  t.equal(json.code, ExitCode.testsFailed);
  const d = parseJson<DiffJson>(json);
  t.match(d, {
    old: { target: 'linux/x86_64', runname: 'n1', state: 'done', status: 'FAIL' },
    new: { target: 'linux/x86_64', runname: 'n2', state: 'done' },
    counts: { worse: 1, better: 0, appeared: 1, disappeared: 1, pending: 0, same: 5 },
    failOn: ['worse'],
    failed: true,
  });
  t.equal(d.tests.length, 8, 'every test and item, the same ones too');
  t.same(d.tests[0], {
    testname: 'flip',
    itempath: '',
    class: 'worse',
    old: { state: 'COMPLETED', status: 'PASS' },
    new: { state: 'COMPLETED', status: 'FAIL' },
  });
  t.match(
    d.tests.find((x) => x.testname === 'gone'),
    { class: 'disappeared', new: null },
  );

  // CI chooses what fails it.
  t.equal((await cli(['diff', ...X86, '-r', 'n1', '-r', 'n2', '--fail-on', 'none'])).code, 0, '--fail-on none');
  t.equal(
    (await cli(['diff', ...X86, '-r', 'n2', '-r', 'n1', '--fail-on', 'worse,disappeared'])).code,
    ExitCode.testsFailed,
    'added vanished going back',
  );
  const dis = await cli(['diff', ...X86, '-r', 'n2', '-r', 'n1', '--fail-on', 'disappeared']);
  t.match(dis.stdout, /FAILED: 1 disappeared\n$/);
  t.equal((await cli(['diff', ...X86, '-r', 'n1', '-r', 'n2', '-p', 'a,c'])).code, 0, '-p: only a and c, nothing worse');
  assertUserError(
    t,
    await cli(['diff', ...X86, '-r', 'n1', '-r', 'n2', '--fail-on', 'vanished']),
    ExitCode.usage,
    /--fail-on 'vanished'/,
    /worse, better, appeared, disappeared, pending, same, or none/,
  );
});

t.test('two targets of one run name: -t twice', async (t) => {
  const { cli } = diffArea(t);
  t.equal((await cli(['run', '-t', 'linux/x86_64', '-r', 'n', '-p', 'a,b,c'])).code, ExitCode.testsFailed);
  t.equal((await cli(['run', '-t', 'linux/aarch64', '-r', 'n', '-p', 'a,b,c'])).code, ExitCode.testsFailed);
  const r = await cli(['diff', '-t', 'linux/x86_64', '-t', 'linux/aarch64', '-r', 'n', '-r', 'n', '--json']);
  t.equal(r.code, ExitCode.testsFailed, dump(r));
  const d = parseJson<DiffJson>(r);
  t.match(d, { old: { target: 'linux/x86_64' }, new: { target: 'linux/aarch64' }, counts: { worse: 1, better: 1, same: 3 } });
  t.same(
    d.tests.filter((x) => x.class !== 'same').map((x) => `${x.class} ${x.testname}/${x.itempath}`),
    ['worse b/', 'better c/3'],
  );
});

t.test('a new run still going: its unfinished tests are pending, not worse', async (t) => {
  const { area, cli } = diffArea(t);
  fs.writeFileSync(path.join(area, 'slow-go'), '');
  t.equal((await cli(['run', ...X86, '-r', 'n1', '-p', 'a,slow'])).code, 0);
  fs.rmSync(path.join(area, 'slow-started'));
  fs.rmSync(path.join(area, 'slow-go'));
  const proc = startRun(t, area, 'n2', ['-p', 'a,slow']);
  await waitUntil(() => fs.existsSync(path.join(area, 'slow-started')), 'slow to start', 60_000, proc);
  // a runs beside slow: it may still be going when slow starts, so wait for the store to say it ended.
  const aEnded = async () => parseJson<DiffJson>(await cli(['diff', ...X86, '-r', 'n1', '-r', 'n2', '--json'])).counts.same === 1;
  await waitUntil(aEnded, 'a to end in n2', 60_000, proc);
  const r = await cli(['diff', ...X86, '-r', 'n1', '-r', 'n2']);
  t.equal(r.code, 0, dump(r));
  t.match(r.stdout, /\nnew: linux\/x86_64 n2 \(running, /);
  t.match(r.stdout, /pending 1, same 1\n\(pending and same not listed; --all lists them\)\n$/);
  t.match(
    (await cli(['diff', ...X86, '-r', 'n1', '-r', 'n2', '--all'])).stdout,
    /\nPending \(not ended in the new run\) \(1\):\n {2}slow +PASS +-> +RUNNING\n/,
  );
  t.equal(
    (await cli(['diff', ...X86, '-r', 'n1', '-r', 'n2', '--fail-on', 'worse,pending'])).code,
    ExitCode.testsFailed,
    '--fail-on pending',
  );
  fs.writeFileSync(path.join(area, 'slow-go'), '');
  t.equal((await proc.done).code, 0);
});

t.test('a run that is not there: one line naming it, exit 4', async (t) => {
  const { cli } = diffArea(t);
  t.equal((await cli(['run', ...X86, '-r', 'n1', '-p', 'a'])).code, 0);
  assertUserError(
    t,
    await cli(['diff', ...X86, '-r', 'n1', '-r', 'nope']),
    ExitCode.notFound,
    /the new run linux\/x86_64\/nope is not in /,
    /trellis list runs -t linux\/x86_64/,
  );
  assertUserError(t, await cli(['diff', ...X86, '-r', 'nope', '-r', 'n1']), ExitCode.notFound, /the old run linux\/x86_64\/nope/);
  assertUserError(t, await cli(['diff', ...X86, '-r', 'n1']), ExitCode.usage, /give -r twice/);
  assertUserError(t, await cli(['diff', '-t', 'linux', '-r', 'n1', '-r', 'n1']), ExitCode.usage, /target/);
});
