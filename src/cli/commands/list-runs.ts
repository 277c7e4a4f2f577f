/** `trellis list runs [PATT] [-t T]`: the runs of the run area, newest first. */
import { runJson } from '../../report/records-json.js';
import { formatTable, formatTime } from '../../report/table.js';
import { formatCounts } from '../../report/summary.js';
import { openArea, openStore } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { ListRunsOptions } from '../specs/list.js';
import { termJson } from '../../util/terminal-text.js';

export async function execute(opts: ListRunsOptions, ctx: CommandContext): Promise<number> {
  const area = openArea(opts, ctx);
  const store = await openStore(area, opts, ctx);
  try {
    const query = { runname: opts.runpatt, target: opts.target };
    let runs = await store.listRuns(query);
    // A run left `running` by a runner that died is done once its tests are reaped: look at those
    // few (never every run) so the STATE column does not say running for ever.
    const running = runs.filter((r) => r.state === 'running');
    if (running.length > 0) {
      const liveness = { now: ctx.now(), deadtime: area.setup.deadtime };
      for (const r of running) {
        const reaped = await store.reapDead(r.id, liveness);
        if (reaped.length > 0)
          ctx.log.warn(`${r.target}/${r.runname}: ${reaped.length} tests marked INCOMPLETE/DEAD; their runner is gone`);
      }
      runs = await store.listRuns(query);
    }
    if (opts.json) {
      ctx.stdout.write(`${termJson(runs.map(runJson))}\n`);
      return 0;
    }
    if (runs.length === 0) {
      ctx.stdout.write(`No runs in ${area.runArea}; start one with: trellis run -t TARGET -r RUNNAME\n`);
      return 0;
    }
    const rows = runs.map((r) => [
      r.target,
      r.runname,
      r.state,
      r.status,
      String(r.total),
      formatTime(r.created),
      formatTime(r.updated),
      r.closedAt !== undefined ? formatTime(r.closedAt) : '-',
      formatCounts(new Map(Object.entries(r.counts))),
    ]);
    ctx.stdout.write(`${formatTable(['TARGET', 'RUNNAME', 'STATE', 'STATUS', 'TESTS', 'CREATED', 'CHANGED', 'CLOSED', 'COUNTS'], rows)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
