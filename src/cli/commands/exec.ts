/**
 * `trellis exec SPEC`: run one launched test or item from the job spec in its work folder.
 * `trellis exec --serve`: run the jobs whose spec paths come on stdin, one per line, each as it
 * comes, saying on stdout (one JSON object a line) when each is claimed, refused or ended; what
 * the ssh launcher keeps one of per host.
 */
import path from 'node:path';
import readline from 'node:readline';
import { executeJob, execExitCode, serveJobs, type ExecContext } from '../../runner/exec.js';
import { TrellisError } from '../../util/errors.js';
import { shortHostname } from '../../util/host.js';
import { processStartTime } from '../../util/process-info.js';
import { openStoreAt } from '../area-access.js';
import type { CommandContext } from '../context.js';

// TERM from the job's engine (scancel) ends the steps and records KILLED before exec leaves.
export const handlesSignals = true;

export async function execute(args: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const exec: ExecContext = {
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
  };
  const spec = typeof args['spec'] === 'string' ? args['spec'] : undefined;
  if (args['serve'] === true) {
    if (spec !== undefined) throw new TrellisError('USAGE', 'trellis exec takes a spec or --serve, not both', 'give spec paths on stdin with --serve');
    const lines = readline.createInterface({ input: ctx.stdin, crlfDelay: Infinity });
    await serveJobs(lines, exec, (e) => ctx.stdout.write(`${JSON.stringify(e)}\n`));
    return ctx.signal.aborted ? 130 : 0;
  }
  if (spec === undefined) throw new TrellisError('USAGE', 'trellis exec needs a job spec (or --serve)', 'e.g. trellis exec <workdir>/.trellis-job.json');
  const result = await executeJob(path.resolve(ctx.cwd, spec), exec);
  return execExitCode(result, ctx.signal.aborted);
}
