/** `trellis list runs|tests|targets`. */
import { defineCommand, type OptionsOf } from '../command-spec.js';
import { parseUpperWords, parseWords } from '../option-values.js';
import { JSON_OPT, PATTERN, RUN_KEYS } from './common.js';

export const listRunsSpec = defineCommand({
  command: 'list runs',
  describe: 'List the runs, newest first',
  positionals: { runpatt: { describe: 'run name pattern (% wildcards)' } },
  options: { target: { type: 'string', alias: 't', describe: 'only targets matching this (% wildcards)' }, ...JSON_OPT },
  examples: [["$0 list runs 'nightly%' -t linux/%", 'runs whose name starts with nightly']],
});
export type ListRunsOptions = OptionsOf<typeof listRunsSpec>;

export const listTestsSpec = defineCommand({
  command: 'list tests',
  describe: 'List the tests and items of a run',
  options: {
    ...RUN_KEYS,
    ...PATTERN,
    ...JSON_OPT,
    state: { type: 'string', describe: 'only these states (comma list)', parse: parseUpperWords },
    status: { type: 'string', describe: 'only these statuses (comma list)', parse: parseWords },
  },
  examples: [['$0 list tests -t linux/x86_64 -r nightly --status FAIL --json', 'failed tests as JSON']],
});
export type ListTestsOptions = OptionsOf<typeof listTestsSpec>;

export const listTargetsSpec = defineCommand({
  command: 'list targets',
  describe: 'List the targets of runconfigs.config and those that have runs',
  options: { ...JSON_OPT },
});
export type ListTargetsOptions = OptionsOf<typeof listTargetsSpec>;
