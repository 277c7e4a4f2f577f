/** `trellis lock` / `trellis unlock -t -r`. */
import { assertNoLiveRunner } from '../../runner/run-admin.js';
import { formatTime } from '../../report/table.js';
import { shortHostname, whoAmI } from '../../util/host.js';
import { openRun } from '../area-access.js';
import type { CommandContext, CommandModule } from '../context.js';
import type { LockOptions } from '../specs/run-admin.js';
import { termLine } from '../../util/terminal-text.js';

/**
 * Locks the run: it refuses new results unless --force. Refused while a runner is live (it could
 * record nothing more); locking a locked run keeps who locked it first.
 */
export async function execute(opts: LockOptions, ctx: CommandContext): Promise<number> {
  const { store, run, area } = await openRun(opts, ctx);
  try {
    const name = termLine(`${run.target}/${run.runname}`);
    if (run.state === 'locked') {
      ctx.stdout.write(`${name} is already locked (by ${termLine(run.lockedBy || 'someone')} at ${formatTime(run.lockedAt)})\n`);
      return 0;
    }
    await assertNoLiveRunner(store, run, { now: ctx.now(), deadtime: area.setup.deadtime }, shortHostname());
    const r = await store.setRunState(run.id, 'locked', { who: whoAmI(ctx.env) });
    ctx.stdout.write(`Locked ${name} (by ${termLine(r.lockedBy ?? whoAmI(ctx.env))}); it refuses changes unless --force\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/** Unlocks the run: it takes the state its tests give (new, running or done). */
export const unlockCommand: CommandModule<LockOptions> = {
  async execute(opts, ctx) {
    const { store, run } = await openRun(opts, ctx);
    try {
      const name = termLine(`${run.target}/${run.runname}`);
      if (run.state !== 'locked') {
        ctx.stdout.write(`${name} is not locked (it is ${run.state})\n`);
        return 0;
      }
      // The store computes the state; the one asked for here is only "not locked".
      const r = await store.setRunState(run.id, 'done', { who: whoAmI(ctx.env) });
      ctx.stdout.write(`Unlocked ${name} (now ${r.state})\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
