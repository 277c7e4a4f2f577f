/** `trellis remove -t -r [-p]`: a whole run, or the matching tests of a run. */
import { runAreaPaths } from '../../config/paths.js';
import { removeFromRun } from '../../runner/run-admin.js';
import { shortHostname, whoAmI } from '../../util/host.js';
import { formatTime } from '../../report/table.js';
import { openRun } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { RemoveOptions } from '../specs/run-admin.js';
import { termLine } from '../../util/terminal-text.js';

export async function execute(opts: RemoveOptions, ctx: CommandContext): Promise<number> {
  // A run whose database is gone can still be removed: that is what the error about it advises.
  const { store, run, area, target } = await openRun(opts, ctx, { damagedOk: opts.pattern === undefined });
  try {
    const pattern = opts.pattern;
    const res = await removeFromRun(store, run, {
      pattern,
      runDir: runAreaPaths(area.runArea).runDir(target.values, run.runname),
      runArea: area.runArea,
      liveness: { now: ctx.now(), deadtime: area.setup.deadtime },
      host: shortHostname(),
      write: { force: opts.force, who: whoAmI(ctx.env) },
    });
    const what = pattern ? `${res.tests} tests and items matching '${pattern}' from` : `run`;
    ctx.stdout.write(`${termLine(`Removed ${what} ${run.target}/${run.runname}`)} (${res.folders} work folders)\n`);
    // The run's log goes with a whole run: say here what lock was overridden, and by whom.
    if (!pattern && run.state === 'locked') {
      ctx.stdout.write(
        `${termLine(`It was locked by ${run.lockedBy || 'someone'} at ${formatTime(run.lockedAt)}; removed with --force by ${whoAmI(ctx.env)}`)}\n`,
      );
    }
    return 0;
  } finally {
    await store.close();
  }
}
