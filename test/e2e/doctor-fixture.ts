/**
 * What the `trellis doctor` end-to-end tests share: a small area (test `a` passes, `b` fails with
 * `tests: 'pass-fail'`, or `a` alone), its run-area paths, the built CLI run in it, and the runs
 * as `list runs --json` gives them.
 */
import path from 'node:path';
import type { Test } from 'tap';
import { runAreaPaths } from '../../src/config/paths.js';
import { makeArea } from '../helpers/area.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { parseJson } from '../helpers/e2e.js';

export const T = ['-t', 'linux/x86_64'];

export interface RunRow {
  runname: string;
  state: string;
  status: string;
  total: number;
  counts: Record<string, number>;
  lockedBy: string | null;
}

const TESTS = {
  'pass-fail': { a: '[ezsteps]\nx true\n', b: '[ezsteps]\ny false\n' },
  pass: { a: '[ezsteps]\nx true\n' },
};

export function setup(t: Test, tests: keyof typeof TESTS = 'pass-fail') {
  const area = makeArea(t, { tests: TESTS[tests] });
  const paths = runAreaPaths(path.join(area, 'runs'));
  const cli = (...args: string[]): Promise<CliResult> => runCli(t, [...args, '--area', area]);
  const runs = async () => parseJson<RunRow[]>(await cli('list', 'runs', '--json'));
  return { area, paths, cli, runs };
}

/** What of a run a repair must keep. */
export const shape = (rows: RunRow[]) =>
  rows.map((r) => ({ runname: r.runname, state: r.state, status: r.status, total: r.total, counts: r.counts, lockedBy: r.lockedBy }));
