/** The in-test helpers: step, test-status, set-value (run from inside a test's steps). */
import { parseState, type TestState } from '../../model/states.js';
import { TrellisError } from '../../util/errors.js';
import { defineCommand, type OptionsOf } from '../command-spec.js';
import { parseStatus } from '../option-values.js';
import { FORCE } from './common.js';

/** A test state (`--state COMPLETED`). */
function parseStateOption(text: string, flag: string): TestState {
  const state = parseState(text);
  if (!state) throw new TrellisError('BAD_VALUE', `${flag} '${text}' is not a state`, 'use e.g. RUNNING or COMPLETED');
  return state;
}

export const stepSpec = defineCommand({
  command: 'step',
  describe: 'From inside a test: record a step starting or ending',
  positionals: { name: { describe: 'the step', required: true } },
  options: {
    state: { type: 'string', choices: ['start', 'end'], required: true, describe: 'start or end' },
    status: { type: 'string', describe: "with --state end: the step's status", parse: parseStatus },
    ...FORCE,
  },
  examples: [
    ['$0 step compile --state start', 'in a runscript'],
    ['$0 step compile --state end --status PASS', ''],
  ],
});
export type StepOptions = OptionsOf<typeof stepSpec>;

export const testStatusSpec = defineCommand(
  {
    command: 'test-status',
    describe: "From inside a test: set the test's state and status",
    options: {
      state: { type: 'string', describe: 'the state, e.g. RUNNING or COMPLETED', parse: parseStateOption },
      status: { type: 'string', describe: 'the status, e.g. WARN', parse: parseStatus },
      message: { type: 'string', alias: 'm', describe: 'a comment' },
      ...FORCE,
    },
    examples: [['$0 test-status --status WARN -m "slow disk"', '']],
  },
  (o) => {
    if (o.state === undefined && o.status === undefined && o.message === undefined) {
      throw new TrellisError('USAGE', 'test-status needs --state, --status or -m', 'e.g. trellis test-status --status WARN -m "slow disk"');
    }
  },
);
export type TestStatusOptions = OptionsOf<typeof testStatusSpec>;

export const setValueSpec = defineCommand({
  command: 'set-value',
  describe: 'From inside a test: record a value, PASS/FAIL by tolerance',
  positionals: { name: { describe: 'the name of the value', required: true }, value: { describe: 'the value', required: true } },
  options: {
    expected: { type: 'string', describe: 'the value expected' },
    tol: { type: 'string', describe: 'tolerance: N, N%, or >=N / <=N' },
    units: { type: 'string', describe: 'the units, for people' },
    ...FORCE,
  },
  examples: [['$0 set-value latency 12.5 --expected 10 --tol 30% --units ms', '']],
});
export type SetValueOptions = OptionsOf<typeof setValueSpec>;
