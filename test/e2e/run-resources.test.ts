/**
 * Shared resources through the built CLI: bad declarations and an undeclared resource are config
 * errors naming file:line before anything runs; across two runner processes, the waiter shows what
 * it waits for and who holds it (`trellis resources --json`, `show`), and when the holder is killed
 * with -9 its share is freed and the waiter runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { makeArea, DEFAULT_CONFIG } from '../helpers/area.js';
import { assertUserError, dump } from '../helpers/e2e.js';
import { killGroupOnTeardown, readPidFile, run, startRun, TARGET, trellis } from '../helpers/run-e2e.js';

t.test('bad inputs: a count of 0, a resource never declared', async (t) => {
  const zero = makeArea(t, { config: `${DEFAULT_CONFIG}\n[resources]\ndeploy 0\n`, tests: { a: '[ezsteps]\nx true\n' } });
  assertUserError(t, await run(t, zero, 'r'), 3, /trellis\.config:9: \[resources\] deploy must be a positive whole number, not '0'/);

  const undeclared = makeArea(t, {
    config: `${DEFAULT_CONFIG}\n[resources]\ndeploy 1\n`,
    tests: { a: '[ezsteps]\nx true\n', b: '[ezsteps]\nx true\n\n[requirements]\nresources deploy lab\n' },
  });
  assertUserError(
    t,
    await run(t, undeclared, 'r'),
    3,
    /tests\/b\/testconfig:5: \[requirements\] resources: 'lab' is not in \[resources\]/,
    /declare it there as 'lab COUNT'/,
  );
  t.notOk(fs.existsSync(path.join(undeclared, 'runs', 'linux')), 'nothing ran: no work folder');
});

t.test('a waiter shows who holds its resource; the holder killed with -9 frees it and the waiter runs', async (t) => {
  const area = makeArea(t, {
    config: `${DEFAULT_CONFIG}\n[resources]\ndeploy 1\n`,
    tests: {
      hold: '[requirements]\nresources deploy\n\n[ezsteps]\nhold  echo $$ > "$MT_RUN_AREA_HOME/hold.pid"; sleep 1000\n',
      use: '[requirements]\nresources deploy\n\n[ezsteps]\nuse  touch "$MT_RUN_AREA_HOME/used"\n',
    },
  });
  const holder = startRun(t, area, 'r1', ['-p', 'hold']);
  let pgid: number | undefined;
  killGroupOnTeardown(t, () => pgid);
  pgid = await readPidFile(path.join(area, 'hold.pid'), holder);
  const waiter = startRun(t, area, 'r2', ['-p', 'use']);

  // The waiter's runner says so as the test begins to wait, and who holds what it waits for.
  await waiter.waitFor((out) =>
    /^WAITING +use - waiting for resource deploy \(held by hold of run linux\/x86_64\/r1, runner pid \d+/m.test(out),
  );
  const list = await trellis(t, area, ['resources', '--json']);
  t.equal(list.code, 0, dump(list));
  const listed = JSON.parse(list.stdout);
  t.match(listed, [
    {
      name: 'deploy',
      count: 1,
      held: 1,
      holders: [{ runname: 'r1', test: 'hold', pid: holder.child.pid }],
      waiters: [{ runname: 'r2', test: 'use', pid: waiter.child.pid }],
    },
  ]);
  t.notOk(fs.existsSync(path.join(area, 'used')), 'use has not run');

  const show = await trellis(t, area, ['show', 'use', '-t', TARGET, '-r', 'r2']);
  t.equal(show.code, 0, dump(show));
  t.match(
    show.stdout,
    /^use: NOT_STARTED n\/a - waiting for resource deploy \(held by hold of run linux\/x86_64\/r1, runner pid \d+ on host /m,
  );
  t.match(show.stdout, /waits for resource deploy \(held by hold of run linux\/x86_64\/r1 on \S+ pid \d+ since /);

  holder.child.kill('SIGKILL');
  const res = await waiter.done;
  t.equal(res.code, 0, `the waiter ran once the dead holder's share was freed\n${dump(res)}`);
  t.ok(fs.existsSync(path.join(area, 'used')));
});
