/** `trellis list targets`: targets defined in runconfigs.config and targets that have runs. */
import { listTargets } from '../../config/area.js';
import { formatTable } from '../../report/table.js';
import { openArea, openStore } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { ListTargetsOptions } from '../specs/list.js';
import { termJson } from '../../util/terminal-text.js';

export async function execute(opts: ListTargetsOptions, ctx: CommandContext): Promise<number> {
  const area = openArea(opts, ctx);
  const store = await openStore(area, opts, ctx);
  try {
    const runs = await store.listRuns();
    const byTarget = new Map<string, { target: string; configured: boolean; runs: number }>();
    for (const t of listTargets(area)) byTarget.set(t, { target: t, configured: true, runs: 0 });
    for (const r of runs) {
      const entry = byTarget.get(r.target) ?? { target: r.target, configured: false, runs: 0 };
      entry.runs++;
      byTarget.set(r.target, entry);
    }
    const list = [...byTarget.values()].sort((a, b) => a.target.localeCompare(b.target));
    if (opts.json) {
      ctx.stdout.write(`${termJson(list)}\n`);
      return 0;
    }
    const rows = list.map((t) => [t.target, t.configured ? 'yes' : 'no', String(t.runs)]);
    ctx.stdout.write(`${formatTable(['TARGET', 'IN RUNCONFIGS', 'RUNS'], rows)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
