/** `trellis show <test>`. */
import { defineCommand, type OptionsOf } from '../command-spec.js';
import { JSON_OPT, RUN_KEYS } from './common.js';

export const showSpec = defineCommand({
  command: 'show',
  describe: 'Show one test or item: state, times, steps, logs',
  positionals: { test: { describe: 'TEST or TEST/ITEMPATH', required: true } },
  options: { ...RUN_KEYS, ...JSON_OPT },
  examples: [['$0 show compile -t linux/x86_64 -r nightly', 'the compile test']],
});
export type ShowOptions = OptionsOf<typeof showSpec>;
