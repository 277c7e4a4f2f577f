/** `trellis set-state-status STATE,STATUS -t -r -p`. */
import { parseStateStatus } from '../../model/states.js';
import { setStateStatus } from '../../runner/run-admin.js';
import { whoAmI } from '../../util/host.js';
import { openRun } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { SetStateStatusOptions } from '../specs/run-admin.js';
import { termLine } from '../../util/terminal-text.js';

export async function execute(opts: SetStateStatusOptions, ctx: CommandContext): Promise<number> {
  const { state, status } = parseStateStatus(opts.statestatus, 'set-state-status');
  const { store, run } = await openRun(opts, ctx);
  try {
    const n = await setStateStatus(store, run.id, {
      pattern: opts.pattern,
      state,
      status,
      now: ctx.now(),
      write: { force: opts.force, who: whoAmI(ctx.env) },
    });
    ctx.stdout.write(
      `${termLine(`Set ${[state, status].filter(Boolean).join('/')} on ${n} tests and items of ${run.target}/${run.runname}`)}\n`,
    );
    return n === 0 ? 4 : 0;
  } finally {
    await store.close();
  }
}
