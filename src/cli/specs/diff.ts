/** `trellis diff` and `trellis log`: comparing runs and reading a run's log. */
import { DIFF_CLASSES, type DiffClass } from '../../report/diff.js';
import { LOG_KINDS } from '../../report/run-log.js';
import { TrellisError } from '../../util/errors.js';
import { defineCommand, type OptionsOf } from '../command-spec.js';
import { parseWords } from '../option-values.js';
import { JSON_OPT, PATTERN, RUN_KEYS } from './common.js';

/** --fail-on: classes, or `none` alone. */
export function parseFailOn(text: string, flag: string): DiffClass[] {
  const words = parseWords(text).map((w) => w.toLowerCase());
  if (words.length === 1 && words[0] === 'none') return [];
  const bad = words.filter((w) => !(DIFF_CLASSES as readonly string[]).includes(w));
  if (words.length === 0 || bad.length > 0) {
    throw new TrellisError(
      'BAD_VALUE',
      `${flag} '${text}': ${bad.length > 0 ? `'${bad[0]}' is not a class` : 'expected a class'}`,
      `use a comma list of ${DIFF_CLASSES.join(', ')}, or none`,
    );
  }
  return [...new Set(words)] as DiffClass[];
}

/** --kind: a comma list of event kinds. */
function parseKinds(text: string, flag: string): string[] {
  const kinds = parseWords(text).map((k) => k.toLowerCase());
  const bad = kinds.find((k) => !LOG_KINDS.includes(k));
  if (kinds.length === 0 || bad !== undefined) {
    throw new TrellisError(
      'BAD_VALUE',
      `${flag} '${text}': ${bad ? `'${bad}' is not a kind` : 'expected a kind'}`,
      `use a comma list of ${LOG_KINDS.join(', ')}`,
    );
  }
  return kinds;
}

export const diffSpec = defineCommand(
  {
    command: 'diff',
    describe: 'Compare two runs: what got worse, better, appeared or disappeared; exit 1 when worse',
    options: {
      target: { type: 'string', alias: 't', repeat: true, describe: "target of both runs; given twice: the old run's, then the new run's" },
      runname: { type: 'string', alias: 'r', repeat: true, describe: 'given twice: the old run, then the new run' },
      ...PATTERN,
      ...JSON_OPT,
      all: { type: 'boolean', alias: 'v', describe: 'also list the tests that stayed the same or are still pending' },
      'fail-on': {
        type: 'string',
        default: 'worse',
        describe: 'exit 1 when a test is in one of these classes: worse, better, appeared, disappeared, pending, same; or none',
        parse: parseFailOn,
      },
    },
    examples: [
      ['$0 diff -t linux/x86_64 -r nightly-41 -r nightly-42', 'what changed since last night'],
      ['$0 diff -t linux/x86_64 -t linux/aarch64 -r nightly -r nightly --json', 'compare two targets'],
    ],
  },
  (o) => {
    if (o.runname.length !== 2)
      throw new TrellisError('USAGE', 'give -r twice: the old run, then the new run', 'e.g. trellis diff -t T -r nightly-41 -r nightly-42');
    if (o.target.length < 1 || o.target.length > 2)
      throw new TrellisError('USAGE', 'give -t once (both runs) or twice (old, then new)', 'e.g. trellis diff -t T -r OLD -r NEW');
  },
);
export type DiffOptions = OptionsOf<typeof diffSpec>;

export const logSpec = defineCommand(
  {
    command: 'log',
    describe: 'The log of a run: state changes, locks, forced writes, runners',
    options: {
      ...RUN_KEYS,
      ...JSON_OPT,
      kind: {
        type: 'string',
        describe: 'only these kinds (comma list): run, lock, unlock, forced, agent, params, state, removed',
        parse: parseKinds,
      },
      all: { type: 'boolean', describe: 'every event, test state changes included' },
    },
    examples: [
      ['$0 log -t linux/x86_64 -r release-1.0', 'who locked it, who forced changes, when it ran'],
      ['$0 log -t linux/x86_64 -r nightly --kind forced --json', 'forced writes, for a script'],
    ],
  },
  (o) => {
    if (o.all && o.kind !== undefined) throw new TrellisError('USAGE', '--all and --kind are mutually exclusive', 'give one of them');
  },
);
export type LogOptions = OptionsOf<typeof logSpec>;
