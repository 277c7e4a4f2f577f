/** `trellis init [DIR]`: a skeleton test area to start from. */
import { createSkeletonArea } from '../../config/skeleton.js';
import path from 'node:path';
import type { CommandContext } from '../context.js';
import type { InitOptions } from '../specs/area.js';

export async function execute(opts: InitOptions, ctx: CommandContext): Promise<number> {
  const dir = path.resolve(ctx.cwd, opts.dir ?? '.');
  const files = createSkeletonArea(dir);
  for (const f of files) ctx.stdout.write(`created ${path.relative(ctx.cwd, f) || f}\n`);
  const rel = path.relative(ctx.cwd, dir) || '.';
  ctx.stdout.write(`Next: cd ${rel} && trellis run -t linux/x86_64 -r first\n`);
  return 0;
}
