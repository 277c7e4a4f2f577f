/** `trellis list runs [PATT] [-t T]`: the runs of the run area, newest first. */
import type { RunQuery } from '../../model/records.js';
import { runJson } from '../../report/records-json.js';
import { formatRunsTable } from '../../report/runs-table.js';
import type { Store } from '../../store/store.js';
import { openArea, openStore } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { ListRunsOptions } from '../specs/list.js';
import { termJsonList } from '../../util/terminal-text.js';

export async function execute(opts: ListRunsOptions, ctx: CommandContext): Promise<number> {
  const area = openArea(opts, ctx);
  const store = await openStore(area, opts, ctx);
  try {
    const query: RunQuery = { runname: opts.runpatt, target: opts.target };
    const reap = { store, ctx, deadtime: area.setup.deadtime };
    if (opts.json) {
      let runs = await store.listRuns(query);
      const running = runs.filter((r) => r.state === 'running').map((r) => ({ id: r.id, name: `${r.target}/${r.runname}` }));
      if (await reapRunning(running, reap)) runs = await store.listRuns(query);
      for (const piece of termJsonList(runs, runJson)) ctx.stdout.write(piece);
      ctx.stdout.write('\n');
      return 0;
    }
    // The table reads only its columns.
    let runs = await store.listRunColumns(query);
    const running: Array<{ id: number; name: string }> = [];
    runs.state.forEach((state, i) => {
      if (state === 'running') running.push({ id: runs.id[i]!, name: `${runs.target[i]}/${runs.runname[i]}` });
    });
    if (await reapRunning(running, reap)) runs = await store.listRunColumns(query);
    if (runs.id.length === 0) {
      ctx.stdout.write(`No runs in ${area.runArea}; start one with: trellis run -t TARGET -r RUNNAME\n`);
      return 0;
    }
    for (const piece of formatRunsTable(runs)) ctx.stdout.write(piece);
    return 0;
  } finally {
    await store.close();
  }
}

/**
 * A run left `running` by a runner that died is done once its tests are reaped: look at those few
 * (never every run) so the STATE column does not say running for ever. True when there were any
 * (their state may have changed: list again).
 */
async function reapRunning(
  running: ReadonlyArray<{ id: number; name: string }>,
  how: { store: Store; ctx: CommandContext; deadtime: number },
): Promise<boolean> {
  const liveness = { now: how.ctx.now(), deadtime: how.deadtime };
  for (const r of running) {
    const reaped = await how.store.reapDead(r.id, liveness);
    if (reaped.length > 0) how.ctx.log.warn(`${r.name}: ${reaped.length} tests marked INCOMPLETE/DEAD; their runner is gone`);
  }
  return running.length > 0;
}
