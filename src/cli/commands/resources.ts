/** `trellis resources [NAME] [--json]`: each shared resource, its holders and its waiters, area-wide. */
import { summarizeResources } from '../../model/resources.js';
import { formatResources, resourcesJson } from '../../report/resources-text.js';
import { TrellisError } from '../../util/errors.js';
import { termJson, termLine } from '../../util/terminal-text.js';
import { openArea, openStore } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { ResourcesOptions } from '../specs/resources.js';

export async function execute(opts: ResourcesOptions, ctx: CommandContext): Promise<number> {
  const area = openArea(opts, ctx);
  const store = await openStore(area, opts, ctx);
  try {
    // Asking frees the claims of runners that are gone, so what is shown is what holds.
    const claims = await store.listResourceClaims({ now: ctx.now(), deadtime: area.setup.deadtime });
    let statuses = summarizeResources(area.resources, claims);
    if (opts.name !== undefined) {
      statuses = statuses.filter((s) => s.name === opts.name);
      if (statuses.length === 0) {
        const known = [...area.resources.keys()];
        throw new TrellisError(
          'NO_RESOURCE',
          `no resource '${termLine(opts.name)}' in [resources] of ${area.configFile}, and none held under that name`,
          `known: ${known.join(', ') || 'none'}`,
        );
      }
    }
    if (opts.json) ctx.stdout.write(`${termJson(resourcesJson(statuses))}\n`);
    else ctx.stdout.write(`${formatResources(statuses, area.configFile)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
