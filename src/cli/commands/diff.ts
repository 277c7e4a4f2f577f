/**
 * `trellis diff -t T [-t T2] -r OLD -r NEW [-p P] [--all] [--fail-on C,C] [--json]`: what got worse,
 * better, appeared or disappeared between two runs. Exits 1 when a --fail-on class (default:
 * worse) is not empty, so CI can gate on it.
 */
import { resolveTarget } from '../../config/area.js';
import type { Area } from '../../config/types.js';
import type { RunRecord } from '../../model/records.js';
import { DIFF_CLASSES, diffRuns, failingClasses, type DiffClass } from '../../report/diff.js';
import { diffJson, formatDiff } from '../../report/diff-text.js';
import type { Store } from '../../store/store.js';
import { ExitCode, TrellisError } from '../../util/errors.js';
import { commaList, openArea, openStore } from '../area-access.js';
import type { CommandContext } from '../context.js';

/** The two (target, run name) pairs: -r twice; -t once for both or twice, old then new. */
function readPairs(args: Record<string, unknown>): { targets: [string, string]; runnames: [string, string] } {
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);
  const t = list(args['target']);
  const r = list(args['runname']);
  return { targets: [t[0]!, t[1] ?? t[0]!], runnames: [r[0]!, r[1]!] };
}

/** Parses --fail-on: classes, or `none` alone. */
export function parseFailOn(value: unknown): DiffClass[] {
  if (value === undefined) return ['worse'];
  const words = commaList(value).map((w) => w.toLowerCase());
  if (words.length === 1 && words[0] === 'none') return [];
  const bad = words.filter((w) => !(DIFF_CLASSES as readonly string[]).includes(w));
  if (words.length === 0 || bad.length > 0) {
    throw new TrellisError(
      'BAD_VALUE',
      `--fail-on '${String(value)}': ${bad.length > 0 ? `'${bad[0]}' is not a class` : 'expected a class'}`,
      `use a comma list of ${DIFF_CLASSES.join(', ')}, or none`,
    );
  }
  return [...new Set(words)] as DiffClass[];
}

/** Finds the run (NO_RUN naming the side when it is not there) and reaps its dead runner's tests. */
async function findRun(store: Store, area: Area, targetText: string, runname: string, side: 'old' | 'new', ctx: CommandContext): Promise<RunRecord> {
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

export async function execute(args: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const failOn = parseFailOn(args['fail-on']);
  const { targets, runnames } = readPairs(args);
  const area = openArea(args, ctx);
  const store = await openStore(area, args, ctx);
  try {
    const oldRun = await findRun(store, area, targets[0], runnames[0], 'old', ctx);
    const newRun = await findRun(store, area, targets[1], runnames[1], 'new', ctx);
    const query = typeof args['pattern'] === 'string' ? { pattern: args['pattern'] } : {};
    const [oldRows, newRows] = await Promise.all([store.listTests(oldRun.id, query), store.listTests(newRun.id, query)]);
    const diff = diffRuns(oldRows, newRows);
    const failed = failingClasses(diff, failOn);
    const runs = { old: oldRun, new: newRun };
    if (args['json']) ctx.stdout.write(`${JSON.stringify(diffJson(diff, runs, { failOn, failed }), null, 2)}\n`);
    else ctx.stdout.write(formatDiff(diff, runs, { all: args['all'] === true, failed }));
    return failed.length > 0 ? ExitCode.testsFailed : ExitCode.ok;
  } finally {
    await store.close();
  }
}
