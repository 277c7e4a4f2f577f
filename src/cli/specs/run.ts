/** `trellis run`. */
import { parseParamOption } from '../../config/params.js';
import { TrellisError } from '../../util/errors.js';
import { defineCommand, type OptionsOf } from '../command-spec.js';
import { parseAgentWords, parseRunName, parseUpperWords, parseWholeNumber } from '../option-values.js';
import { FORCE, PATTERN, RUN_KEYS } from './common.js';

export const runSpec = defineCommand(
  {
    command: 'run',
    describe: 'Run the tests of an area for a target and run name',
    options: {
      ...RUN_KEYS,
      // The run is created with this name: it must be one the name rules accept (lookups take any).
      runname: { ...RUN_KEYS.runname, parse: parseRunName },
      ...PATTERN,
      ...FORCE,
      jobs: {
        type: 'string',
        alias: 'j',
        describe: 'at most N tests at once (also capped by max_concurrent_jobs)',
        parse: parseWholeNumber,
      },
      rerun: { type: 'string', describe: 'also rerun tests that ended with these statuses (comma list)', parse: parseUpperWords },
      'rerun-clean': { type: 'boolean', describe: 'rerun every test that did not end PASS, WARN, WAIVED or SKIP' },
      'rerun-all': { type: 'boolean', describe: 'rerun every selected test' },
      preclean: { type: 'boolean', describe: "remove a test's work folder before running it" },
      launcher: {
        type: 'string',
        describe:
          "where tests run: local, 'slurm [sbatch options]', 'ssh HOST…', agents, or a launcher command (default: [jobtools] launcher)",
      },
      on: {
        type: 'string',
        describe: 'run the tests on agents with this tag, or on the agent or host of this name (comma list; implies --launcher agents)',
        parse: parseAgentWords,
      },
      junit: { type: 'string', describe: 'when the run ends (even on Ctrl-C), write its JUnit report to FILE' },
      reqtarg: { type: 'boolean', describe: 'refuse a target runconfigs.config does not name (also [setup] reqtarg yes)' },
      param: {
        type: 'string',
        alias: 'P',
        repeat: true,
        describe: 'a run parameter the area declares in [params]: NAME=VALUE (repeatable)',
        parse: parseParamOption,
      },
      resume: { type: 'boolean', describe: 'rerun the tests that did not succeed from their failed step, keeping the steps before it' },
      'from-step': { type: 'string', describe: 'with --resume: start the resumed tests at step NAME (implies --resume)' },
    },
    examples: [
      ['$0 run -t linux/x86_64 -r nightly', 'run every test'],
      ["$0 run -t linux/x86_64 -r nightly -p 'smoke%' -j 4 --rerun FAIL", 'rerun the failed smoke tests, 4 at a time'],
      ['$0 run -t linux/x86_64 -r build-42 --junit results.xml', 'a Jenkins job: exit code plus report'],
      ['$0 run -t linux/x86_64 -r rel-1.4 --param VERSION=1.4.2 --param CHANNEL=beta', 'give the run parameters [params] declares'],
      ['$0 run -t linux/x86_64 -r nightly --on gpu', 'run on the agents tagged gpu (trellis agent --tags gpu)'],
      ['$0 run -t linux/x86_64 -r release-7 --resume', 'go on with a failed release flow from the step that failed'],
    ],
  },
  (o) => {
    if ((o.resume || o.fromStep !== undefined) && o.preclean)
      throw new TrellisError(
        'USAGE',
        '--resume keeps the logs of the steps before the failed one; --preclean would remove them',
        'leave one of them out',
      );
    if (o.fromStep !== undefined && o.fromStep.trim() === '')
      throw new TrellisError('USAGE', '--from-step needs a step name', 'e.g. --from-step deploy');
  },
);
export type RunOptions = OptionsOf<typeof runSpec>;

export const execSpec = defineCommand(
  {
    command: 'exec',
    describe: 'Run one launched test or item from its job spec (what remote launchers start)',
    positionals: { spec: { describe: 'the .trellis-job.json a launcher wrote into the work folder' } },
    options: { serve: { type: 'boolean', describe: 'run the jobs whose spec paths come on stdin, one per line (the ssh launcher)' } },
    examples: [['$0 exec /runs/linux/x86_64/nightly/unit/core/.trellis-job.json', 'as sbatch or a launcher command runs it']],
  },
  (o) => {
    if (o.serve && o.spec !== undefined)
      throw new TrellisError('USAGE', 'trellis exec takes a spec or --serve, not both', 'give spec paths on stdin with --serve');
    if (!o.serve && o.spec === undefined)
      throw new TrellisError('USAGE', 'trellis exec needs a job spec (or --serve)', 'e.g. trellis exec <workdir>/.trellis-job.json');
  },
);
export type ExecOptions = OptionsOf<typeof execSpec>;
