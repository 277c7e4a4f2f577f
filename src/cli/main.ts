/**
 * The entry point, and the only code that touches the process: argv, signals, exit codes.
 * Everything below throws TrellisError; here it becomes one line on stderr and an exit code.
 */
import os from 'node:os';
import path from 'node:path';
import { ExitCode, isTrellisError } from '../util/errors.js';
import { createLogger } from '../util/log.js';
import { installRoot } from '../util/install-root.js';
import { trellisVersion } from '../util/version.js';
import type { CommandContext, CommandModule } from './context.js';
import type { ParsedCommand } from './parser.js';
import { quickParse } from './quick-parse.js';
import type { CommandName, OptionsFor } from './specs/index.js';
import { termLine } from '../util/terminal-text.js';

/**
 * Each command's module, loaded only when it runs. The type checks that every declared command
 * has one, taking exactly the options its declaration gives.
 */
const MODULES: { [K in CommandName]: () => Promise<CommandModule<OptionsFor<K>>> } = {
  run: () => import('./commands/run.js'),
  'list-runs': () => import('./commands/list-runs.js'),
  'list-tests': () => import('./commands/list-tests.js'),
  'list-targets': () => import('./commands/list-targets.js'),
  show: () => import('./commands/show.js'),
  'set-state-status': () => import('./commands/set-state-status.js'),
  remove: () => import('./commands/remove.js'),
  lock: () => import('./commands/lock.js'),
  unlock: () => import('./commands/lock.js').then((m) => m.unlockCommand),
  kill: () => import('./commands/kill.js'),
  approve: () => import('./commands/approve.js'),
  init: () => import('./commands/init.js'),
  'config-show': () => import('./commands/config-show.js'),
  step: () => import('./commands/step.js'),
  'test-status': () => import('./commands/test-status.js'),
  'set-value': () => import('./commands/set-value.js'),
  history: () => import('./commands/history.js'),
  'last-success': () => import('./commands/last-success.js'),
  check: () => import('./commands/check.js'),
  wrap: () => import('./commands/wrap.js'),
  record: () => import('./commands/record.js'),
  'run-open': () => import('./commands/results.js').then((m) => m.runOpenCommand),
  result: () => import('./commands/results.js').then((m) => m.resultCommand),
  close: () => import('./commands/results.js').then((m) => m.closeCommand),
  id: () => import('./commands/identity.js'),
  server: () => import('./commands/server.js'),
  dashboard: () => import('./commands/dashboard.js'),
  web: () => import('./commands/web.js'),
  report: () => import('./commands/report.js'),
  diff: () => import('./commands/diff.js'),
  log: () => import('./commands/log.js'),
  exec: () => import('./commands/exec.js'),
  completion: () => import('./commands/completion.js'),
  __complete: () => import('./commands/complete.js'),
  doctor: () => import('./commands/doctor.js'),
  resources: () => import('./commands/resources.js'),
  agent: () => import('./commands/agent.js'),
  hosts: () => import('./commands/hosts.js'),
};

/** Loads the command's module and runs it, with Ctrl-C handling when it asks for it. */
async function runCommand<K extends CommandName>(
  parsed: { command: K; options: OptionsFor<K> },
  ctx: CommandContext,
  onSignal: (sig: NodeJS.Signals) => void,
) {
  const mod = await MODULES[parsed.command]();
  const handlesSignals = typeof mod.handlesSignals === 'function' ? mod.handlesSignals(parsed.options) : mod.handlesSignals;
  if (handlesSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    return await mod.execute(parsed.options, ctx);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** What a command line runs against: the process's own, or a test host's (test/helpers/cli-host.ts). */
export interface MainIo {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  stdout: CommandContext['stdout'];
  stderr: CommandContext['stderr'];
  stdin: CommandContext['stdin'];
}

/** Runs the CLI with `argv` (without node and script) and sets process.exitCode. */
export async function main(argv: string[]): Promise<void> {
  // A reader that went away (`trellis list | head`, an ssh session that dropped under trellis
  // exec) is no reason to crash: what is left to print has nowhere to go.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', ignoreClosedPipe);
  process.exitCode = await runMain(argv, {
    cwd: process.cwd(),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    // Made when a command reads it: opening process.stdin loads Node's stream classes (about 4 ms
    // of a quick command that never reads it).
    get stdin() {
      return process.stdin;
    },
  });
}

/** Runs one command line against `io` and returns its exit code. */
export async function runMain(argv: string[], io: MainIo): Promise<number> {
  const debug = argv.includes('--debug');
  const log = createLogger(io.stderr, debug);
  try {
    // Plain command lines skip yargs (quick-parse.ts); help, errors and the unusual go through it.
    const parsed =
      quickParse(argv) ?? (await import('./parser.js')).parseArgs(argv, { width: io.stdout.columns, version: trellisVersion() });
    if (parsed.kind === 'output') {
      io.stdout.write(parsed.text.endsWith('\n') ? parsed.text : `${parsed.text}\n`);
      return parsed.exitCode;
    }
    const soft = new AbortController();
    const hard = new AbortController();
    // The signal's name is the abort reason: `trellis wrap` passes the same signal on to its command.
    const onSignal = (sig: NodeJS.Signals) => (soft.signal.aborted ? hard.abort(sig) : soft.abort(sig));
    const ctx: CommandContext = {
      cwd: io.cwd,
      env: io.env,
      stdout: io.stdout,
      stderr: io.stderr,
      get stdin() {
        return io.stdin;
      },
      now: () => Date.now() / 1000,
      log,
      signal: soft.signal,
      hardSignal: hard.signal,
      binDir: path.join(installRoot(), 'bin'),
      pid: process.pid,
      cpus: os.availableParallelism(),
    };
    return await runCommand(parsed satisfies ParsedCommand, ctx, onSignal);
  } catch (err) {
    return reportError(err, debug, io.stderr);
  }
}

/** Writes the error as one line (a stack too with --debug) and returns the exit code. */
export function reportError(err: unknown, debug: boolean, stderr: NodeJS.WritableStream): number {
  if (isTrellisError(err)) {
    for (const line of err.toLines()) stderr.write(`trellis: ${termLine(line)}\n`);
    // The code docs/exit-codes.md lists, for whoever is debugging (and for tests to name).
    if (debug) stderr.write(`trellis: debug: error code ${err.code}, exit ${err.exitCode}\n`);
    if (debug && err.stack) stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  const e = err as NodeJS.ErrnoException;
  if (e && (e.code === 'EACCES' || e.code === 'EROFS' || e.code === 'ENOSPC' || e.code === 'EPERM')) {
    stderr.write(`trellis: ${termLine(e.message)}; check the permissions and free space of that folder\n`);
    if (debug && e.stack) stderr.write(`${e.stack}\n`);
    return ExitCode.storage;
  }
  stderr.write(`trellis: internal error: ${termLine(e?.message ?? String(err))}; please report it with the output of --debug\n`);
  if (debug && e?.stack) stderr.write(`${e.stack}\n`);
  return ExitCode.internal;
}

function ignoreClosedPipe(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
  throw err;
}
