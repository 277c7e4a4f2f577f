/**
 * A locked run keeps its results: every change is refused unless forced, and a forced change is
 * written into the run's events with who forced it.
 */
import type { RunRecord, WriteOptions } from '../model/records.js';
import { TrellisError } from '../util/errors.js';
import { formatTime } from './liveness.js';

/**
 * Throws RUN_LOCKED when `run` is locked and the change (`what`, e.g. `write of 3 op(s)`) is not
 * forced; returns the detail for the `forced` event when it is, undefined when the run is open.
 */
export function checkRunLock(run: RunRecord, options: WriteOptions, what: string): string | undefined {
  if (run.state !== 'locked') return undefined;
  const closed = run.closedAt !== undefined;
  const by = `by ${run.lockedBy || 'someone'} at ${formatTime(run.lockedAt)}`;
  if (options.force) return `${what} while ${closed ? 'closed' : 'locked'} ${by}`;
  throw new TrellisError(
    'RUN_LOCKED',
    `run ${run.target}/${run.runname} is ${closed ? 'closed' : 'locked'} (${by})`,
    closed
      ? `a closed run takes no more results; to change it anyway, reopen it with \`trellis unlock -t ${run.target} -r ${run.runname}\` or pass --force`
      : `unlock it with \`trellis unlock -t ${run.target} -r ${run.runname}\` or pass --force`,
  );
}
