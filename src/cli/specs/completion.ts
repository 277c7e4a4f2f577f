/** `trellis completion bash|zsh`, and the hidden command its scripts call. */
import { defineCommand, type OptionsOf } from '../command-spec.js';

export const completionSpec = defineCommand({
  command: 'completion',
  describe: 'Print a shell completion script: commands, options, targets, run names and test names',
  positionals: { shell: { describe: 'the shell', required: true, choices: ['bash', 'zsh'] } },
  examples: [
    ['source <($0 completion bash)', 'in ~/.bashrc'],
    ['$0 completion zsh > ~/.zfunc/_trellis', 'for zsh, with ~/.zfunc in $fpath (then restart it)'],
  ],
});
export type CompletionOptions = OptionsOf<typeof completionSpec>;

/** What the completion scripts call: `trellis __complete -- WORD… CURRENT` prints one candidate a line. */
export const completeSpec = defineCommand({
  command: '__complete',
  describe: '',
  hidden: true,
  rest: true,
});
export type CompleteOptions = OptionsOf<typeof completeSpec>;
