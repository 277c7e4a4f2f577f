/** `trellis set-state-status STATE,STATUS -t -r -p`. */
import { parseState, type TestState } from '../../model/states.js';
import { setStateStatus } from '../../runner/run-admin.js';
import { TrellisError } from '../../util/errors.js';
import { whoAmI } from '../../util/host.js';
import { openRun } from '../area-access.js';
import type { CommandContext } from '../context.js';

export async function execute(args: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const text = String(args['statestatus']);
  const [stateText = '', statusText = '', extra] = text.split(',');
  if (extra !== undefined || (stateText.trim() === '' && statusText.trim() === '')) {
    throw new TrellisError('BAD_VALUE', `set-state-status '${text}': expected STATE,STATUS`, 'e.g. COMPLETED,PASS or ,WAIVED to change only the status');
  }
  let state: TestState | undefined;
  if (stateText.trim() !== '') {
    state = parseState(stateText.trim());
    if (!state) {
      throw new TrellisError('BAD_VALUE', `set-state-status: '${stateText}' is not a state`, 'use one of NOT_STARTED, LAUNCHED, RUNNING, COMPLETED, KILLREQ, KILLED, INCOMPLETE');
    }
  }
  const status = statusText.trim() === '' ? undefined : statusText.trim().toUpperCase() === 'N/A' ? 'n/a' : statusText.trim().toUpperCase();
  const { store, run } = await openRun(args, ctx);
  try {
    const n = await setStateStatus(store, run.id, {
      pattern: String(args['pattern']),
      state,
      status,
      now: ctx.now(),
      write: { force: args['force'] === true, who: whoAmI(ctx.env) },
    });
    ctx.stdout.write(`Set ${[state, status].filter(Boolean).join('/')} on ${n} tests and items of ${run.target}/${run.runname}\n`);
    return n === 0 ? 4 : 0;
  } finally {
    await store.close();
  }
}
