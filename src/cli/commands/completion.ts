/** `trellis completion bash|zsh`: print the shell's completion script. */
import { completionScript } from '../completion.js';
import type { CommandContext } from '../context.js';
import type { CompletionOptions } from '../specs/completion.js';

export async function execute(opts: CompletionOptions, ctx: CommandContext): Promise<number> {
  ctx.stdout.write(completionScript(opts.shell));
  return 0;
}
