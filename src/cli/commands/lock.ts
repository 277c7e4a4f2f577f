/** `trellis lock` / `trellis unlock -t -r`. */
import { whoAmI } from '../../util/host.js';
import { openRun } from '../area-access.js';
import type { CommandContext, CommandModule } from '../context.js';

/** Locks the run: it refuses new results unless --force. */
export async function execute(args: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const { store, run } = await openRun(args, ctx);
  try {
    const r = await store.setRunState(run.id, 'locked', { who: whoAmI(ctx.env) });
    ctx.stdout.write(`Locked ${r.target}/${r.runname} (by ${r.lockedBy ?? whoAmI(ctx.env)})\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/** Unlocks the run. */
export const unlockCommand: CommandModule = {
  async execute(args, ctx) {
    const { store, run } = await openRun(args, ctx);
    try {
      const tests = await store.listTests(run.id, { toplevelOnly: true });
      const state = tests.length === 0 ? 'new' : tests.some((t) => t.state === 'RUNNING' || t.state === 'LAUNCHED') ? 'running' : 'done';
      const r = await store.setRunState(run.id, state, { who: whoAmI(ctx.env) });
      ctx.stdout.write(`Unlocked ${r.target}/${r.runname} (now ${r.state})\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
