/**
 * `trellis doctor --repair` rebuilding a runs index removed under a live server, through the built
 * CLI: the area stops looking healthy at once; the repair asks the server to stop, takes the write
 * lease and rebuilds main.db from the run databases, every run as it was, its lock included.
 */
import fs from 'node:fs';
import t from 'tap';
import { dump } from '../helpers/e2e.js';
import { setup, shape, T } from './doctor-fixture.js';

// Each command is a Node start and a server round trip: on a 2-core machine under load, minutes.
t.setTimeout(600_000);

t.test('the runs index removed under a live server: doctor --repair stops it and rebuilds the index', async (t) => {
  const s = setup(t);
  for (const r of ['r1', 'r2', 'r3']) await s.cli('run', ...T, '-r', r);
  t.equal((await s.cli('lock', ...T, '-r', 'r1')).code, 0);
  const want = shape(await s.runs());
  fs.rmSync(s.paths.mainDb);
  const broken = await s.cli('list', 'runs');
  t.equal(broken.code, 6, `the area does not look healthy\n${dump(broken)}`);
  const repair = await s.cli('doctor', '--repair');
  t.equal(repair.code, 0, dump(repair));
  t.match(repair.stdout, /stopped server pid \d+ .* to take the write lease/);
  t.match(repair.stdout, /repaired: rebuilt it from 3 run databases/);
  t.same(shape(await s.runs()), want, 'every run, as it was, the lock included');
  const again = await s.cli('doctor');
  t.equal(again.code, 0, dump(again));
});
