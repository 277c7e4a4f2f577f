/**
 * What most commands do first: find and read the area, open the store, find the run. The store is
 * the run area's server (found, or started, by discovery) unless --direct or TRELLIS_DIRECT=1
 * asks to open the databases in this process.
 */
import path from 'node:path';
import { findAreaDir, loadArea, resolveTarget } from '../config/area.js';
import type { Area, Target } from '../config/types.js';
import type { RunRecord } from '../model/records.js';
import { RemoteStore, type RemoteStoreOptions } from '../client/remote-store.js';
import type { Invocation } from '../model/protocol.js';
import type { Store } from '../store/store.js';
import { TrellisError } from '../util/errors.js';
import { shortHostname } from '../util/host.js';
import type { CommandContext } from './context.js';

/** Finds and reads the area named by --area (or found upward from the current folder). */
export function openArea(args: Record<string, unknown>, ctx: CommandContext): Area {
  const explicit = typeof args['area'] === 'string' ? path.resolve(ctx.cwd, args['area']) : undefined;
  const dir = findAreaDir(ctx.cwd, explicit);
  const runArea = typeof args['runarea'] === 'string' ? path.resolve(ctx.cwd, args['runarea']) : undefined;
  return loadArea(dir, { env: ctx.env, runArea, cpus: ctx.cpus, debug: (m) => ctx.log.debug(m) });
}

/** True when this command opens the databases itself: --direct, or TRELLIS_DIRECT=1. */
export function isDirect(args: Record<string, unknown>, ctx: CommandContext): boolean {
  return args['direct'] === true || ctx.env['TRELLIS_DIRECT'] === '1';
}

/** Opens the store of the area's run area. */
export async function openStore(
  area: Area,
  args: Record<string, unknown>,
  ctx: CommandContext,
  invocation: Invocation = 'other',
  hooks: StoreHooks = {},
): Promise<Store> {
  return openStoreAt(area.runArea, area.dir, args, ctx, invocation, hooks);
}

/** What a long-lived client (the dashboard) wants to hear from the remote store. */
export interface StoreHooks {
  onConnection?: RemoteStoreOptions['onConnection'];
}

/**
 * Opens the store of a run area given by path (in-test helpers know only that): the server's,
 * connecting before returning so that a server that cannot be found or started is reported here.
 */
export async function openStoreAt(
  runArea: string,
  areaDir: string | undefined,
  args: Record<string, unknown>,
  ctx: CommandContext,
  invocation: Invocation,
  hooks: StoreHooks = {},
): Promise<Store> {
  if (isDirect(args, ctx)) {
    // Loaded only here: a client of a server never needs SQLite.
    const { openDirectStore } = await import('../store/direct-store.js');
    return openDirectStore(runArea, { host: shortHostname(), now: ctx.now });
  }
  const store = new RemoteStore({
    runArea,
    areaDir,
    invocation,
    host: shortHostname(),
    now: ctx.now,
    debug: (m) => ctx.log.debug(m),
    autoStart: true,
    env: ctx.env,
    trellisJs: path.join(ctx.binDir, 'trellis.js'),
    ...hooks,
  });
  await store.connection();
  return store;
}

export interface RunHandle {
  area: Area;
  store: Store;
  target: Target;
  run: RunRecord;
}

/** Opens area and store, resolves -t and finds the run -r; reaps dead tests of that run. */
export async function openRun(args: Record<string, unknown>, ctx: CommandContext): Promise<RunHandle> {
  const area = openArea(args, ctx);
  const target = resolveTarget(area, String(args['target']));
  const runname = String(args['runname']);
  const store = await openStore(area, args, ctx);
  try {
    const run = await store.findRun(target.name, runname);
    if (!run) {
      throw new TrellisError(
        'NO_RUN',
        `no run ${target.name}/${runname} in ${area.runArea}`,
        `see the runs with \`trellis list runs -t ${target.name}\`, or start it with \`trellis run -t ${target.name} -r ${runname}\``,
      );
    }
    const reaped = await store.reapDead(run.id, { now: ctx.now(), deadtime: area.setup.deadtime });
    for (const t of reaped) {
      ctx.log.warn(`${t.testname}${t.itempath ? '/' + t.itempath : ''}: its runner is gone; marked INCOMPLETE/DEAD (${t.comment})`);
    }
    return { area, store, target, run: (await store.getRun(run.id)) ?? run };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** Splits a comma list option into upper-case words. */
export function commaList(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
