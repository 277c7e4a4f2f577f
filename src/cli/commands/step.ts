/** `trellis step NAME --state start|end [--status S]`, from inside a test. */
import { checkLabel } from '../../model/names.js';
import { reportStep, testFromEnv } from '../../runner/in-test.js';
import { openStoreAt } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { StepOptions } from '../specs/in-test.js';

export async function execute(opts: StepOptions, ctx: CommandContext): Promise<number> {
  checkLabel('step name', opts.name, 'step NAME');
  const at = testFromEnv(ctx.env, 'step', opts.force);
  const store = await openStoreAt(at.runArea, ctx.env['TRELLIS_AREA'], opts, ctx, 'exec');
  try {
    await reportStep(store, at, { name: opts.name, phase: opts.state, status: opts.status, now: ctx.now() });
    return 0;
  } finally {
    await store.close();
  }
}
