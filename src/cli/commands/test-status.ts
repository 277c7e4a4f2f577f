/** `trellis test-status [--state S] [--status S] [-m MSG]`, from inside a test. */
import { parseState } from '../../model/states.js';
import { reportTestStatus, testFromEnv } from '../../runner/in-test.js';
import { TrellisError } from '../../util/errors.js';
import { openStoreAt } from '../area-access.js';
import type { CommandContext } from '../context.js';

export async function execute(args: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const at = testFromEnv(ctx.env, 'test-status', args['force'] === true);
  const stateText = typeof args['state'] === 'string' ? args['state'] : undefined;
  const state = stateText === undefined ? undefined : parseState(stateText);
  if (stateText !== undefined && !state) {
    throw new TrellisError('BAD_VALUE', `--state '${stateText}' is not a state`, 'use e.g. RUNNING or COMPLETED');
  }
  const status = typeof args['status'] === 'string' ? args['status'].toUpperCase() : undefined;
  const message = typeof args['message'] === 'string' ? args['message'] : undefined;
  if (!state && !status && message === undefined) {
    throw new TrellisError('USAGE', 'test-status needs --state, --status or -m', 'e.g. trellis test-status --status WARN -m "slow disk"');
  }
  const store = await openStoreAt(at.runArea, ctx.env['TRELLIS_AREA'], args, ctx, 'exec');
  try {
    await reportTestStatus(store, at, { state, status, message, now: ctx.now() });
    return 0;
  } finally {
    await store.close();
  }
}
