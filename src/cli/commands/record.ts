/** `trellis record NAME --start T --end T [--host H] [--status S] [-t LABEL] [-m MSG]`: a job run elsewhere. */
import { randomUUID } from 'node:crypto';
import { checkJobName } from '../../model/outcome-check.js';
import { formatSeconds } from '../../report/summary.js';
import { formatTime } from '../../report/table.js';
import { shortHostname } from '../../util/host.js';
import type { CommandContext } from '../context.js';
import { openRunAreaStore, splitTestName } from '../run-area-store.js';
import type { RecordOptions } from '../specs/history.js';
import { termLine } from '../../util/terminal-text.js';

export async function execute(opts: RecordOptions, ctx: CommandContext): Promise<number> {
  const spec = opts.name;
  const name = splitTestName(spec);
  checkJobName(name.testname, name.itempath);
  const start = opts.start.epoch;
  const end = opts.end.epoch;
  const status = opts.status;
  const host = opts.host ?? shortHostname();
  const store = await openRunAreaStore(opts, ctx);
  try {
    await store.recordOutcome({
      key: randomUUID(),
      kind: 'record',
      ...name,
      target: opts.target ?? '',
      host,
      state: 'COMPLETED',
      status,
      start,
      end,
      comment: opts.message ?? '',
    });
    ctx.stdout.write(
      `${termLine(`recorded ${spec}: ${status} on ${host}, ${formatTime(start)} to ${formatTime(end)} (${formatSeconds(end - start)})`)}\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}
