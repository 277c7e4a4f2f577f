/** `trellis last-success TEST[/ITEM] [-t T] [--json]`: when, where and which run; exit 1 if never. */
import { formatLastSuccess, outcomeJson } from '../../report/history-text.js';
import { ExitCode } from '../../util/errors.js';
import type { CommandContext } from '../context.js';
import { openRunAreaStore, splitTestName } from '../run-area-store.js';
import type { LastSuccessOptions } from '../specs/history.js';
import { makeNothingRecordedError } from './history.js';
import { termJson } from '../../util/terminal-text.js';

export async function execute(opts: LastSuccessOptions, ctx: CommandContext): Promise<number> {
  const { test: spec, target } = opts;
  const store = await openRunAreaStore(opts, ctx);
  try {
    const name = splitTestName(spec);
    const [latest] = await store.history({ ...name, target, limit: 1 });
    if (latest === undefined) throw makeNothingRecordedError(spec, target);
    const [success] = await store.history({ ...name, target, limit: 1, successOnly: true });
    if (opts.json) {
      const shape = { test: spec, lastSuccess: success ? outcomeJson(success) : null, latest: outcomeJson(latest) };
      ctx.stdout.write(`${termJson(shape)}\n`);
    } else {
      ctx.stdout.write(`${formatLastSuccess(spec, success ?? null, latest, ctx.now())}\n`);
    }
    return success === undefined ? ExitCode.testsFailed : ExitCode.ok;
  } finally {
    await store.close();
  }
}
