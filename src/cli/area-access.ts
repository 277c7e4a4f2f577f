/**
 * What most commands do first: find and read the area, open the store, find the run. The store is
 * the run area's server (found, or started, by discovery) unless --direct or TRELLIS_DIRECT=1
 * asks to open the databases in this process.
 */
import path from 'node:path';
import { findAreaDir, loadArea, resolveTarget } from '../config/area.js';
import type { Area, Target } from '../config/types.js';
import type { RunRecord, TestRecord } from '../model/records.js';
import { displayName } from '../model/display-name.js';
import { RemoteStore, type RemoteStoreOptions } from '../client/remote-store.js';
import type { Invocation } from '../model/protocol.js';
import type { Store } from '../store/store.js';
import { isDamagedRunDb, TrellisError } from '../util/errors.js';
import { loginName, shortHostname } from '../util/host.js';
import { RequestSigner } from '../client/signer.js';
import { AccessPolicySource } from '../config/access-policy.js';
import { readAreaDirFile } from '../config/meta-files.js';
import { runAreaPaths } from '../config/paths.js';
import type { GlobalOptions } from './command-spec.js';
import type { CommandContext } from './context.js';

/** Finds and reads the area named by --area (or found upward from the current folder). */
export function openArea(opts: GlobalOptions, ctx: CommandContext): Area {
  const explicit = opts.area === undefined ? undefined : path.resolve(ctx.cwd, opts.area);
  const dir = findAreaDir(ctx.cwd, explicit);
  const runArea = opts.runarea === undefined ? undefined : path.resolve(ctx.cwd, opts.runarea);
  return loadArea(dir, { env: ctx.env, runArea, cpus: ctx.cpus, debug: (m) => ctx.log.debug(m) });
}

/** True when this command opens the databases itself: --direct, or TRELLIS_DIRECT=1. */
export function isDirect(opts: Pick<GlobalOptions, 'direct'>, ctx: CommandContext): boolean {
  return opts.direct || ctx.env['TRELLIS_DIRECT'] === '1';
}

/** Opens the store of the area's run area. */
export async function openStore(
  area: Area,
  opts: GlobalOptions,
  ctx: CommandContext,
  invocation: Invocation = 'other',
  hooks: StoreHooks = {},
): Promise<Store> {
  return openStoreAt(area.runArea, area.dir, opts, ctx, invocation, hooks);
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
  opts: Pick<GlobalOptions, 'direct'>,
  ctx: CommandContext,
  invocation: Invocation,
  hooks: StoreHooks = {},
): Promise<Store> {
  if (isDirect(opts, ctx)) {
    // Loaded only here: a client of a server never needs SQLite.
    const { openDirectStore } = await import('../store/direct-store.js');
    const areaFolder = areaDir ?? readAreaDirFile(runAreaPaths(runArea));
    // This process's own user is proven by the system: the checks of [setup] admins are made as it.
    return openDirectStore(runArea, {
      host: shortHostname(),
      now: ctx.now,
      access: new AccessPolicySource(areaFolder, ctx.env),
      localUser: loginName(ctx.env),
    });
  }
  const signer = new RequestSigner({ runArea, env: ctx.env, host: shortHostname(), debug: (m) => ctx.log.debug(m) });
  const store = new RemoteStore({
    signer,
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

/**
 * Opens area and store, resolves -t and finds the run -r; reaps dead tests of that run. With
 * `damagedOk` (trellis remove), a run whose database is missing or damaged is still found.
 */
export async function openRun(
  opts: GlobalOptions & { target: string; runname: string },
  ctx: CommandContext,
  how: { damagedOk?: boolean } = {},
): Promise<RunHandle> {
  const area = openArea(opts, ctx);
  const target = resolveTarget(area, opts.target);
  const runname = opts.runname;
  const store = await openStore(area, opts, ctx);
  try {
    const run = await store.findRun(target.name, runname);
    if (!run) throw noRun(area, target.name, runname);
    let reaped: Awaited<ReturnType<Store['reapDead']>> = [];
    try {
      reaped = await store.reapDead(run.id, { now: ctx.now(), deadtime: area.setup.deadtime });
    } catch (err) {
      if (!(how.damagedOk && isDamagedRunDb(err))) throw err;
      ctx.log.warn((err as TrellisError).message);
    }
    warnReaped(reaped, ctx);
    // Reaping changes the run's state only when it reaped a test or the run was running (its
    // runner may be the one found dead): asked again only then, a round trip through a server.
    const stale = reaped.length > 0 || run.state === 'running';
    return { area, store, target, run: stale ? ((await store.getRun(run.id)) ?? run) : run };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** The error for a run that is not there. */
export function noRun(area: Area, target: string, runname: string): TrellisError {
  return new TrellisError(
    'NO_RUN',
    `no run ${target}/${runname} in ${area.runArea}`,
    `see the runs with \`trellis list runs -t ${target}\`, or start it with \`trellis run -t ${target} -r ${runname}\``,
  );
}

/** Says which tests reaping marked, and why. */
export function warnReaped(reaped: readonly TestRecord[], ctx: CommandContext): void {
  for (const t of reaped) ctx.log.warn(`${displayName(t)}: its runner is gone; marked ${t.state}/${t.status} (${t.comment})`);
}
