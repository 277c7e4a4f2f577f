/**
 * What the dashboard's R, K and S keys do, wired to the same code as `trellis run --rerun-all`,
 * `trellis kill` and `trellis set-state-status`: every change goes through the store (the server),
 * so locks, the events log and the change feed apply as for the commands.
 */
import path from 'node:path';
import { runAreaPaths } from '../config/paths.js';
import type { Area } from '../config/types.js';
import type { DashboardActions } from '../dashboard/dashboard.js';
import { parseStateStatus } from '../model/states.js';
import { requestKill, setStateStatus } from '../runner/run-admin.js';
import type { Store } from '../store/store.js';
import { makeDirs } from '../util/files.js';
import { shortHostname, whoAmI } from '../util/host.js';
import { readLastLine, spawnDetached } from '../util/spawn-detached.js';
import type { CommandContext } from './context.js';
import { displayName } from '../model/display-name.js';

export interface ActionDeps {
  store: Store;
  area: Area;
  ctx: CommandContext;
  /** --direct: the rerun opens the databases itself too */
  direct: boolean;
}

/** The dashboard's actions on tests. */
export function createDashboardActions({ store, area, ctx, direct }: ActionDeps): DashboardActions {
  let reruns = 0;
  return {
    async rerun(ref, run, notify) {
      const name = displayName(ref);
      const logsDir = runAreaPaths(area.runArea).logsDir;
      makeDirs(logsDir);
      const log = path.join(logsDir, `rerun-${shortHostname()}-${ctx.pid}-${++reruns}.log`);
      // An argument list, never a shell line: test and item names are passed as they are.
      const args = [
        path.join(ctx.binDir, 'trellis.js'),
        'run',
        '--area',
        area.dir,
        '--runarea',
        area.runArea,
        '-t',
        run.target,
        '-r',
        run.runname,
        '-p',
        name,
        '--rerun-all',
        ...(direct ? ['--direct'] : []),
      ];
      const child = spawnDetached(args, { logFile: log, logFlags: 'w', env: { ...ctx.env }, cwd: area.dir });
      child.once('error', (err) => notify(`rerun of ${name} could not start: ${err.message}`));
      child.once('exit', (code, signal) => {
        // Exit 1 is a run that worked and found failures; anything else is the rerun itself failing.
        if (code === 0 || code === 1) notify(`rerun of ${name} in ${run.runname} finished: ${readLastLine(log) || 'no output'}`);
        else notify(`rerun of ${name} failed (${signal ?? `exit code ${code}`}): ${readLastLine(log) || 'no output'} (log: ${log})`);
      });
      return `rerun of ${name} in ${run.target} ${run.runname} started (pid ${child.pid}); log: ${log}`;
    },

    async kill(ref, run) {
      const now = ctx.now();
      const asked = await requestKill(store, run, {
        pattern: displayName(ref),
        now,
        write: { who: whoAmI(ctx.env) },
        liveness: { now, deadtime: area.setup.deadtime },
        host: shortHostname(),
      });
      if (asked.length === 0) return `nothing to kill: ${displayName(ref)} is not running or queued in a live run`;
      return `asked the runner to kill ${asked.length === 1 ? displayName(ref) : `${asked.length} tests and items of ${displayName(ref)}`}`;
    },

    async setStateStatus(ref, run, text) {
      const { state, status } = parseStateStatus(text, 'set');
      const n = await setStateStatus(store, run.id, {
        pattern: displayName(ref),
        state,
        status,
        now: ctx.now(),
        write: { who: whoAmI(ctx.env) },
      });
      return `set ${[state, status].filter(Boolean).join('/')} on ${n} row(s) of ${displayName(ref)}`;
    },
  };
}
