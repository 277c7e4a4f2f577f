/**
 * The server's log: pino (fastify's own logger) writing JSON lines, one object per event with
 * its level, time, pid, host and, for anything about a request, the request's id (`reqId`), to
 * `<runarea>/.meta/logs/server-<host>-<pid>.log`. The file is rotated by size, logrotate style
 * (`.1` is the newest old file), keeping `[server] log_files` old files of `[server] log_size`
 * each, so a server that runs for weeks on a shared disk never fills it.
 */
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { createStream } from 'rotating-file-stream';
import type { LogLevel } from '../config/types.js';

export interface ServerLogOptions {
  level: LogLevel;
  /** rotate when the file reaches this many bytes */
  maxBytes: number;
  /** how many rotated files to keep */
  files: number;
  host: string;
  now: () => number;
}

export interface ServerLog {
  readonly logger: Logger;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

/** Opens (appending to) the server's log file. */
export function openServerLog(file: string, opts: ServerLogOptions): ServerLog {
  const name = path.basename(file);
  // In logrotate mode the generator gets the rotated file's number first (nothing for the live file).
  const stream = createStream((n) => (typeof n === 'number' && n > 0 ? `${name}.${n}` : name), {
    path: path.dirname(file),
    size: `${Math.max(1, Math.ceil(opts.maxBytes / 1024))}K`,
    rotate: opts.files,
    mode: 0o640,
  });
  // A log that cannot be written must not stop the server: its clients' results matter more.
  stream.on('error', () => undefined);
  const logger = pino(
    {
      level: opts.level,
      base: { pid: process.pid, host: opts.host },
      timestamp: () => `,"time":"${new Date(opts.now() * 1000).toISOString()}"`,
    },
    stream,
  );
  return {
    logger,
    close: () => new Promise<void>((resolve) => stream.end(resolve)),
  };
}
