/**
 * `trellis kill` of a test that is queued (ready, waiting for a slot): it ends KILLED/ABORT
 * without ever starting, even once a slot frees up, and the run goes on.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { makeArea } from '../helpers/area.js';
import { listTests, startRun, statesOf, trellis, waitUntil, workDir } from '../helpers/run-e2e.js';

t.test('a queued test killed on request never starts', async (t) => {
  const area = makeArea(t, {
    tests: {
      first: '[requirements]\npriority 10\n\n[ezsteps]\nhold touch started; while [ ! -e "$MT_RUN_AREA_HOME/go" ]; do sleep 0.05; done\n',
      queued: '[ezsteps]\nrun touch "$MT_RUN_AREA_HOME/queued-ran"\n',
    },
  });
  const proc = startRun(t, area, 'r', ['-j', '1']);
  const started = path.join(workDir(area, 'r', 'first'), 'started');
  await waitUntil(() => fs.existsSync(started), 'first to start', 60_000, proc);
  const kill = await trellis(t, area, ['kill', '-t', 'linux/x86_64', '-r', 'r', '-p', 'queued']);
  t.equal(kill.code, 0, kill.stdout + kill.stderr);
  t.match(kill.stdout, /KILLREQ\s+queued/);
  await waitUntil(() => proc.stdout.includes('queued'), 'the runner to end the queued test', 60_000, proc);
  fs.writeFileSync(path.join(area, 'go'), '');
  const res = await proc.done;
  t.equal(res.code, 1, 'a killed test fails the run');
  t.same(statesOf(await listTests(t, area, 'r')), { first: 'COMPLETED/PASS', queued: 'KILLED/ABORT' });
  t.notOk(fs.existsSync(path.join(area, 'queued-ran')), 'the queued test never ran');
});
