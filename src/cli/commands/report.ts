/** `trellis report <junit|tap|json> -t T -r R [-p P] [-o FILE] [--logs failed|all|none]`. */
import type { LogMode, ReportFormat } from '../../report/reporters.js';
import { openRun } from '../area-access.js';
import type { CommandContext } from '../context.js';
import { buildReport, checkOutputFile, writeOutputFile } from '../report-output.js';
import type { ReportOptions } from '../specs/report.js';

/** Writes the run's report to stdout or `-o FILE`; exit 0 whatever the tests' outcome. */
export async function execute(opts: ReportOptions, ctx: CommandContext): Promise<number> {
  // The declaration's choices are the reporters' names and log modes: the compiler holds them to it.
  const format: ReportFormat = opts.format;
  const logMode: LogMode = opts.logs;
  const { pattern } = opts;
  // Checked here, before a server is found or started: a bad path is the user's to fix.
  const output = opts.output === undefined ? undefined : checkOutputFile(ctx.cwd, opts.output, '-o');
  const { store, run } = await openRun(opts, ctx);
  try {
    const text = await buildReport(store, run, { format, pattern, logMode, now: ctx.now() });
    if (output !== undefined) writeOutputFile(output, text, '-o');
    else ctx.stdout.write(text);
    return 0;
  } finally {
    await store.close();
  }
}
