/** `trellis kill -t -r [-p]`: ask the run's runner to stop tests; it does within a second. */
import { requestKill } from '../../runner/run-admin.js';
import { shortHostname, whoAmI } from '../../util/host.js';
import { openRun } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { KillOptions } from '../specs/run-admin.js';
import { displayName } from '../../model/display-name.js';
import { termLine } from '../../util/terminal-text.js';

export async function execute(opts: KillOptions, ctx: CommandContext): Promise<number> {
  const { store, run, area } = await openRun(opts, ctx);
  try {
    const asked = await requestKill(store, run, {
      pattern: opts.pattern,
      now: ctx.now(),
      write: { force: opts.force, who: whoAmI(ctx.env) },
      liveness: { now: ctx.now(), deadtime: area.setup.deadtime },
      host: shortHostname(),
    });
    if (asked.length === 0) {
      ctx.stdout.write(`${termLine(`Nothing to kill in ${run.target}/${run.runname}`)}: no matching test is running or queued\n`);
      return 0;
    }
    for (const t of asked) ctx.stdout.write(`KILLREQ   ${termLine(displayName(t))}\n`);
    ctx.stdout.write(`Asked the runner to kill ${asked.length} tests; they show KILLED when stopped\n`);
    return 0;
  } finally {
    await store.close();
  }
}
