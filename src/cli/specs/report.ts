/** `trellis report <format>`. */
import { defineCommand, type OptionsOf } from '../command-spec.js';
import { PATTERN, RUN_KEYS } from './common.js';

export const reportSpec = defineCommand({
  command: 'report',
  describe: "Report a run's results: JUnit XML for Jenkins, TAP 14, or JSON",
  positionals: { format: { describe: 'the report format', required: true, choices: ['junit', 'tap', 'json'] } },
  options: {
    ...RUN_KEYS,
    ...PATTERN,
    output: { type: 'string', alias: 'o', describe: 'write to FILE (atomically) instead of stdout' },
    logs: {
      type: 'string',
      choices: ['failed', 'all', 'none'],
      default: 'failed',
      describe: 'junit: which cases carry their step logs (capped head and tail) in system-out',
    },
  },
  examples: [
    ['$0 report junit -t linux/x86_64 -r nightly -o results.xml', 'JUnit XML for Jenkins'],
    ["$0 report tap -t linux/x86_64 -r nightly -p 'unit%'", 'TAP 14 for the unit tests'],
  ],
});
export type ReportOptions = OptionsOf<typeof reportSpec>;
