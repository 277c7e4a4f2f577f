/**
 * What the command end-to-end tests share: an area with a passing test, a failing one and items,
 * run once, and the shapes of `list --json` rows.
 */
import type { TestRow } from '../helpers/run-e2e.js';
import type { Test } from 'tap';
import { ExitCode } from '../../src/util/errors.js';
import { makeArea } from '../helpers/area.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { dump } from '../helpers/e2e.js';

export const X86 = ['-t', 'linux/x86_64'];

/** One row of `trellis list tests --json`. */
export type Row = TestRow;

/** One row of `trellis list runs --json`. */
export interface RunRow {
  id: number;
  target: string;
  keys: Record<string, string>;
  runname: string;
  state: string;
  status: string;
  total: number;
  counts: Record<string, number>;
  created: string;
}

/** pass passes; fail fails in its second step; itm/1 passes and itm/2 fails. */
export const MIXED = {
  pass: '[ezsteps]\nok echo fine\n',
  fail: '[ezsteps]\nfirst echo one\nboom echo "the error line"; exit 1\n',
  itm: '[items]\nN 1 2\n\n[ezsteps]\ncheck echo "item $N"; test "$N" = 1\n',
};
export const RUNCONFIGS = '[default]\nGREETING hello\n\n[linux/x86_64]\n\n[linux/aarch64]\n\n[linux/%]\nLIBC glibc\n';

/** An area with MIXED, run once as linux/x86_64 `n`; `cli` runs trellis in it. */
export async function mixedRun(t: Test): Promise<{ area: string; cli: (args: string[]) => Promise<CliResult> }> {
  const area = makeArea(t, { runconfigs: RUNCONFIGS, tests: MIXED });
  const cli = (args: string[]) => runCli(t, args, { cwd: area });
  const r = await cli(['run', ...X86, '-r', 'n']);
  t.equal(r.code, ExitCode.testsFailed, dump(r));
  return { area, cli };
}

/** Rows by `test` or `test/itempath`. */
export const byKey = (rows: Row[]): Record<string, Row> =>
  Object.fromEntries(rows.map((r) => [r.itempath ? `${r.testname}/${r.itempath}` : r.testname, r]));
