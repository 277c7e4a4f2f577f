/** `trellis report <junit|tap|json> -t T -r R [-p P] [-o FILE] [--logs failed|all|none]`. */
import { parseTestPattern } from '../../model/pattern.js';
import { LOG_MODES, REPORT_FORMATS, type LogMode, type ReportFormat } from '../../report/reporters.js';
import { TrellisError } from '../../util/errors.js';
import { openRun } from '../area-access.js';
import type { CommandContext } from '../context.js';
import { buildReport, checkOutputFile, writeOutputFile } from '../report-output.js';

/** Writes the run's report to stdout or `-o FILE`; exit 0 whatever the tests' outcome. */
export async function execute(args: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const format = String(args['format']) as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) {
    throw new TrellisError('USAGE', `unknown report format '${format}'`, `use one of ${REPORT_FORMATS.join(', ')}`);
  }
  const logMode = (typeof args['logs'] === 'string' ? args['logs'] : 'failed') as LogMode;
  if (!LOG_MODES.includes(logMode)) {
    throw new TrellisError('BAD_VALUE', `--logs ${logMode}: not a log mode`, `use one of ${LOG_MODES.join(', ')}`);
  }
  const pattern = typeof args['pattern'] === 'string' ? args['pattern'] : undefined;
  // Checked here, before a server is found or started: a bad pattern or path is the user's to fix.
  if (pattern !== undefined) parseTestPattern(pattern);
  const output = typeof args['output'] === 'string' ? checkOutputFile(ctx.cwd, args['output'], '-o') : undefined;
  const { store, run } = await openRun(args, ctx);
  try {
    const text = await buildReport(store, run, { format, pattern, logMode, now: ctx.now() });
    if (output !== undefined) writeOutputFile(output, text, '-o');
    else ctx.stdout.write(text);
    return 0;
  } finally {
    await store.close();
  }
}
