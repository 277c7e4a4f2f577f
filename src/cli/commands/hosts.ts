/** `trellis hosts [--json]`: every registered agent (docs/agents.md). */
import { formatHosts, hostsJson } from '../../report/hosts-text.js';
import { termJson } from '../../util/terminal-text.js';
import { openArea, openStore } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { HostsOptions } from '../specs/agents.js';

export async function execute(opts: HostsOptions, ctx: CommandContext): Promise<number> {
  const area = openArea(opts, ctx);
  const store = await openStore(area, opts, ctx);
  try {
    // Asking hands the jobs of agents that are gone back to the queue, so what is shown is what runs.
    const hosts = await store.listHosts({ now: ctx.now(), deadtime: area.setup.deadtime });
    if (opts.json) ctx.stdout.write(`${termJson(hostsJson(hosts))}\n`);
    else ctx.stdout.write(`${formatHosts(hosts, ctx.now())}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
