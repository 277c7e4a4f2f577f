/** `trellis history TEST[/ITEM] [-t T] [-n N] [--json]`: recent outcomes across runs, newest first. */
import { formatHistory, outcomeJson } from '../../report/history-text.js';
import { TrellisError } from '../../util/errors.js';
import type { CommandContext } from '../context.js';
import { openRunAreaStore, splitTestName } from '../run-area-store.js';
import type { HistoryOptions } from '../specs/history.js';
import { termJson } from '../../util/terminal-text.js';

export async function execute(opts: HistoryOptions, ctx: CommandContext): Promise<number> {
  const { test: spec, target, limit } = opts;
  const store = await openRunAreaStore(opts, ctx);
  try {
    const outcomes = await store.history({ ...splitTestName(spec), target, limit });
    if (outcomes.length === 0) throw makeNothingRecordedError(spec, target);
    ctx.stdout.write(opts.json ? `${termJson(outcomes.map(outcomeJson))}\n` : `${formatHistory(outcomes)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/** NO_TEST: nothing is recorded under that name (on those targets). */
export function makeNothingRecordedError(spec: string, target: string | undefined): TrellisError {
  return new TrellisError(
    'NO_TEST',
    `no outcome of ${spec} is recorded${target === undefined ? '' : ` on targets matching ${target}`}`,
    'check the name (TEST, TEST/ITEMPATH or the NAME given to wrap/record), -t and --area/--runarea',
  );
}
