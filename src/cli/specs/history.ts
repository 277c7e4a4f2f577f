/** History and monitoring: history, last-success, check, wrap, record. */
import { KNOWN_STATUSES } from '../../model/states.js';
import { TrellisError } from '../../util/errors.js';
import { defineCommand, type OptionsOf } from '../command-spec.js';
import { parseDurationValue, parseNonNegativeNumber, parseTimeValue, parseWholeNumber } from '../option-values.js';
import { JSON_OPT, PATTERN, TARGET_PATTERN } from './common.js';

const STATUSES = KNOWN_STATUSES.filter((s) => s !== 'n/a');

/** A final status for `record --status` (any case). */
function parseStatusOption(text: string, flag: string): string {
  const status = text.trim().toUpperCase();
  if (!(STATUSES as readonly string[]).includes(status)) {
    throw new TrellisError('BAD_VALUE', `${flag} '${text}' is not a status`, `use one of ${STATUSES.join(', ')}`);
  }
  return status;
}

/** A host name for `record --host`: not empty. */
function parseHostOption(text: string, flag: string): string {
  const host = text.trim();
  if (host === '')
    throw new TrellisError('BAD_VALUE', `${flag} must not be empty`, `give the host the job ran on, or leave ${flag} out for this one`);
  return host;
}

const TEST_NAME = { describe: 'TEST, TEST/ITEMPATH or a wrap/record NAME', required: true } as const;

export const historySpec = defineCommand({
  command: 'history',
  describe: 'Recent outcomes of a test (or wrapped job) across runs, newest first',
  positionals: { test: TEST_NAME },
  options: {
    ...TARGET_PATTERN,
    ...JSON_OPT,
    limit: { type: 'string', alias: 'n', describe: 'at most N outcomes (default 20)', parse: parseWholeNumber },
  },
  examples: [
    ['$0 history compile -t linux/%', 'the last 20 outcomes of compile on Linux targets'],
    ['$0 history backup -n 5 --json', 'the last 5 runs of a wrapped cron job, as JSON'],
  ],
});
export type HistoryOptions = OptionsOf<typeof historySpec>;

export const lastSuccessSpec = defineCommand({
  command: 'last-success',
  describe: 'When, where and in which run a test last succeeded; exit 1 if never',
  positionals: { test: TEST_NAME },
  options: { ...TARGET_PATTERN, ...JSON_OPT },
  examples: [['$0 last-success backup', 'when the backup job last exited 0']],
});
export type LastSuccessOptions = OptionsOf<typeof lastSuccessSpec>;

export const checkSpec = defineCommand({
  command: 'check',
  describe: 'Exit 1 and list tests not successful within --max-age, never successful, or far slower than usual',
  options: {
    'max-age': {
      type: 'string',
      required: true,
      describe: 'the last success must be younger than this: 26h, 90m, 2d',
      parse: parseDurationValue,
    },
    ...PATTERN,
    ...TARGET_PATTERN,
    ...JSON_OPT,
    'slow-factor': {
      type: 'string',
      describe: 'slow: the latest duration is over F times the mean of the successes before (default 2; 0: never slow)',
      parse: parseNonNegativeNumber,
    },
    'slow-min': { type: 'string', describe: 'and at least this much over the mean (default 30s)', parse: parseDurationValue },
    baseline: { type: 'string', describe: 'how many successes make the mean (default 5)', parse: parseWholeNumber },
  },
  examples: [
    ['$0 check --max-age 26h', 'in a cron job that mails when it exits non-zero'],
    ["$0 check --max-age 2d -p 'backup%' --slow-factor 3", 'the backup jobs, slow when over 3 times their mean'],
  ],
});
export type CheckOptions = OptionsOf<typeof checkSpec>;

const JOB_NAME = { describe: 'the name its history is kept under (NAME or NAME/ITEM)', required: true } as const;
const LABEL = { type: 'string', alias: 't', describe: 'a label to group it by (shown as its target)' } as const;

export const wrapSpec = defineCommand(
  {
    command: 'wrap',
    describe: 'Run a command (a cron job) and record its start, end, host and outcome under NAME',
    positionals: { name: JOB_NAME },
    options: { target: LABEL },
    rest: true,
    examples: [
      ['$0 wrap backup --area /srv/jobs -- /usr/local/bin/backup.sh --full', 'in a crontab line'],
      ['$0 wrap nightly-db -t db2 -- pg_dump -f /backup/db.sql mydb', 'grouped under the label db2'],
    ],
  },
  (o) => {
    if (o.rest.length === 0) {
      throw new TrellisError(
        'USAGE',
        `give the command to run after --, e.g. trellis wrap ${o.name} -- /usr/local/bin/backup.sh`,
        'see `trellis wrap --help`',
      );
    }
  },
);
export type WrapOptions = OptionsOf<typeof wrapSpec>;

export const recordSpec = defineCommand(
  {
    command: 'record',
    describe: 'Record a job that ran elsewhere: start, end, host and status',
    positionals: { name: JOB_NAME },
    options: {
      start: {
        type: 'string',
        required: true,
        describe: 'when it started: ISO 8601 with a zone, or seconds since the epoch',
        parse: parseTimeValue,
      },
      end: { type: 'string', required: true, describe: 'when it ended (same forms)', parse: parseTimeValue },
      host: { type: 'string', describe: 'where it ran (default: this host)', parse: parseHostOption },
      status: { type: 'string', default: 'PASS', describe: 'PASS, FAIL, WARN, ABORT, …', parse: parseStatusOption },
      target: LABEL,
      message: { type: 'string', alias: 'm', describe: 'a comment' },
    },
    examples: [
      ['$0 record backup --start 2026-11-23T02:00:00Z --end 2026-11-23T02:14:10Z --host nas1', 'a run reported from another system'],
      ['$0 record backup --start 1795400000 --end 1795400850 --status FAIL', 'epoch seconds'],
    ],
  },
  (o) => {
    if (o.end.epoch < o.start.epoch) {
      throw new TrellisError('BAD_VALUE', `--end ${o.end.text} is before --start ${o.start.text}`, 'give the end at or after the start');
    }
  },
);
export type RecordOptions = OptionsOf<typeof recordSpec>;
