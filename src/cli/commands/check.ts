/**
 * `trellis check --max-age 26h [-p P] [-t T] [--slow-factor F] [--slow-min D] [--baseline N]`:
 * exit 1 and list the tests whose last success is too old, that never succeeded, or whose latest
 * run was far slower than their recent successes; exit 0 with one line when all is well.
 */
import { DEFAULT_SLOW_FACTOR, DEFAULT_SLOW_MIN, findProblems, listExactNames } from '../../model/outcome-check.js';
import { formatProblems, problemJson } from '../../report/history-text.js';
import { ExitCode, TrellisError } from '../../util/errors.js';
import type { CommandContext } from '../context.js';
import { openRunAreaStore } from '../run-area-store.js';
import type { CheckOptions } from '../specs/history.js';
import { termJson } from '../../util/terminal-text.js';

export async function execute(opts: CheckOptions, ctx: CommandContext): Promise<number> {
  const maxAgeText = opts.maxAge.text;
  const rules = {
    now: ctx.now(),
    maxAge: opts.maxAge.seconds,
    slowFactor: opts.slowFactor ?? DEFAULT_SLOW_FACTOR,
    slowMin: opts.slowMin?.seconds ?? DEFAULT_SLOW_MIN,
  };
  const { pattern, target, baseline } = opts;
  const store = await openRunAreaStore(opts, ctx);
  try {
    const summaries = await store.historySummary({ pattern, target, baseline });
    const problems = findProblems(summaries, rules, listExactNames(pattern));
    if (summaries.length === 0 && problems.length === 0) {
      throw new TrellisError(
        'NO_TESTS',
        `nothing to check: no outcome is recorded${pattern ? ` for tests matching ${pattern}` : ''}${target ? ` on targets matching ${target}` : ''}`,
        'check -p, -t and --area/--runarea; record jobs with `trellis wrap` or `trellis record`',
      );
    }
    const checked = summaries.length + problems.filter((p) => p.summary === null).length;
    if (opts.json) {
      const shape = { ok: problems.length === 0, maxAge: rules.maxAge, checked, problems: problems.map(problemJson) };
      ctx.stdout.write(`${termJson(shape)}\n`);
    } else if (problems.length === 0) {
      ctx.stdout.write(`all ${checked} test${checked === 1 ? '' : 's'} succeeded within ${maxAgeText}\n`);
    } else {
      const tests = new Set(problems.map((p) => `${p.target}\0${p.testname}\0${p.itempath}`)).size;
      ctx.stdout.write(`${formatProblems(problems, rules.now)}\n${tests} of ${checked} tests need attention (max age ${maxAgeText})\n`);
    }
    return problems.length === 0 ? ExitCode.ok : ExitCode.testsFailed;
  } finally {
    await store.close();
  }
}
