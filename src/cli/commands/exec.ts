/** `trellis exec SPEC`: run one launched test or item from the job spec in its work folder. */
import path from 'node:path';
import { executeJob, execExitCode } from '../../runner/exec.js';
import { shortHostname } from '../../util/host.js';
import { processStartTime } from '../../util/process-info.js';
import { openStoreAt } from '../area-access.js';
import type { CommandContext } from '../context.js';

// TERM from the job's engine (scancel) ends the steps and records KILLED before exec leaves.
export const handlesSignals = true;

export async function execute(args: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const specFile = path.resolve(ctx.cwd, String(args['spec']));
  const result = await executeJob(specFile, {
    env: ctx.env,
    host: shortHostname(),
    pid: ctx.pid,
    procStart: processStartTime(ctx.pid),
    binDir: ctx.binDir,
    now: ctx.now,
    signal: ctx.signal,
    hardSignal: ctx.hardSignal,
    // A job reports through the run area's server: never --direct, whatever the environment says.
    openStore: (spec) => openStoreAt(spec.runArea, spec.areaDir, {}, { ...ctx, env: { ...ctx.env, TRELLIS_DIRECT: undefined } }, 'exec'),
  });
  return execExitCode(result, ctx.signal.aborted);
}
