import t from 'tap';
import { parseArgs } from '../../src/cli/parser.js';
import { quickParse } from '../../src/cli/quick-parse.js';

/** What main.ts does: the quick path when it can read the line, else yargs. */
const viaMain = (argv: string[]) => quickParse(argv) ?? parseArgs(argv);

t.test('commands and their options', async (t) => {
  const table: Array<[string[], string, Record<string, unknown>]> = [
    [['run', '-t', 'linux/x86_64', '-r', 'nightly'], 'run', { target: 'linux/x86_64', runname: 'nightly' }],
    [
      ['run', '-t', 'a/b', '-r', 'n', '-p', 'x%', '-j', '3', '--rerun', 'fail,ABORT', '--preclean'],
      'run',
      { pattern: 'x%', jobs: 3, rerun: ['FAIL', 'ABORT'], preclean: true, rerunAll: false },
    ],
    [
      ['run', '-t', 'a/b', '-r', 'n', '--rerun-clean', '--rerun-all', '--force', '--launcher', 'local'],
      'run',
      { rerunClean: true, rerunAll: true, force: true, launcher: 'local' },
    ],
    [['list', 'runs'], 'list-runs', {}],
    [['list', 'runs', 'night%', '-t', 'linux/%', '--json'], 'list-runs', { runpatt: 'night%', json: true }],
    [
      ['list', 'tests', '-t', 'a/b', '-r', 'n', '--status', 'FAIL,WARN', '--state', 'running'],
      'list-tests',
      { status: ['FAIL', 'WARN'], state: ['RUNNING'] },
    ],
    [['list', 'targets'], 'list-targets', {}],
    [['show', 'unit/core/O2', '-t', 'a/b', '-r', 'n'], 'show', { test: 'unit/core/O2' }],
    [['resources'], 'resources', { json: false }],
    [['resources', 'deploy', '--json'], 'resources', { name: 'deploy', json: true }],
    [['set-state-status', 'COMPLETED,PASS', '-t', 'a/b', '-r', 'n', '-p', 'x'], 'set-state-status', { statestatus: 'COMPLETED,PASS' }],
    [['remove', '-t', 'a/b', '-r', 'n'], 'remove', {}],
    [['lock', '-t', 'a/b', '-r', 'n'], 'lock', {}],
    [['unlock', '-t', 'a/b', '-r', 'n'], 'unlock', {}],
    [['kill', '-t', 'a/b', '-r', 'n', '-p', 'x'], 'kill', { pattern: 'x' }],
    [['init', 'dir'], 'init', { dir: 'dir' }],
    [['config', 'show', '--section', 'setup', '--var', 'runarea'], 'config-show', { section: 'setup', var: 'runarea' }],
    [['step', 'build', '--state', 'end', '--status', 'PASS'], 'step', { name: 'build', state: 'end', status: 'PASS' }],
    [['test-status', '--status', 'WARN', '-m', 'slow'], 'test-status', { status: 'WARN', message: 'slow' }],
    [['set-value', 'x', '007', '--expected', '7'], 'set-value', { name: 'x', value: '007', expected: '7' }],
    [['--direct', '--area', 'a', 'list', 'runs'], 'list-runs', { direct: true, area: 'a' }],
    [['dashboard'], 'dashboard', {}],
    [['web'], 'web', {}],
    [['web', '--port', '8420', '--bind', '0.0.0.0', '--runarea', 'r'], 'web', { port: 8420, bind: '0.0.0.0', runarea: 'r' }],
    [['web', '--port', '0'], 'web', { port: 0 }],
    [['report', 'junit', '-t', 'a/b', '-r', 'n'], 'report', { format: 'junit', target: 'a/b', runname: 'n' }],
    [['report', 'tap', '-t', 'a/b', '-r', 'n', '-p', 'u%', '-o', 'out.tap'], 'report', { format: 'tap', pattern: 'u%', output: 'out.tap' }],
    [['report', 'junit', '-t', 'a/b', '-r', 'n', '--output', 'r.xml', '--logs', 'all'], 'report', { output: 'r.xml', logs: 'all' }],
    [['report', 'junit', '-t', 'a/b', '-r', 'n'], 'report', { logs: 'failed' }],
    [['report', 'json', '-t', 'a/b', '-r', 'n'], 'report', { format: 'json' }],
    [['run', '-t', 'a/b', '-r', 'n', '--junit', 'results.xml'], 'run', { junit: 'results.xml' }],
    [['run', '-t', 'a/b', '-r', 'n', '--reqtarg'], 'run', { reqtarg: true }],
    [
      ['dashboard', '-t', 'linux/%', '-r', 'night%,rel%', '-p', 'unit%', '--status', 'FAIL,RUNNING'],
      'dashboard',
      { target: 'linux/%', runname: 'night%,rel%', pattern: 'unit%', status: 'FAIL,RUNNING' },
    ],
    [['diff', '-t', 'a/b', '-r', 'n1', '-r', 'n2'], 'diff', { target: ['a/b'], runname: ['n1', 'n2'], failOn: ['worse'], all: false }],
    [
      ['diff', '-t', 'a/b', '-t', 'a/c', '-r', 'n', '-r', 'n', '-p', 'x%', '--json', '-v', '--fail-on', 'worse,disappeared'],
      'diff',
      { target: ['a/b', 'a/c'], runname: ['n', 'n'], pattern: 'x%', json: true, all: true, failOn: ['worse', 'disappeared'] },
    ],
    [['log', '-t', 'a/b', '-r', 'n'], 'log', { target: 'a/b', runname: 'n' }],
    [['log', '-t', 'a/b', '-r', 'n', '--kind', 'forced,Lock', '--json'], 'log', { kind: ['forced', 'lock'], json: true }],
    [['log', '-t', 'a/b', '-r', 'n', '--all'], 'log', { all: true }],
    [['kill', '-t', 'a/b', '-r', 'n', '--force'], 'kill', { force: true }],
    [['test-status', '--status', 'FAIL', '--force'], 'test-status', { force: true }],
    [['step', 's', '--state', 'start', '--force'], 'step', { force: true }],
    [['set-value', 'v', '1', '--force'], 'set-value', { force: true }],
    [['history', 'unit/core/O2'], 'history', { test: 'unit/core/O2' }],
    [['history', 'backup', '-t', 'linux/%', '-n', '5', '--json'], 'history', { test: 'backup', target: 'linux/%', limit: 5, json: true }],
    [['last-success', 'backup', '-t', 'db%', '--json'], 'last-success', { test: 'backup', target: 'db%', json: true }],
    [['check', '--max-age', '26h'], 'check', { maxAge: { text: '26h', seconds: 93_600 } }],
    [
      ['check', '--max-age', '2d', '-p', 'b%', '-t', 'x/%', '--slow-factor', '2.5', '--slow-min', '1m', '--baseline', '3', '--json'],
      'check',
      { pattern: 'b%', target: 'x/%', slowFactor: 2.5, slowMin: { text: '1m', seconds: 60 }, baseline: 3, json: true },
    ],
    [['wrap', 'job', '--', 'ls', '-la', '--color'], 'wrap', { name: 'job', rest: ['ls', '-la', '--color'] }],
    [
      ['--area', 'a', 'wrap', 'job/x', '-t', 'db2', '--', 'cmd', '--', '-t', 'y'],
      'wrap',
      { name: 'job/x', target: 'db2', area: 'a', rest: ['cmd', '--', '-t', 'y'] },
    ],
    [
      [
        'record',
        'backup',
        '--start',
        '1700000000',
        '--end',
        '2026-11-23T02:00:00Z',
        '--host',
        'nas1',
        '--status',
        'fail',
        '-m',
        'disk full',
      ],
      'record',
      {
        name: 'backup',
        start: { epoch: 1_700_000_000 },
        end: { text: '2026-11-23T02:00:00Z' },
        host: 'nas1',
        status: 'FAIL',
        message: 'disk full',
      },
    ],
  ];
  for (const [argv, command, expected] of table) {
    const r = parseArgs(argv);
    t.equal(r.kind, 'command', argv.join(' '));
    if (r.kind !== 'command') continue;
    t.equal(r.command, command, argv.join(' '));
    t.match(r.options, expected, argv.join(' '));
    // The quick path, when it reads a line, gives exactly what yargs gives.
    const quick = quickParse(argv);
    if (quick !== undefined) t.same(quick, r, `quick: ${argv.join(' ')}`);
  }
  const read = table.filter(([argv]) => quickParse(argv) !== undefined).length;
  t.ok(read >= table.length - 5, `the quick path reads the plain lines (${read} of ${table.length})`);
});

t.test('the quick path reads what remote jobs and in-test helpers send, and leaves the rest to yargs', async (t) => {
  for (const argv of [
    ['exec', '/runs/linux/r/t/.trellis-job.json'],
    ['exec', '--serve'],
    ['step', 'build', '--state', 'start'],
    ['set-value', 'latency', '12', '--expected=10', '--tol', '30%'],
    ['run', '--area', 'x', '-t', 'a/b', '-r', 'n', '-j', '4', '--launcher', 'ssh h1 h2'],
    ['wrap', 'job', '--', 'ls', '-la', '--help'],
  ]) {
    t.same(quickParse(argv), parseArgs(argv), argv.join(' '));
  }
  for (const argv of [
    ['--help'],
    ['run', '--help'],
    ['--version'],
    ['run', '-j4', '-t', 'a', '-r', 'n'],
    ['list'],
    ['run', '--nope'],
    ['show'],
  ]) {
    t.equal(quickParse(argv), undefined, `left to yargs: ${argv.join(' ')}`);
  }
});

t.test('help is text, never an exit', async (t) => {
  const top = parseArgs(['--help']);
  t.equal(top.kind, 'output');
  if (top.kind === 'output') t.match(top.text, /trellis run/);
  const run = parseArgs(['run', '--help']);
  if (run.kind === 'output') t.match(run.text, /Examples:/);
  else t.fail('run --help gives text');
});

t.test('usage errors are one clear line', async (t) => {
  const bad: Array<[string[], RegExp]> = [
    [[], /give a command/],
    [['frobnicate'], /Unknown argument|Unknown command/i],
    [['run', '-r', 'n'], /missing required option --target/],
    [['run', '-t', 'a/b'], /missing required option --runname/],
    [['run', '-t'], /Not enough arguments|target/],
    [['list', 'tests'], /missing required option --target/],
    [['list', 'things'], /Unknown argument: things/],
    [['list'], /give what to list: runs, tests, targets/],
    [['config'], /give what to config: show/],
    [['run', '-t', 'a/b', '-r', 'n', '--bogus'], /Unknown argument/],
    [['step', 'x', '--state', 'middle'], /Invalid values|choices/i],
    [['report', 'xml', '-t', 'a/b', '-r', 'n'], /Invalid values|choices/i],
    [['report', 'junit', '-r', 'n'], /missing required option --target/],
    [['report', 'junit', '-t', 'a/b', '-r', 'n', '--logs', 'some'], /Invalid values|choices/i],
    [['report', 'junit', '-t', 'a/b', '-r', 'n', '-o'], /Not enough arguments|output/],
    [['run', '-t', 'a/b', '-r', 'n', '--junit'], /Not enough arguments|junit/],
    [['diff', '-t', 'a/b', '-r', 'n'], /give -r twice/],
    [['diff', '-t', 'a/b', '-r', 'n', '-r', 'm', '-r', 'o'], /give -r twice/],
    [['diff', '-r', 'n', '-r', 'm'], /give -t once/],
    [['diff', '-t', 'a', '-t', 'b', '-t', 'c', '-r', 'n', '-r', 'm'], /give -t once/],
    [['log', '-t', 'a/b', '-r', 'n', '--all', '--kind', 'lock'], /mutually exclusive|conflict/i],
    [['log', '-t', 'a/b'], /missing required option --runname/],
    [['history'], /Not enough non-option arguments/],
    [['check'], /missing required option --max-age/],
    [['run', '-t', '', '-r', 'n'], /missing required option --target/],
    [['completion'], /Not enough non-option arguments/],
    [['completion', 'fish'], /Invalid values|choices/i],
    [['wrap', 'job'], /give the command to run after --/],
    [['wrap', 'job', '--'], /give the command to run after --/],
    [['wrap', 'job', 'ls', '-la'], /put the command to run after --/],
    [['--area', 'a', 'wrap', 'job', 'ls'], /put the command to run after --/],
    [['record', 'x', '--start', '1'], /missing required option --end/],
    [['list', 'runs', '--', 'x'], /unexpected arguments after --: x/],
  ];
  for (const [argv, msg] of bad) {
    t.throws(() => parseArgs(argv), { code: 'USAGE', message: msg }, argv.join(' ') || '(nothing)');
    t.throws(() => viaMain(argv), { code: 'USAGE', message: msg }, `as main reads it: ${argv.join(' ') || '(nothing)'}`);
  }
});

t.test('bad values are checked once, when the command line is read, naming the option', async (t) => {
  const bad: Array<[string[], string, RegExp]> = [
    [['history', 'x', '-n', '0'], 'BAD_VALUE', /^-n 0: expected a whole number of 1 or more$/],
    [['run', '-t', 'a/b', '-r', 'n', '-j', 'x'], 'BAD_VALUE', /^-j x: expected a whole number/],
    [['run', '-t', 'a/b', '-r', 'n', '-j', '2', '-j', '0'], 'BAD_VALUE', /^-j 0:/],
    [['check', '--max-age', '1d', '--slow-factor', 'x'], 'BAD_VALUE', /--slow-factor x: expected a number/],
    [['check', '--max-age', 'soon'], 'BAD_VALUE', /--max-age 'soon' is not a duration/],
    [['check', '--max-age', '1d', '--baseline', '-1'], 'BAD_VALUE', /--baseline -1: expected a whole number/],
    [['record', 'x', '--start', '2026-01-01T00:00', '--end', '1'], 'BAD_VALUE', /--start '2026-01-01T00:00' has no time zone/],
    [['record', 'x', '--start', '100', '--end', '50'], 'BAD_VALUE', /--end 50 is before --start 100/],
    [['record', 'x', '--start', '1', '--end', '2', '--status', 'meh'], 'BAD_VALUE', /--status 'meh' is not a status/],
    [['record', 'x', '--start', '1', '--end', '2', '--host', ' '], 'BAD_VALUE', /--host must not be empty/],
    [['test-status', '--state', 'NAPPING'], 'BAD_VALUE', /--state 'NAPPING' is not a state/],
    [['test-status'], 'USAGE', /test-status needs --state, --status or -m/],
    [['diff', '-t', 'a/b', '-r', 'n', '-r', 'm', '--fail-on', 'worse,vanished'], 'BAD_VALUE', /'vanished' is not a class/],
    [['log', '-t', 'a/b', '-r', 'n', '--kind', 'lock,nap'], 'BAD_VALUE', /--kind 'lock,nap': 'nap' is not a kind/],
    [['list', 'tests', '-t', 'a/b', '-r', 'n', '-p', '~'], 'BAD_PATTERN', /-p: '~' must be followed by a test name/],
    [['dashboard', '-p', 'a,~'], 'BAD_PATTERN', /-p: '~' must be followed/],
    [['web', '--port', '65536'], 'BAD_VALUE', /^--port 65536: expected a port number from 0 to 65535$/],
    [['web', '--port', 'http'], 'BAD_VALUE', /^--port http: expected a port number/],
  ];
  for (const [argv, code, msg] of bad) {
    t.throws(() => parseArgs(argv), { code, message: msg }, argv.join(' '));
    t.throws(() => viaMain(argv), { code, message: msg }, `as main reads it: ${argv.join(' ')}`);
  }
});

t.test('--version prints the version it is given', async (t) => {
  const r = parseArgs(['--version'], { version: '9.8.7' });
  t.same(r, { kind: 'output', text: '9.8.7', exitCode: 0 });
});
