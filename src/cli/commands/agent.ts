/**
 * `trellis agent [--name N] [--tags a,b] [--slots N]`: serve the run area's agent pool from this
 * host until stopped (runner/pool-agent.ts). `trellis agent stop NAME`: ask that agent to drain.
 */
import path from 'node:path';
import { loadArea } from '../../config/area.js';
import { readAreaDirFile, readToken } from '../../config/meta-files.js';
import { runAreaPaths } from '../../config/paths.js';
import type { Area } from '../../config/types.js';
import type { RemoteStore } from '../../client/remote-store.js';
import { runPoolAgent } from '../../runner/pool-agent.js';
import { TrellisError } from '../../util/errors.js';
import { loginName, shortHostname, whoAmI } from '../../util/host.js';
import { processStartTime } from '../../util/process-info.js';
import { trellisVersion } from '../../util/version.js';
import { termLine } from '../../util/terminal-text.js';
import { openArea, openStoreAt } from '../area-access.js';
import type { CommandContext } from '../context.js';
import { parseInTestHelper } from '../in-test-parse.js';
import type { AgentOptions } from '../specs/agents.js';

// TERM drains (the jobs it runs finish); a second one stops them.
export const handlesSignals = (opts: AgentOptions) => opts.action === undefined;

export async function execute(opts: AgentOptions, ctx: CommandContext): Promise<number> {
  if (opts.direct || ctx.env['TRELLIS_DIRECT'] === '1') {
    throw new TrellisError(
      'USAGE',
      "an agent works through the run area's server, which --direct bypasses",
      'leave out --direct (and TRELLIS_DIRECT=1)',
    );
  }
  const area = agentArea(opts, ctx);
  const env = { ...ctx.env, TRELLIS_DIRECT: undefined };
  const store = (await openStoreAt(area.runArea, area.dir, { direct: false }, { ...ctx, env }, 'exec')) as RemoteStore;
  try {
    if (opts.action === 'stop') {
      if (opts.agent === undefined)
        throw new TrellisError('USAGE', 'agent stop: which agent?', 'trellis agent stop NAME (see trellis hosts)');
      const agent = await store.drainPoolAgent(opts.agent, { who: whoAmI(ctx.env) });
      const what = agent.state === 'stopped' ? 'has already left the pool' : 'will finish the jobs it runs, then leave';
      ctx.stdout.write(`${termLine(`agent ${agent.name} on ${agent.host} ${what}`)}\n`);
      return 0;
    }
    if (opts.agent !== undefined)
      throw new TrellisError('USAGE', `agent: unexpected '${termLine(opts.agent)}'`, 'name the agent with --name');
    const name = opts.name ?? shortHostname().replace(/[^A-Za-z0-9_.-]/g, '-');
    const agentEnv = { ...env, TRELLIS_AGENT: name };
    return await runPoolAgent({
      spec: {
        name,
        host: shortHostname(),
        user: loginName(ctx.env),
        pid: ctx.pid,
        procStart: processStartTime(ctx.pid),
        slots: opts.slots ?? ctx.cpus,
        tags: opts.tags ?? [],
        version: trellisVersion(),
      },
      runArea: area.runArea,
      store,
      waitForChanges: (cursor, waitMs, signal) => store.waitForChanges(cursor, waitMs, signal),
      deadtime: area.setup.deadtime,
      exec: {
        env: agentEnv,
        host: shortHostname(),
        pid: ctx.pid,
        procStart: processStartTime(ctx.pid),
        binDir: ctx.binDir,
        now: ctx.now,
        parseHelper: parseInTestHelper,
      },
      now: ctx.now,
      signal: ctx.signal,
      hardSignal: ctx.hardSignal,
      say: (line) => ctx.stdout.write(`${termLine(line)}\n`),
    });
  } finally {
    await store.close();
  }
}

/** The area: --area, else the one the run area's .meta/area-dir names, else found from here. */
function agentArea(opts: AgentOptions, ctx: CommandContext): Area {
  if (opts.area === undefined && opts.runarea !== undefined) {
    const runArea = path.resolve(ctx.cwd, opts.runarea);
    const paths = runAreaPaths(runArea);
    // An agent that cannot read the area token could never take a job: say so first.
    readToken(paths);
    const dir = readAreaDirFile(paths);
    if (dir !== undefined) return loadArea(dir, { env: ctx.env, runArea, cpus: ctx.cpus, debug: (m) => ctx.log.debug(m) });
  }
  return openArea(opts, ctx);
}
