/** `trellis record NAME --start T --end T [--host H] [--status S] [-t LABEL] [-m MSG]`: a job run elsewhere. */
import { randomUUID } from 'node:crypto';
import { checkJobName } from '../../model/outcome-check.js';
import { KNOWN_STATUSES } from '../../model/states.js';
import { formatSeconds } from '../../report/summary.js';
import { formatTime } from '../../report/table.js';
import { TrellisError } from '../../util/errors.js';
import { shortHostname } from '../../util/host.js';
import type { CommandContext } from '../context.js';
import { parseTimeOption } from '../option-values.js';
import { openRunAreaStore, splitTestName } from '../run-area-store.js';

const STATUSES = KNOWN_STATUSES.filter((s) => s !== 'n/a');

export async function execute(args: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const spec = String(args['name']);
  const name = splitTestName(spec);
  checkJobName(name.testname, name.itempath);
  const start = parseTimeOption('--start', String(args['start']));
  const end = parseTimeOption('--end', String(args['end']));
  if (end < start) {
    throw new TrellisError('BAD_VALUE', `--end ${String(args['end'])} is before --start ${String(args['start'])}`, 'give the end at or after the start');
  }
  const status = parseStatus(typeof args['status'] === 'string' ? args['status'] : 'PASS');
  const host = typeof args['host'] === 'string' ? args['host'].trim() : shortHostname();
  if (host === '') throw new TrellisError('BAD_VALUE', '--host must not be empty', 'give the host the job ran on, or leave --host out for this one');
  const store = await openRunAreaStore(args, ctx);
  try {
    await store.recordOutcome({
      key: randomUUID(),
      kind: 'record',
      ...name,
      target: typeof args['target'] === 'string' ? args['target'] : '',
      host,
      state: 'COMPLETED',
      status,
      start,
      end,
      comment: typeof args['message'] === 'string' ? args['message'] : '',
    });
    ctx.stdout.write(`recorded ${spec}: ${status} on ${host}, ${formatTime(start)} to ${formatTime(end)} (${formatSeconds(end - start)})\n`);
    return 0;
  } finally {
    await store.close();
  }
}

function parseStatus(text: string): string {
  const status = text.trim().toUpperCase();
  if (!(STATUSES as readonly string[]).includes(status)) {
    throw new TrellisError('BAD_VALUE', `--status '${text}' is not a status`, `use one of ${STATUSES.join(', ')}`);
  }
  return status;
}
