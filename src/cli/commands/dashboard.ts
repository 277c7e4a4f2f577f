/** `trellis dashboard [-t] [-r] [-p] [--status]`: the live runs × tests matrix. */
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runDashboard } from '../../dashboard/dashboard.js';
import { openScreen } from '../../dashboard/screen.js';
import { TrellisError } from '../../util/errors.js';
import { isDirect, openArea, openStore } from '../area-access.js';
import type { CommandContext } from '../context.js';
import { feedOf } from '../feed-access.js';
import type { DashboardOptions } from '../specs/area.js';
import { createTestActions } from '../test-actions.js';

export const handlesSignals = true;

export async function execute(opts: DashboardOptions, ctx: CommandContext): Promise<number> {
  if (!ctx.stdin.isTTY || !ctx.stdout.isTTY) {
    throw new TrellisError(
      'USAGE',
      'trellis dashboard needs a terminal, and stdin or stdout is not one',
      'run it in a terminal (or tmux); scripts can use `trellis list runs` and `trellis list tests --json`',
    );
  }
  const area = openArea(opts, ctx);
  let relay: (message: string | undefined) => void = () => {};
  const store = await openStore(area, opts, ctx, 'dboard', {
    onConnection: (e) => relay(e.state === 'lost' ? `${e.message}; reconnecting...` : undefined),
  });
  const direct = isDirect(opts, ctx);
  const screen = openScreen({ colour: (ctx.env['NO_COLOR'] ?? '') === '', input: ctx.stdin, output: ctx.stdout });
  try {
    await runDashboard({
      screen,
      feed: feedOf(store),
      getTest: (runId, testname, itempath) => store.getTest(runId, testname, itempath),
      listHosts: () => store.listHosts({ now: ctx.now(), deadtime: area.setup.deadtime }),
      actions: createTestActions({ store, area, ctx, direct }),
      filters: {
        target: opts.target ?? '',
        runname: opts.runname ?? '',
        pattern: opts.pattern ?? '',
        status: opts.status ?? '',
      },
      title: `${path.relative(ctx.cwd, area.runArea) || '.'}${direct ? ' (direct)' : ''}`,
      emptyHint: `No runs yet in ${area.runArea}.\nStart one with:  trellis run -t TARGET -r RUNNAME   (see \`trellis list targets\`)\nIt shows here as soon as it starts.`,
      signal: ctx.signal,
      reapRunning: async (runs) => {
        for (const run of runs) await store.reapDead(run.id, { now: ctx.now(), deadtime: area.setup.deadtime });
      },
      subscribeConnection: (fn) => (relay = fn),
      ...traceTo(ctx.env['TRELLIS_DASHBOARD_TRACE']),
    });
  } finally {
    screen.destroy();
    await store.close();
  }
  return 0;
}

/** TRELLIS_DASHBOARD_TRACE=FILE: one line per timing (bench/dashboard.mjs reads it). */
function traceTo(file: string | undefined) {
  if (!file) return {};
  return {
    clockMs: () => performance.now(),
    trace: (event: string, ms: number) => appendFileSync(file, `${event} ${ms.toFixed(2)}\n`),
  };
}
