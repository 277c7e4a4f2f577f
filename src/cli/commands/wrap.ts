/**
 * `trellis wrap NAME [-t LABEL] -- CMD ARGS…`: runs the command as given (no shell), records it
 * under NAME, and exits with its exit code (128 + signal when killed, 127 when not found).
 */
import { checkJobName } from '../../model/outcome-check.js';
import { runWrapped, shellExitCode } from '../../runner/wrap-job.js';
import { shortHostname } from '../../util/host.js';
import { openStoreAt } from '../area-access.js';
import type { CommandContext } from '../context.js';
import { resolveRunArea, splitTestName } from '../run-area-store.js';
import type { WrapOptions } from '../specs/history.js';

/** SIGINT and SIGTERM are passed on to the command, not acted on here. */
export const handlesSignals = true;

export async function execute(opts: WrapOptions, ctx: CommandContext): Promise<number> {
  const command = opts.rest;
  const name = splitTestName(opts.name);
  checkJobName(name.testname, name.itempath);
  // A wrong --area is an error before anything runs; a server that cannot be reached is not.
  const where = resolveRunArea(opts, ctx);
  const store = openStoreAt(where.runArea, where.areaDir, opts, ctx, 'other');
  const exit = await runWrapped({
    store,
    ...name,
    target: opts.target,
    host: shortHostname(),
    command,
    cwd: ctx.cwd,
    env: ctx.env,
    now: ctx.now,
    signals: [ctx.signal, ctx.hardSignal],
    warn: (m) => ctx.log.warn(m),
  });
  await store.then(
    (s) => s.close(),
    () => undefined,
  );
  if (exit.error !== null) {
    const why = exit.error.code === 'ENOENT' ? 'not found' : (exit.error.code ?? exit.error.message);
    ctx.stderr.write(`trellis: cannot run '${command[0]}' (${why}); check the command's name, PATH and permissions\n`);
  }
  return shellExitCode(exit);
}
