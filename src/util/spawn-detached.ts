/**
 * Starting a Trellis process that outlives its parent (a server started by discovery, a rerun
 * started from the dashboard), and reading the last line it logged for a one-line message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface DetachedOptions {
  /** stdout and stderr go to this file (0640) */
  logFile: string;
  /** 'a' appends, 'w' starts the file anew */
  logFlags: 'a' | 'w';
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * Runs `node ARGS…` in its own process group (so a Ctrl-C of this one does not reach it), with no
 * stdin and its output in the log file, and lets this process exit without waiting for it.
 * An argument list, never a shell line: names are passed as they are.
 */
export function spawnDetached(args: readonly string[], opts: DetachedOptions): ChildProcess {
  const fd = openSync(opts.logFile, opts.logFlags, 0o640);
  try {
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], env: opts.env, cwd: opts.cwd });
    child.unref();
    return child;
  } finally {
    closeSync(fd);
  }
}

/**
 * The last non-empty line of a small log, for a one-line message: the `msg` of a JSON log line
 * (the server logs JSON lines), capped at 300 characters; '' when there is none or it cannot be read.
 */
export function readLastLine(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const last = lines[lines.length - 1] ?? '';
  if (last.startsWith('{')) {
    try {
      const msg = (JSON.parse(last) as { msg?: unknown }).msg;
      if (typeof msg === 'string') return msg.slice(0, 300);
    } catch {
      // not JSON after all: show it as it is
    }
  }
  return last.slice(0, 300);
}
