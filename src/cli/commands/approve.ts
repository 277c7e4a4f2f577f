/** `trellis approve -t T -r R TEST[/ITEM] [STEP] [--reject] [--comment C]`: sign off a manual step. */
import { displayName } from '../../model/display-name.js';
import { approveTests } from '../../runner/approve.js';
import { loginName, whoAmI } from '../../util/host.js';
import { termLine } from '../../util/terminal-text.js';
import { openRun } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { ApproveOptions } from '../specs/run-admin.js';

export async function execute(opts: ApproveOptions, ctx: CommandContext): Promise<number> {
  const { store, run, area } = await openRun(opts, ctx);
  try {
    const signed = await approveTests(store, run, area, {
      test: opts.test,
      step: opts.step ?? '',
      reject: opts.reject,
      comment: opts.comment ?? '',
      user: loginName(ctx.env),
      write: { force: opts.force, who: whoAmI(ctx.env) },
      now: ctx.now(),
    });
    const verb = opts.reject ? 'Rejected' : 'Approved';
    for (const t of signed) ctx.stdout.write(`${verb} ${termLine(displayName(t))}\n`);
    const next = opts.reject
      ? 'The step and the test are FAIL; tests that wait on it end PREQ_FAIL.'
      : `The run's runner goes on with the next step within a second; if none is running, the next \`trellis run -t ${run.target} -r ${run.runname}\` does.`;
    ctx.stdout.write(`${termLine(next)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
