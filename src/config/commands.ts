/**
 * The one way config reading runs a shell command: `/bin/sh -c CMD` with an explicit environment
 * and folder. Never inherits process.env: the caller's env is the whole world the command sees.
 */
import { spawnSync } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { configError, type SourceLocation } from '../util/errors.js';
import type { ConfigValue } from './types.js';

/** Where and with what environment a config command runs. */
export interface CommandContext {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

export interface CommandResult {
  /** exit code; 128 + signal number when killed by a signal (as sh reports it) */
  status: number;
  stdout: string;
  stderr: string;
}

// Config commands print lists of items or paths, not logs; 64 MiB is far beyond any real use.
const MAX_OUTPUT = 64 * 1024 * 1024;

/** Drops unset variables: spawnSync would otherwise pass the string "undefined". */
export function cleanEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * Runs `cmd` with /bin/sh. A command that cannot be started at all (missing folder, no sh) is a
 * CONFIG_COMMAND error at `loc`; a non-zero exit is returned for the caller to judge.
 */
export function runConfigCommand(cmd: string, ctx: CommandContext, loc: SourceLocation): CommandResult {
  const res = spawnSync('/bin/sh', ['-c', cmd], {
    env: cleanEnv(ctx.env),
    cwd: ctx.cwd,
    encoding: 'utf8',
    maxBuffer: MAX_OUTPUT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (res.error) {
    const why = (res.error as NodeJS.ErrnoException).code ?? res.error.message;
    throw configError(
      'CONFIG_COMMAND',
      loc,
      `cannot run '${cmd}' in ${ctx.cwd} (${why})`,
      'check that the folder exists and the command prints less than 64 MiB',
    );
  }
  const signalNumber = res.signal ? (osConstants.signals[res.signal] ?? 0) : 0;
  return {
    status: res.status ?? 128 + signalNumber,
    stdout: res.stdout ?? '',
    stderr: res.stderr ?? '',
  };
}

/** First non-empty line of a command's stderr, for a one-line error message. */
export function pickFirstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '');
  return line === undefined ? '' : line.trim().slice(0, 200);
}

/**
 * Runs `cmd` and requires exit code 0; `what` names the construct in the error
 * (e.g. "[items] FOO [system …]").
 */
export function runRequiredCommand(cmd: string, ctx: CommandContext, loc: SourceLocation, what: string): string {
  const res = runConfigCommand(cmd, ctx, loc);
  if (res.status !== 0) {
    const err = pickFirstLine(res.stderr);
    throw configError(
      'CONFIG_COMMAND',
      loc,
      `${what}: command '${cmd}' exited with code ${res.status}${err ? ` (${err})` : ''}`,
      `fix the command; try it by hand with: cd ${ctx.cwd} && ${cmd}`,
    );
  }
  return res.stdout;
}

/**
 * The text of a value, running its lazy `[system CMD]` now if it has one (output lines joined by
 * spaces, as Megatest does). Use this when a value is exported, e.g. a runconfigs variable.
 */
export function evaluateValue(value: ConfigValue, ctx: CommandContext): string {
  if (value.lazyCommand === undefined) return value.text;
  const out = runRequiredCommand(value.lazyCommand, ctx, value.loc, `[system ${value.lazyCommand}]`);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');
}
