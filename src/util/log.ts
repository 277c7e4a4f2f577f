/** Diagnostic logging to stderr: the channel for people debugging, never for results. */
import type { Writable } from 'node:stream';
import { termLine } from './terminal-text.js';

export interface Logger {
  debug(message: string): void;
  warn(message: string): void;
  readonly debugEnabled: boolean;
}

/** A logger writing `trellis: warning: …` lines; debug lines only when enabled. */
export function createLogger(stderr: Writable, debugEnabled: boolean): Logger {
  return {
    debugEnabled,
    debug(message) {
      if (debugEnabled) stderr.write(`trellis: debug: ${termLine(message)}\n`);
    },
    warn(message) {
      stderr.write(`trellis: warning: ${termLine(message)}\n`);
    },
  };
}
