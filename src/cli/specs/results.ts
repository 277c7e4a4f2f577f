/** Runs fed from outside the area: run-open, result, close (the daily build's schedule). */
import { TrellisError } from '../../util/errors.js';
import { defineCommand, type OptionsOf } from '../command-spec.js';
import { parseTimeValue } from '../option-values.js';
import { FORCE, RUN_KEYS } from './common.js';

/** `--value NAME=VALUE`: one recorded value. */
function parseValueOption(text: string, flag: string): { name: string; value: string } {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new TrellisError('BAD_VALUE', `${flag} '${text}' is not NAME=VALUE`, `e.g. ${flag} size=1024`);
  return { name: text.slice(0, eq), value: text.slice(eq + 1) };
}

export const runOpenSpec = defineCommand({
  command: 'run-open',
  describe: 'Open a run that results are appended to from outside the area (nothing is launched)',
  options: RUN_KEYS,
  examples: [['$0 run-open -t linux/x86_64 -r daily-2026-12-03', "open the day's build run"]],
});
export type RunOpenOptions = OptionsOf<typeof runOpenSpec>;

export const closeSpec = defineCommand({
  command: 'close',
  describe: 'Close a run: it takes no more results (unless --force), and is locked',
  options: RUN_KEYS,
  examples: [['$0 close -t linux/x86_64 -r daily-2026-12-03', "close the day's build run"]],
});
export type CloseOptions = OptionsOf<typeof closeSpec>;

export const resultSpec = defineCommand(
  {
    command: 'result',
    describe: 'Append one result to a run: a script of the build, or a test of the area',
    positionals: {
      name: { describe: 'NAME or NAME/ITEM: a test of the area, or any name (a row of its own, marked external)', required: true },
      status: { describe: 'PASS, FAIL, WARN, ABORT, SKIP, WAIVED, CHECK, TIMED_OUT, DEAD or n/a', required: true },
    },
    options: {
      ...RUN_KEYS,
      state: {
        type: 'string',
        default: 'COMPLETED',
        choices: ['RUNNING', 'COMPLETED', 'KILLED', 'INCOMPLETE'],
        describe: 'RUNNING: begun, to be appended to again',
      },
      start: {
        type: 'string',
        describe: 'when it started: ISO 8601 with a zone, or seconds since the epoch (default: now)',
        parse: parseTimeValue,
      },
      end: { type: 'string', describe: 'when it ended (same forms; default: now)', parse: parseTimeValue },
      host: { type: 'string', describe: 'where it ran (default: this host)' },
      comment: { type: 'string', alias: 'm', describe: 'a comment' },
      log: { type: 'string', describe: 'a file whose text becomes its log (result.log in its work folder)' },
      value: { type: 'string', repeat: true, describe: 'NAME=VALUE, recorded as a value (repeat for more)', parse: parseValueOption },
      ...FORCE,
    },
    examples: [
      ['$0 result -t linux/x86_64 -r daily lint PASS --start 1795400000 --end 1795400100', 'a lint script passed'],
      ['$0 result -t linux/x86_64 -r daily size/arm FAIL --log size.txt --value bytes=10240', 'with its log and a value'],
    ],
  },
  (o) => {
    if (o.start && o.end && o.end.epoch < o.start.epoch) {
      throw new TrellisError('BAD_VALUE', `--end ${o.end.text} is before --start ${o.start.text}`, 'give the end at or after the start');
    }
  },
);
export type ResultOptions = OptionsOf<typeof resultSpec>;
