/**
 * The store for commands that need no test of the area, only its run area: history,
 * last-success, check, wrap and record. A cron job may have no test area around it, so
 * `--runarea DIR` alone will do when no area is found (as for `trellis server`).
 */
import path from 'node:path';
import type { Store } from '../store/store.js';
import { TrellisError } from '../util/errors.js';
import { openArea, openStoreAt } from './area-access.js';
import type { GlobalOptions } from './command-spec.js';
import type { CommandContext } from './context.js';

/** The run area (and the area, when there is one) these commands work on. */
export function resolveRunArea(opts: GlobalOptions, ctx: CommandContext): { runArea: string; areaDir: string | undefined } {
  try {
    const area = openArea(opts, ctx);
    return { runArea: area.runArea, areaDir: area.dir };
  } catch (err) {
    if (!(err instanceof TrellisError && err.code === 'NO_AREA' && opts.runarea !== undefined)) throw err;
    return { runArea: path.resolve(ctx.cwd, opts.runarea), areaDir: undefined };
  }
}

/** Opens the store of that run area: its server's, or the databases with --direct. */
export async function openRunAreaStore(opts: GlobalOptions, ctx: CommandContext): Promise<Store> {
  const { runArea, areaDir } = resolveRunArea(opts, ctx);
  return openStoreAt(runArea, areaDir, opts, ctx, 'other');
}

/** Splits `TEST/ITEMPATH` (or `NAME/ITEM`) at the first `/`. */
export function splitTestName(spec: string): { testname: string; itempath: string } {
  const slash = spec.indexOf('/');
  return slash < 0 ? { testname: spec, itempath: '' } : { testname: spec.slice(0, slash), itempath: spec.slice(slash + 1) };
}
