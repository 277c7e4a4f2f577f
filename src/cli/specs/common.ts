/** Option declarations several commands share. */
import type { OptionSpec } from '../command-spec.js';
import { parsePatternOption } from '../option-values.js';

/** `-t TARGET -r RUNNAME`, both required: the commands that work on one run. */
export const RUN_KEYS = {
  target: { type: 'string', alias: 't', describe: 'target: one value per [fields] key, joined by /', required: true },
  runname: { type: 'string', alias: 'r', describe: 'run name', required: true },
} as const satisfies Record<string, OptionSpec>;

export const PATTERN = {
  pattern: {
    type: 'string',
    alias: 'p',
    describe: 'test pattern: % wildcards, comma list, test/item, ~ negates',
    parse: parsePatternOption,
  },
} as const satisfies Record<string, OptionSpec>;

export const JSON_OPT = { json: { type: 'boolean', describe: 'print JSON for scripts' } } as const satisfies Record<string, OptionSpec>;

export const TARGET_PATTERN = {
  target: { type: 'string', alias: 't', describe: 'only targets matching this (% wildcards)' },
} as const satisfies Record<string, OptionSpec>;

export const FORCE = {
  force: { type: 'boolean', describe: 'write even though the run is locked (recorded)' },
} as const satisfies Record<string, OptionSpec>;
