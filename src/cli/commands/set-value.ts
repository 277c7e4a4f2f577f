/** `trellis set-value NAME VALUE [--expected E --tol T --units U]`, from inside a test. */
import { checkLabel } from '../../model/names.js';
import { reportValue, testFromEnv } from '../../runner/in-test.js';
import { termLine } from '../../util/terminal-text.js';
import { openStoreAt } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { SetValueOptions } from '../specs/in-test.js';

export async function execute(opts: SetValueOptions, ctx: CommandContext): Promise<number> {
  checkLabel('value name', opts.name, 'set-value NAME');
  const at = testFromEnv(ctx.env, 'set-value', opts.force);
  const store = await openStoreAt(at.runArea, ctx.env['TRELLIS_AREA'], opts, ctx, 'exec');
  try {
    const { name, value, expected, tol, units } = opts;
    const status = await reportValue(store, at, { name, value, expected, tol, units, now: ctx.now() });
    ctx.stdout.write(`${termLine(`${name}=${value}`)} ${status}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
