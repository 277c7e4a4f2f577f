/**
 * `trellis exec SPEC`: run one launched test or item from the job spec in its work folder.
 * `trellis exec --serve`: run the jobs whose spec paths come on stdin, one per line, each as it
 * comes, saying on stdout (one JSON object a line) when each is claimed, refused or ended; what
 * the ssh launcher keeps one of per host.
 */
import path from 'node:path';
import readline from 'node:readline';
import { executeJob, execExitCode, serveJobs, type ExecContext } from '../../runner/exec.js';
import { shortHostname } from '../../util/host.js';
import { processStartTime } from '../../util/process-info.js';
import { openStoreAt } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { ExecOptions } from '../specs/run.js';
import { parseInTestHelper } from '../in-test-parse.js';

// TERM from the job's engine (scancel) ends the steps and records KILLED before exec leaves.
export const handlesSignals = true;

export async function execute(opts: ExecOptions, ctx: CommandContext): Promise<number> {
  const exec: ExecContext = {
    env: ctx.env,
    host: shortHostname(),
    pid: ctx.pid,
    procStart: processStartTime(ctx.pid),
    binDir: ctx.binDir,
    now: ctx.now,
    signal: ctx.signal,
    hardSignal: ctx.hardSignal,
    parseHelper: parseInTestHelper,
    // A job reports through the run area's server: never --direct, whatever the environment says.
    openStore: (spec) =>
      openStoreAt(spec.runArea, spec.areaDir, { direct: false }, { ...ctx, env: { ...ctx.env, TRELLIS_DIRECT: undefined } }, 'exec'),
  };
  // The declaration checked that exactly one of a spec and --serve is given.
  const { spec } = opts;
  if (opts.serve || spec === undefined) {
    const lines = readline.createInterface({ input: ctx.stdin, crlfDelay: Infinity });
    await serveJobs(lines, exec, (e) => ctx.stdout.write(`${JSON.stringify(e)}\n`));
    return ctx.signal.aborted ? 130 : 0;
  }
  const result = await executeJob(path.resolve(ctx.cwd, spec), exec);
  return execExitCode(result, ctx.signal.aborted);
}
