/** The commands that change a run: set-state-status, remove, lock, unlock, kill. */
import { defineCommand, type OptionsOf } from '../command-spec.js';
import { FORCE, PATTERN, RUN_KEYS } from './common.js';

export const setStateStatusSpec = defineCommand({
  command: 'set-state-status',
  describe: 'Set the state and status of tests',
  positionals: { statestatus: { describe: 'STATE,STATUS (either may be empty)', required: true } },
  options: { ...RUN_KEYS, pattern: { ...PATTERN.pattern, required: true }, ...FORCE },
  examples: [['$0 set-state-status COMPLETED,WAIVED -t linux/x86_64 -r nightly -p flaky', 'waive a test']],
});
export type SetStateStatusOptions = OptionsOf<typeof setStateStatusSpec>;

export const removeSpec = defineCommand({
  command: 'remove',
  describe: 'Remove a run, or the tests of a run that match -p',
  options: { ...RUN_KEYS, ...PATTERN, ...FORCE },
  examples: [['$0 remove -t linux/x86_64 -r scratch', 'remove a whole run: database and work folders']],
});
export type RemoveOptions = OptionsOf<typeof removeSpec>;

export const lockSpec = defineCommand({
  command: 'lock',
  describe: 'Lock a run: it refuses new results unless --force',
  options: RUN_KEYS,
  examples: [['$0 lock -t linux/x86_64 -r release-1.0', 'freeze a run']],
});
export const unlockSpec = defineCommand({
  command: 'unlock',
  describe: 'Unlock a run',
  options: RUN_KEYS,
  examples: [['$0 unlock -t linux/x86_64 -r release-1.0', 'thaw it']],
});
/** lock and unlock take the same options. */
export type LockOptions = OptionsOf<typeof lockSpec>;

export const killSpec = defineCommand({
  command: 'kill',
  describe: 'Kill running (or queued) tests of a live run',
  options: { ...RUN_KEYS, ...PATTERN, ...FORCE },
  examples: [["$0 kill -t linux/x86_64 -r nightly -p 'slow%'", 'stop the slow tests']],
});
export type KillOptions = OptionsOf<typeof killSpec>;

export const approveSpec = defineCommand({
  command: 'approve',
  describe: 'Sign off (or --reject) the manual step a test waits at',
  positionals: {
    test: { describe: 'TEST or TEST/ITEM (a test with items: each item that waits)', required: true },
    step: { describe: 'the step that waits (checked; default: whichever it is)' },
  },
  options: {
    ...RUN_KEYS,
    reject: { type: 'boolean', describe: 'reject the sign-off: the step and the test end FAIL' },
    comment: { type: 'string', alias: 'm', describe: 'why: kept with the step and in the run log' },
    ...FORCE,
  },
  examples: [
    ['$0 approve -t linux/x86_64 -r release-7 release sign-off', 'approve; the test goes on with its next step'],
    ["$0 approve -t linux/x86_64 -r release-7 release --reject -m 'notes incomplete'", 'reject: the test fails'],
  ],
});
export type ApproveOptions = OptionsOf<typeof approveSpec>;
