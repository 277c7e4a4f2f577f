/** `trellis test-status [--state S] [--status S] [-m MSG]`, from inside a test. */
import { reportTestStatus, testFromEnv } from '../../runner/in-test.js';
import { openStoreAt } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { TestStatusOptions } from '../specs/in-test.js';

export async function execute(opts: TestStatusOptions, ctx: CommandContext): Promise<number> {
  const at = testFromEnv(ctx.env, 'test-status', opts.force);
  const { state, status, message } = opts;
  const store = await openStoreAt(at.runArea, ctx.env['TRELLIS_AREA'], opts, ctx, 'exec');
  try {
    await reportTestStatus(store, at, { state, status, message, now: ctx.now() });
    return 0;
  } finally {
    await store.close();
  }
}
