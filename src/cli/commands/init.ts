/** `trellis init [DIR]`: a skeleton test area to start from. */
import { createSkeletonArea } from '../../config/skeleton.js';
import type { CommandContext } from '../context.js';
import path from 'node:path';

export async function execute(args: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const dir = path.resolve(ctx.cwd, typeof args['dir'] === 'string' ? args['dir'] : '.');
  const files = createSkeletonArea(dir);
  for (const f of files) ctx.stdout.write(`created ${path.relative(ctx.cwd, f) || f}\n`);
  const rel = path.relative(ctx.cwd, dir) || '.';
  ctx.stdout.write(`Next: cd ${rel} && trellis run -t linux/x86_64 -r first\n`);
  return 0;
}
