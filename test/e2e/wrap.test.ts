/**
 * `trellis wrap` through the built CLI, as cron would run it: exit codes passed through (0, 3,
 * 128 + signal, 127 when the command is not found), arguments after `--` passed exactly, stdin and
 * stdout passed through, SIGTERM to trellis passed on to the command, the job RUNNING in the
 * history meanwhile; and a wrong name or area stops it before anything runs.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ExitCode } from '../../src/util/errors.js';
import { makeArea } from '../helpers/area.js';
import { runCli, trellisBin, type CliResult } from '../helpers/cli.js';
import { assertUserError, dump, parseJson } from '../helpers/e2e.js';
import { waitUntil } from '../helpers/run-e2e.js';

interface OutcomeJson {
  kind: string;
  state: string;
  status: string;
  success: boolean;
  comment: string;
  duration: number | null;
  host: string;
}

const SCRIPTS = {
  // Prints its arguments as JSON, so the test sees exactly what the command was given.
  'args.js': 'console.log(JSON.stringify(process.argv.slice(2)));\n',
  // Upper-cases stdin to stdout.
  'upper.js':
    "let s = ''; process.stdin.on('data', (d) => (s += d)); process.stdin.on('end', () => process.stdout.write(s.toUpperCase()));\n",
  // Waits for SIGTERM, says so, and exits 7.
  'term.js':
    "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(7); }); console.log('ready'); setInterval(() => {}, 1000);\n",
};

/** An area with the helper scripts; `cli` runs trellis in it; `history` reads a job's outcomes. */
function setup(t: Test) {
  const area = makeArea(t, { tests: {}, files: Object.fromEntries(Object.entries(SCRIPTS).map(([n, s]) => [`scripts/${n}`, s])) });
  const cli = (args: string[]) => runCli(t, args, { cwd: area });
  const history = async (name: string): Promise<OutcomeJson[]> => {
    const r = await cli(['history', name, '--json']);
    return r.code === 0 ? parseJson<OutcomeJson[]>(r) : [];
  };
  return { area, cli, history, script: (n: keyof typeof SCRIPTS) => path.join(area, 'scripts', n) };
}

t.test('exit codes pass through and outcomes are recorded', async (t) => {
  const { cli, history, script } = setup(t);
  const ok = await cli(['wrap', 'job', '--', process.execPath, script('args.js'), '-la', '--color', 'a b', '--', '-t', 'x']);
  t.equal(ok.code, 0, dump(ok));
  t.same(JSON.parse(ok.stdout), ['-la', '--color', 'a b', '--', '-t', 'x'], 'the words after the first -- exactly');
  t.equal(ok.stderr, '');

  const three = await cli(['wrap', 'job', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  t.equal(three.code, 3, dump(three));
  t.equal(three.stdout, 'out\n');
  t.equal(three.stderr, 'err\n', "the command's stderr, and nothing of ours");

  const killed = await cli(['wrap', 'job', '--', 'sh', '-c', 'kill -TERM $$']);
  t.equal(killed.code, 128 + 15, `128 + SIGTERM\n${dump(killed)}`);

  const missing = await cli(['wrap', 'job', '--', 'no-such-command-here', '--flag']);
  assertUserError(t, missing, 127, /cannot run 'no-such-command-here' \(not found\)/);

  const rows = await history('job');
  t.match(rows, [
    { kind: 'wrap', state: 'COMPLETED', status: 'FAIL', success: false, comment: 'could not start: ENOENT' },
    { kind: 'wrap', state: 'KILLED', status: 'ABORT', comment: 'killed by SIGTERM' },
    { kind: 'wrap', state: 'COMPLETED', status: 'FAIL', comment: 'exit 3', duration: Number },
    { kind: 'wrap', state: 'COMPLETED', status: 'PASS', success: true, comment: 'exit 0' },
  ]);
  t.equal(rows.length, 4, 'one row per run of the job');
  const text = await cli(['history', 'job']);
  t.match(text.stdout, /^\S+ \S+ +- +\(wrap\) +\S+ +\d+\.\ds +KILLED\/ABORT +killed by SIGTERM$/m);
  const last = await cli(['last-success', 'job']);
  t.match(last.stdout, /^job last succeeded at .* on \S+ \(wrap\): PASS in \d+\.\ds$/m);
});

/** Runs trellis with stdin and stdout as pipes; killed at teardown if still running. */
function startPiped(t: { teardown(fn: () => void): void }, args: string[], cwd: string) {
  const child = spawn(process.execPath, [trellisBin, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, done, out: () => stdout + stderr };
}

t.test('stdin and stdout pass through', async (t) => {
  const { area, script } = setup(t);
  const p = startPiped(t, ['wrap', 'upper', '--', process.execPath, script('upper.js')], area);
  p.child.stdin.end('hello from cron\n');
  const r = await p.done;
  t.equal(r.code, 0, dump(r));
  t.equal(r.stdout, 'HELLO FROM CRON\n');
});

t.test('SIGTERM to trellis reaches the command, which is RUNNING in the history meanwhile', async (t) => {
  const { area, history, script } = setup(t);
  const p = startPiped(t, ['wrap', 'long', '--', process.execPath, script('term.js')], area);
  await waitUntil(() => p.out().includes('ready'), 'the command to start');
  // The start is recorded while the command runs, not before it starts: wait for it.
  let running: OutcomeJson[] = [];
  for (const deadline = Date.now() + 20000; running.length === 0; ) {
    if (Date.now() > deadline) throw new Error(`no RUNNING row of 'long' in its history; output so far:\n${p.out()}`);
    running = (await history('long')).filter((o) => o.state === 'RUNNING');
  }
  t.match(running, [{ kind: 'wrap', state: 'RUNNING', duration: null }]);
  p.child.kill('SIGTERM');
  const r = await p.done;
  t.equal(r.code, 7, `the command's own exit code\n${dump(r)}`);
  t.equal(r.stdout, 'ready\ngot SIGTERM\n');
  t.match(await history('long'), [{ state: 'COMPLETED', status: 'FAIL', comment: 'exit 7' }]);
});

t.test('a crontab line: --runarea alone, no test area around it', async (t) => {
  const dir = t.testdir({});
  const runArea = path.join(dir, 'monitor');
  const opts = { cwd: dir };
  const r = await runCli(t, ['wrap', 'nightly/db1', '--runarea', runArea, '--direct', '-t', 'db', '--', 'true'], opts);
  t.equal(r.code, 0, dump(r));
  const rows = parseJson<Array<{ test: string; target: string; status: string }>>(
    await runCli(t, ['history', 'nightly/db1', '--runarea', runArea, '--direct', '--json'], opts),
  );
  t.match(rows, [{ test: 'nightly/db1', target: 'db', status: 'PASS' }]);
});

t.test('a bad name or area: one line, and the command never runs', async (t) => {
  const { area, cli } = setup(t);
  const marker = path.join(area, 'ran');
  assertUserError(t, await cli(['wrap', 'bad name', '--', 'touch', marker]), ExitCode.usage, /job name 'bad name' cannot be recorded/);
  assertUserError(
    t,
    await cli(['wrap', 'job', '--area', path.join(area, 'nowhere'), '--', 'touch', marker]),
    ExitCode.notFound,
    /--area .*nowhere/,
  );
  assertUserError(t, await cli(['wrap', 'job', 'touch', marker]), ExitCode.usage, /put the command to run after --/);
  t.notOk(fs.existsSync(marker), 'nothing ran');
});
