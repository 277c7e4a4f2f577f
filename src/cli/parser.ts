/**
 * The command line, as a pure function: argv in, a command name and options (or help text) out.
 * yargs' output is captured, never printed, and it never exits the process.
 */
import yargs, { type Argv } from 'yargs';
import { TrellisError } from '../util/errors.js';

export type CommandName =
  | 'run'
  | 'list-runs'
  | 'list-tests'
  | 'list-targets'
  | 'show'
  | 'set-state-status'
  | 'remove'
  | 'lock'
  | 'unlock'
  | 'kill'
  | 'init'
  | 'config-show'
  | 'step'
  | 'test-status'
  | 'set-value'
  | 'history'
  | 'last-success'
  | 'check'
  | 'wrap'
  | 'record'
  | 'server'
  | 'dashboard'
  | 'report'
  | 'diff'
  | 'log'
  | 'exec';

export type ParsedArgs = Record<string, unknown> & { _: (string | number)[] };

export type ParseResult =
  | { kind: 'command'; command: CommandName; args: ParsedArgs }
  | { kind: 'output'; text: string; exitCode: number };

const RUN_KEYS = {
  target: { alias: 't', type: 'string', describe: 'target: one value per [fields] key, joined by /', requiresArg: true },
  runname: { alias: 'r', type: 'string', describe: 'run name', requiresArg: true },
} as const;
const PATTERN = {
  pattern: { alias: 'p', type: 'string', describe: "test pattern: % wildcards, comma list, test/item, ~ negates", requiresArg: true },
} as const;
const JSON_OPT = { json: { type: 'boolean', describe: 'print JSON for scripts' } } as const;
const TARGET_PATTERN = {
  target: { alias: 't', type: 'string', describe: 'only targets matching this (% wildcards)', requiresArg: true },
} as const;
const FORCE = { force: { type: 'boolean', describe: 'write even though the run is locked (recorded)' } } as const;

function need(...keys: string[]) {
  return (a: Record<string, unknown>) => {
    for (const k of keys) {
      if (a[k] === undefined || a[k] === '') throw new Error(`missing required option --${k}`);
    }
    return true;
  };
}

/** Coerces an option to a whole number of 1 or more; yargs' own `number` turns `x` into NaN. */
function wholeNumber(flag: string) {
  return (v: unknown): number => {
    const text = String(Array.isArray(v) ? v[v.length - 1] : v).trim();
    if (!/^[0-9]+$/.test(text) || Number(text) < 1) throw new Error(`${flag} ${text}: expected a whole number of 1 or more, e.g. ${flag} 4`);
    return Number(text);
  };
}

/** Coerces an option to a number of 0 or more. */
function nonNegativeNumber(flag: string) {
  return (v: unknown): number => {
    const text = String(Array.isArray(v) ? v[v.length - 1] : v).trim();
    if (!/^[0-9]+(\.[0-9]+)?$/.test(text)) throw new Error(`${flag} ${text}: expected a number of 0 or more, e.g. ${flag} 2.5`);
    return Number(text);
  };
}

/** Builds the yargs definition; `select` receives the command chosen. */
function define(argv: string[], width: number | undefined, select: (c: CommandName) => void): Argv {
  const cmd = (name: CommandName) => () => select(name);
  return yargs(argv)
    .scriptName('trellis')
    .usage('$0 <command> [options]\n\nTrellis runs test areas, records every result in SQLite, and reports on them.')
    .option('area', { type: 'string', describe: 'the test area folder (default: search upward from here)', requiresArg: true, global: true })
    .option('runarea', { type: 'string', describe: 'the run area (default: [setup] runarea, else <area>/runs)', requiresArg: true, global: true })
    .option('direct', { type: 'boolean', describe: 'open the databases in this process instead of using a server (also TRELLIS_DIRECT=1)', global: true })
    .option('debug', { type: 'boolean', describe: 'debug logging, stack traces on errors', global: true })
    .command(
      'run',
      'Run the tests of an area for a target and run name',
      (y) =>
        y
          .options({ ...RUN_KEYS, ...PATTERN, ...FORCE })
          .option('jobs', {
            alias: 'j',
            type: 'string',
            describe: 'at most N tests at once (also capped by max_concurrent_jobs)',
            requiresArg: true,
            coerce: wholeNumber('-j'),
          })
          .option('rerun', { type: 'string', describe: 'also rerun tests that ended with these statuses (comma list)', requiresArg: true })
          .option('rerun-clean', { type: 'boolean', describe: 'rerun every test that did not end PASS, WARN, WAIVED or SKIP' })
          .option('rerun-all', { type: 'boolean', describe: 'rerun every selected test' })
          .option('preclean', { type: 'boolean', describe: 'remove a test\'s work folder before running it' })
          .option('launcher', {
            type: 'string',
            describe: "where tests run: local, 'slurm [sbatch options]', 'ssh HOST…', or a launcher command (default: [jobtools] launcher)",
            requiresArg: true,
          })
          .option('junit', { type: 'string', describe: 'when the run ends (even on Ctrl-C), write its JUnit report to FILE', requiresArg: true })
          .check(need('target', 'runname'))
          .example('$0 run -t linux/x86_64 -r nightly', 'run every test')
          .example("$0 run -t linux/x86_64 -r nightly -p 'smoke%' -j 4 --rerun FAIL", 'rerun the failed smoke tests, 4 at a time')
          .example('$0 run -t linux/x86_64 -r build-42 --junit results.xml', 'a Jenkins job: exit code plus report'),
      cmd('run'),
    )
    .command('report <format>', 'Report a run\'s results: JUnit XML for Jenkins, TAP 14, or JSON', (y) =>
      y
        .positional('format', { choices: ['junit', 'tap', 'json'] as const, describe: 'the report format' })
        .options({ ...RUN_KEYS, ...PATTERN })
        .option('output', { alias: 'o', type: 'string', describe: 'write to FILE (atomically) instead of stdout', requiresArg: true })
        .option('logs', {
          choices: ['failed', 'all', 'none'] as const,
          describe: 'junit: which cases carry their step logs (capped head and tail) in system-out (default: failed)',
        })
        .check(need('target', 'runname'))
        .example('$0 report junit -t linux/x86_64 -r nightly -o results.xml', 'JUnit XML for Jenkins')
        .example("$0 report tap -t linux/x86_64 -r nightly -p 'unit%'", 'TAP 14 for the unit tests'),
      cmd('report'),
    )
    .command('list <what> [runpatt]', 'List runs, tests or targets', (y) =>
      y
        .positional('what', { choices: ['runs', 'tests', 'targets'] as const, describe: 'what to list' })
        .positional('runpatt', { type: 'string', describe: 'run name pattern (list runs)' })
        .options({ ...RUN_KEYS, ...PATTERN, ...JSON_OPT })
        .option('state', { type: 'string', describe: 'only these states (comma list)', requiresArg: true })
        .option('status', { type: 'string', describe: 'only these statuses (comma list)', requiresArg: true })
        .check((a) => (a['what'] === 'tests' ? need('target', 'runname')(a) : true))
        .example("$0 list runs 'nightly%' -t linux/%", 'runs whose name starts with nightly')
        .example('$0 list tests -t linux/x86_64 -r nightly --status FAIL --json', 'failed tests as JSON'),
      (a) => select(`list-${a['what'] as 'runs' | 'tests' | 'targets'}`),
    )
    .command('show <test>', 'Show one test or item: state, times, steps, logs', (y) =>
      y
        .positional('test', { type: 'string', describe: 'TEST or TEST/ITEMPATH' })
        .options({ ...RUN_KEYS, ...JSON_OPT })
        .check(need('target', 'runname'))
        .example('$0 show compile -t linux/x86_64 -r nightly', 'the compile test'),
      cmd('show'),
    )
    .command('set-state-status <statestatus>', 'Set the state and status of tests', (y) =>
      y
        .positional('statestatus', { type: 'string', describe: 'STATE,STATUS (either may be empty)' })
        .options({ ...RUN_KEYS, ...PATTERN, ...FORCE })
        .check(need('target', 'runname', 'pattern'))
        .example('$0 set-state-status COMPLETED,WAIVED -t linux/x86_64 -r nightly -p flaky', 'waive a test'),
      cmd('set-state-status'),
    )
    .command('remove', 'Remove a run, or the tests of a run that match -p', (y) =>
      y
        .options({ ...RUN_KEYS, ...PATTERN, ...FORCE })
        .check(need('target', 'runname'))
        .example('$0 remove -t linux/x86_64 -r scratch', 'remove a whole run: database and work folders'),
      cmd('remove'),
    )
    .command('lock', 'Lock a run: it refuses new results unless --force', (y) =>
      y.options(RUN_KEYS).check(need('target', 'runname')).example('$0 lock -t linux/x86_64 -r release-1.0', 'freeze a run'),
      cmd('lock'),
    )
    .command('unlock', 'Unlock a run', (y) =>
      y.options(RUN_KEYS).check(need('target', 'runname')).example('$0 unlock -t linux/x86_64 -r release-1.0', 'thaw it'),
      cmd('unlock'),
    )
    .command('kill', 'Kill running (or queued) tests of a live run', (y) =>
      y
        .options({ ...RUN_KEYS, ...PATTERN, ...FORCE })
        .check(need('target', 'runname'))
        .example("$0 kill -t linux/x86_64 -r nightly -p 'slow%'", 'stop the slow tests'),
      cmd('kill'),
    )
    .command('init [dir]', 'Create a skeleton test area', (y) =>
      y.positional('dir', { type: 'string', describe: 'folder to create it in', default: '.' }).example('$0 init myarea', 'a new area in ./myarea'),
      cmd('init'),
    )
    .command('config <action>', 'Show the area configuration', (y) =>
      y
        .positional('action', { choices: ['show'] as const })
        .option('section', { type: 'string', describe: 'only this section', requiresArg: true })
        .option('var', { type: 'string', describe: 'only this key (with --section)', requiresArg: true })
        .option('file', { choices: ['config', 'runconfigs'] as const, default: 'config', describe: 'which file' })
        .options({ target: RUN_KEYS.target, ...JSON_OPT })
        .example('$0 config show --section setup --var max_concurrent_jobs', 'one value'),
      cmd('config-show'),
    )
    .command('step <name>', 'From inside a test: record a step starting or ending', (y) =>
      y
        .positional('name', { type: 'string' })
        .option('state', { choices: ['start', 'end'] as const, demandOption: true })
        .option('status', { type: 'string', describe: 'with --state end: the step\'s status', requiresArg: true })
        .options(FORCE)
        .example('$0 step compile --state start', 'in a runscript')
        .example('$0 step compile --state end --status PASS', ''),
      cmd('step'),
    )
    .command('test-status', 'From inside a test: set the test\'s state and status', (y) =>
      y
        .option('state', { type: 'string', requiresArg: true })
        .option('status', { type: 'string', requiresArg: true })
        .option('message', { alias: 'm', type: 'string', describe: 'a comment', requiresArg: true })
        .options(FORCE)
        .example('$0 test-status --status WARN -m "slow disk"', ''),
      cmd('test-status'),
    )
    .command('set-value <name> <value>', 'From inside a test: record a value, PASS/FAIL by tolerance', (y) =>
      y
        .positional('name', { type: 'string' })
        .positional('value', { type: 'string' })
        .option('expected', { type: 'string', requiresArg: true })
        .option('tol', { type: 'string', describe: 'tolerance: N, N%, or >=N / <=N', requiresArg: true })
        .option('units', { type: 'string', requiresArg: true })
        .options(FORCE)
        .example('$0 set-value latency 12.5 --expected 10 --tol 30% --units ms', ''),
      cmd('set-value'),
    )
    .command('server <action>', 'Start, list, stop or ping the run area\'s servers', (y) =>
      y
        .positional('action', { choices: ['start', 'list', 'stop', 'ping'] as const, describe: 'what to do' })
        .option('invocation', {
          choices: ['dboard', 'runner', 'other', 'exec'] as const,
          default: 'other',
          describe: 'start: the kind of client it serves (clients prefer dboard, runner, other, exec)',
        })
        .option('foreground', { type: 'boolean', describe: 'start: serve in this process until idle or stopped' })
        .option('all', { type: 'boolean', describe: 'stop: every server of the run area, not only the one clients use' })
        .options(JSON_OPT)
        .example('$0 server start', 'start a server in the background and print where it listens')
        .example('$0 server list', 'every packet in .meta: live, stale or unreachable, and the lease holder')
        .example('$0 server stop --all', 'stop every server of the run area'),
      cmd('server'),
    )
    .command('dashboard', 'Watch runs × tests live in the terminal; rerun, kill or set tests from it', (y) =>
      y
        .option('target', { alias: 't', type: 'string', describe: 'only runs of these targets (% wildcards, comma list)', requiresArg: true })
        .option('runname', { alias: 'r', type: 'string', describe: 'only runs with these names (% wildcards, comma list)', requiresArg: true })
        .options(PATTERN)
        .option('status', { type: 'string', describe: 'only rows with these states or statuses (comma list)', requiresArg: true })
        .example('$0 dashboard', 'every run, newest on the left')
        .example("$0 dashboard -t 'linux/%' -r 'nightly%' --status FAIL", 'the failures of the nightly Linux runs'),
      cmd('dashboard'),
    )
    .command('diff', 'Compare two runs: what got worse, better, appeared or disappeared; exit 1 when worse', (y) =>
      y
        .option('target', { alias: 't', type: 'string', describe: 'target of both runs; given twice: the old run\'s, then the new run\'s', requiresArg: true })
        .option('runname', { alias: 'r', type: 'string', describe: 'given twice: the old run, then the new run', requiresArg: true })
        .options({ ...PATTERN, ...JSON_OPT })
        .option('all', { alias: 'v', type: 'boolean', describe: 'also list the tests that stayed the same or are still pending' })
        .option('fail-on', { type: 'string', describe: 'exit 1 when a test is in one of these classes: worse (default), better, appeared, disappeared, pending, same; or none', requiresArg: true })
        .check((a) => {
          const count = (v: unknown) => (Array.isArray(v) ? v.length : v === undefined ? 0 : 1);
          if (count(a['runname']) !== 2) throw new Error('give -r twice: the old run, then the new run');
          if (count(a['target']) < 1 || count(a['target']) > 2) throw new Error('give -t once (both runs) or twice (old, then new)');
          return true;
        })
        .example('$0 diff -t linux/x86_64 -r nightly-41 -r nightly-42', 'what changed since last night')
        .example('$0 diff -t linux/x86_64 -t linux/aarch64 -r nightly -r nightly --json', 'compare two targets'),
      cmd('diff'),
    )
    .command('log', 'The log of a run: state changes, locks, forced writes, runners', (y) =>
      y
        .options({ ...RUN_KEYS, ...JSON_OPT })
        .option('kind', { type: 'string', describe: 'only these kinds (comma list): run, lock, unlock, forced, agent, state, removed', requiresArg: true })
        .option('all', { type: 'boolean', describe: 'every event, test state changes included' })
        .conflicts('all', 'kind')
        .check(need('target', 'runname'))
        .example('$0 log -t linux/x86_64 -r release-1.0', 'who locked it, who forced changes, when it ran')
        .example('$0 log -t linux/x86_64 -r nightly --kind forced --json', 'forced writes, for a script'),
      cmd('log'),
    )
    .command('history <test>', 'Recent outcomes of a test (or wrapped job) across runs, newest first', (y) =>
      y
        .positional('test', { type: 'string', describe: 'TEST, TEST/ITEMPATH or a wrap/record NAME' })
        .options({ ...TARGET_PATTERN, ...JSON_OPT })
        .option('limit', { alias: 'n', type: 'string', describe: 'at most N outcomes (default 20)', requiresArg: true, coerce: wholeNumber('-n') })
        .example('$0 history compile -t linux/%', 'the last 20 outcomes of compile on Linux targets')
        .example('$0 history backup -n 5 --json', 'the last 5 runs of a wrapped cron job, as JSON'),
      cmd('history'),
    )
    .command('last-success <test>', 'When, where and in which run a test last succeeded; exit 1 if never', (y) =>
      y
        .positional('test', { type: 'string', describe: 'TEST, TEST/ITEMPATH or a wrap/record NAME' })
        .options({ ...TARGET_PATTERN, ...JSON_OPT })
        .example('$0 last-success backup', 'when the backup job last exited 0'),
      cmd('last-success'),
    )
    .command('check', 'Exit 1 and list tests not successful within --max-age, never successful, or far slower than usual', (y) =>
      y
        .option('max-age', { type: 'string', describe: 'the last success must be younger than this: 26h, 90m, 2d', requiresArg: true })
        .options({ ...PATTERN, ...TARGET_PATTERN, ...JSON_OPT })
        .option('slow-factor', {
          type: 'string',
          describe: 'slow: the latest duration is over F times the mean of the successes before (default 2; 0: never slow)',
          requiresArg: true,
          coerce: nonNegativeNumber('--slow-factor'),
        })
        .option('slow-min', { type: 'string', describe: 'and at least this much over the mean (default 30s)', requiresArg: true })
        .option('baseline', { type: 'string', describe: 'how many successes make the mean (default 5)', requiresArg: true, coerce: wholeNumber('--baseline') })
        .check(need('max-age'))
        .example('$0 check --max-age 26h', 'in a cron job that mails when it exits non-zero')
        .example("$0 check --max-age 2d -p 'backup%' --slow-factor 3", 'the backup jobs, slow when over 3 times their mean'),
      cmd('check'),
    )
    .command('wrap <name>', 'Run a command (a cron job) and record its start, end, host and outcome under NAME', (y) =>
      y
        .positional('name', { type: 'string', describe: 'the name its history is kept under (NAME or NAME/ITEM)' })
        .option('target', { alias: 't', type: 'string', describe: 'a label to group it by (shown as its target)', requiresArg: true })
        .check((a) => {
          const rest = a['--'];
          if (!Array.isArray(rest) || rest.length === 0) throw new Error(`give the command to run after --, e.g. trellis wrap ${String(a['name'])} -- /usr/local/bin/backup.sh`);
          return true;
        })
        .example('$0 wrap backup --area /srv/jobs -- /usr/local/bin/backup.sh --full', 'in a crontab line')
        .example('$0 wrap nightly-db -t db2 -- pg_dump -f /backup/db.sql mydb', 'grouped under the label db2'),
      cmd('wrap'),
    )
    .command('exec [spec]', 'Run one launched test or item from its job spec (what remote launchers start)', (y) =>
      y
        .positional('spec', { type: 'string', describe: 'the .trellis-job.json a launcher wrote into the work folder' })
        .option('serve', { type: 'boolean', describe: 'run the jobs whose spec paths come on stdin, one per line (the ssh launcher)' })
        .example('$0 exec /runs/linux/x86_64/nightly/unit/core/.trellis-job.json', 'as sbatch or a launcher command runs it'),
      cmd('exec'),
    )
    .command('record <name>', 'Record a job that ran elsewhere: start, end, host and status', (y) =>
      y
        .positional('name', { type: 'string', describe: 'the name its history is kept under (NAME or NAME/ITEM)' })
        .option('start', { type: 'string', describe: 'when it started: ISO 8601 with a zone, or seconds since the epoch', requiresArg: true })
        .option('end', { type: 'string', describe: 'when it ended (same forms)', requiresArg: true })
        .option('host', { type: 'string', describe: 'where it ran (default: this host)', requiresArg: true })
        .option('status', { type: 'string', describe: 'PASS (default), FAIL, WARN, ABORT, …', requiresArg: true })
        .option('target', { alias: 't', type: 'string', describe: 'a label to group it by (shown as its target)', requiresArg: true })
        .option('message', { alias: 'm', type: 'string', describe: 'a comment', requiresArg: true })
        .check(need('start', 'end'))
        .example('$0 record backup --start 2026-11-23T02:00:00Z --end 2026-11-23T02:14:10Z --host nas1', 'a run reported from another system')
        .example('$0 record backup --start 1795400000 --end 1795400850 --status FAIL', 'epoch seconds'),
      cmd('record'),
    )
    .example('$0 run -t linux/x86_64 -r nightly', 'run the tests of the area here')
    .example('$0 list tests -t linux/x86_64 -r nightly --status FAIL', 'what failed')
    .demandCommand(1, 'give a command; see trellis --help')
    // populate--: `wrap NAME -- CMD ARGS` gets exactly the words after `--`, options or not.
    .parserConfiguration({ 'parse-positional-numbers': false, 'populate--': true })
    .strict()
    .help()
    .alias('help', 'h')
    .version(false)
    // yargs breaks example commands mid-word in narrow columns: below 120 columns, or when not on a
    // terminal, leave long lines to the terminal.
    .wrap(width !== undefined && width >= 120 ? Math.min(width, 160) : null)
    .exitProcess(false);
}

/** Parses argv; usage errors throw TrellisError USAGE. */
export function parseArgs(argv: string[], width?: number): ParseResult {
  let chosen: CommandName | undefined;
  let output = '';
  let failure: string | undefined;
  const parser = define(argv, width, (c) => (chosen = c)).fail((msg, err) => {
    failure ??= msg ?? err?.message ?? 'bad command line';
  });
  const args = parser.parse(argv, {}, (_err, _argv, out) => {
    output = out;
  }) as ParsedArgs;
  if (failure !== undefined && args._[0] === 'wrap' && !argv.includes('--') && /^Unknown argument/.test(failure)) {
    // Its command's words would read as unknown arguments: say where they belong instead.
    failure = 'put the command to run after --: trellis wrap NAME -- CMD ARGS…';
  }
  if (failure !== undefined) {
    // yargs spreads some messages over lines ("Invalid values:\n  Argument: …"): keep one line.
    const line = failure
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .join(' ');
    throw new TrellisError('USAGE', line, 'see `trellis --help` or `trellis <command> --help`');
  }
  if (output !== '' || chosen === undefined) return { kind: 'output', text: output, exitCode: 0 };
  const rest = args['--'];
  if (chosen !== 'wrap' && Array.isArray(rest) && rest.length > 0) {
    throw new TrellisError('USAGE', `unexpected arguments after --: ${rest.join(' ')}`, 'only `trellis wrap NAME -- CMD ARGS` takes a command after --');
  }
  return { kind: 'command', command: chosen, args };
}
