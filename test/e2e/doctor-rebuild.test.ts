/**
 * `trellis doctor --repair` rebuilding a runs index removed under a live server, through the built
 * CLI: the area stops looking healthy at once; the repair asks the server to stop, takes the write
 * lease and rebuilds main.db from the run databases, every run as it was, its lock included.
 */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { runAreaPaths } from '../../src/config/paths.js';
import { makeArea } from '../helpers/area.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { dump, parseJson } from '../helpers/e2e.js';

// Each command is a Node start and a server round trip: on a 2-core machine under load, minutes.
t.setTimeout(600_000);

const T = ['-t', 'linux/x86_64'];

interface RunRow {
  runname: string;
  state: string;
  status: string;
  total: number;
  counts: Record<string, number>;
  lockedBy: string | null;
}

function setup(t: Test) {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nx true\n', b: '[ezsteps]\ny false\n' } });
  const paths = runAreaPaths(path.join(area, 'runs'));
  const cli = (...args: string[]): Promise<CliResult> => runCli(t, [...args, '--area', area]);
  const runs = async () => parseJson<RunRow[]>(await cli('list', 'runs', '--json'));
  return { area, paths, cli, runs };
}

const shape = (rows: RunRow[]) =>
  rows.map((r) => ({ runname: r.runname, state: r.state, status: r.status, total: r.total, counts: r.counts, lockedBy: r.lockedBy }));

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
