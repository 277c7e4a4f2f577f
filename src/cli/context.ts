/**
 * The world a command runs in, passed in rather than read from globals, so tests and the e2e
 * helper can give their own: folders, environment, output streams, clock, signals, logger.
 */
import type { Writable } from 'node:stream';
import type { Logger } from '../util/log.js';

export interface CommandContext {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable;
  /** the terminal's input, for the dashboard */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** seconds since the epoch, with fractions */
  now: () => number;
  log: Logger;
  /** aborted on the first Ctrl-C or SIGTERM; its reason is the signal's name ('SIGINT', 'SIGTERM') */
  signal: AbortSignal;
  /** aborted on the second (same reason) */
  hardSignal: AbortSignal;
  /** folder holding bin/trellis, for tests to call back */
  binDir: string;
  pid: number;
  cpus: number;
}

/** A command module: takes its typed options (see specs/) and calls one core function. */
export interface CommandModule<O> {
  /** true when the command handles Ctrl-C itself (through ctx.signal); may depend on the options */
  readonly handlesSignals?: boolean | ((opts: O) => boolean);
  readonly execute: (opts: O, ctx: CommandContext) => Promise<number>;
}
