/** `trellis step NAME --state start|end [--status S]`, from inside a test. */
import { reportStep, testFromEnv } from '../../runner/in-test.js';
import { openStoreAt } from '../area-access.js';
import type { CommandContext } from '../context.js';

export async function execute(args: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const at = testFromEnv(ctx.env, 'step', args['force'] === true);
  const store = await openStoreAt(at.runArea, ctx.env['TRELLIS_AREA'], args, ctx, 'exec');
  try {
    const status = typeof args['status'] === 'string' ? args['status'].toUpperCase() : undefined;
    await reportStep(store, at, { name: String(args['name']), phase: args['state'] === 'start' ? 'start' : 'end', status, now: ctx.now() });
    return 0;
  } finally {
    await store.close();
  }
}
