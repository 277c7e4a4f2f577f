/**
 * `trellis diff -t T [-t T2] -r OLD -r NEW [-p P] [--all] [--fail-on C,C] [--json]`: what got worse,
 * better, appeared or disappeared between two runs. Exits 1 when a --fail-on class (default:
 * worse) is not empty, so CI can gate on it.
 */
import { resolveTarget } from '../../config/area.js';
import type { Area } from '../../config/types.js';
import type { RunRecord } from '../../model/records.js';
import { diffRuns, failingClasses } from '../../report/diff.js';
import { diffJson, formatDiff } from '../../report/diff-text.js';
import type { Store } from '../../store/store.js';
import { ExitCode, TrellisError } from '../../util/errors.js';
import { openArea, openStore } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { DiffOptions } from '../specs/diff.js';
import { termJson } from '../../util/terminal-text.js';

/** The two (target, run name) pairs: -r twice; -t once for both or twice, old then new (the spec checks the counts). */
function readPairs(opts: DiffOptions): { targets: [string, string]; runnames: [string, string] } {
  const [t0 = '', t1 = t0] = opts.target;
  const [r0 = '', r1 = ''] = opts.runname;
  return { targets: [t0, t1], runnames: [r0, r1] };
}

/** Finds the run (NO_RUN naming the side when it is not there) and reaps its dead runner's tests. */
async function findRun(
  store: Store,
  area: Area,
  targetText: string,
  runname: string,
  side: 'old' | 'new',
  ctx: CommandContext,
): Promise<RunRecord> {
  const target = resolveTarget(area, targetText);
  const run = await store.findRun(target.name, runname);
  if (run === undefined) {
    throw new TrellisError(
      'NO_RUN',
      `the ${side} run ${target.name}/${runname} is not in ${area.runArea}`,
      `see the runs with \`trellis list runs -t ${target.name}\``,
    );
  }
  const reaped = await store.reapDead(run.id, { now: ctx.now(), deadtime: area.setup.deadtime });
  return reaped.length === 0 ? run : ((await store.getRun(run.id)) ?? run);
}

export async function execute(opts: DiffOptions, ctx: CommandContext): Promise<number> {
  const failOn = opts.failOn;
  const { targets, runnames } = readPairs(opts);
  const area = openArea(opts, ctx);
  const store = await openStore(area, opts, ctx);
  try {
    const oldRun = await findRun(store, area, targets[0], runnames[0], 'old', ctx);
    const newRun = await findRun(store, area, targets[1], runnames[1], 'new', ctx);
    const query = opts.pattern === undefined ? {} : { pattern: opts.pattern };
    const [oldRows, newRows] = await Promise.all([store.listTests(oldRun.id, query), store.listTests(newRun.id, query)]);
    const diff = diffRuns(oldRows, newRows);
    const failed = failingClasses(diff, failOn);
    const runs = { old: oldRun, new: newRun };
    if (opts.json) ctx.stdout.write(`${termJson(diffJson(diff, runs, { failOn, failed }))}\n`);
    else ctx.stdout.write(formatDiff(diff, runs, { all: opts.all, failed }));
    return failed.length > 0 ? ExitCode.testsFailed : ExitCode.ok;
  } finally {
    await store.close();
  }
}
