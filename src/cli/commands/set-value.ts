/** `trellis set-value NAME VALUE [--expected E --tol T --units U]`, from inside a test. */
import { reportValue, testFromEnv } from '../../runner/in-test.js';
import { openStoreAt } from '../area-access.js';
import type { CommandContext } from '../context.js';

export async function execute(args: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const at = testFromEnv(ctx.env, 'set-value', args['force'] === true);
  const str = (k: string) => (args[k] === undefined ? undefined : String(args[k]));
  const store = await openStoreAt(at.runArea, ctx.env['TRELLIS_AREA'], args, ctx, 'exec');
  try {
    const status = await reportValue(store, at, {
      name: String(args['name']),
      value: String(args['value']),
      expected: str('expected'),
      tol: str('tol'),
      units: str('units'),
      now: ctx.now(),
    });
    ctx.stdout.write(`${String(args['name'])}=${String(args['value'])} ${status}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
