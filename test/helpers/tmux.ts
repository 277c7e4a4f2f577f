/**
 * Drives a real full-screen program in a real terminal: a tmux session on a private tmux server
 * (its own socket, no user config, no status line), with keys sent to it and its screen read back
 * with `capture-pane`. Waits poll the screen for a condition, never a fixed time, and fail with
 * the last screen. Teardown kills the tmux server, and with it everything in the pane, and removes
 * its socket (tmux leaves it behind).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { groupMembers } from './run-e2e.js';

interface Teardownable {
  teardown(fn: () => void | Promise<void>): void;
}

export interface TmuxOptions {
  /** the program and its arguments, run through `env -i` so that it sees exactly `env` */
  command: string[];
  env: Record<string, string>;
  cwd: string;
  width?: number;
  height?: number;
}

/** What a wait looks for: a pattern in the screen text, or a test of it. */
export type ScreenCheck = RegExp | ((screen: string) => boolean);

/** How often waits read the screen (ms). */
const POLL_MS = 50;
const SESSION = 'main';

/** Runs tmux against the private server at socket `server`; rejects with its stderr when it fails. */
function tmux(server: string, args: string[]): Promise<string> {
  // A test run inside tmux must not reach the user's server through $TMUX.
  const env = { ...process.env };
  delete env['TMUX'];
  delete env['TMUX_PANE'];
  return new Promise((resolve, reject) => {
    execFile('tmux', ['-S', server, '-f', '/dev/null', ...args], { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tmux ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** The screen's lines (1-based line `n` is `lines[n - 1]`). */
export function screenLines(screen: string): string[] {
  return screen.split('\n');
}

/** The screen with line numbers, for failure messages. */
export function numbered(screen: string): string {
  return screenLines(screen)
    .map((l, i) => `${String(i + 1).padStart(3)}|${l}`)
    .join('\n');
}

/** A tmux session running one program. */
/**
 * How long a test waits for the screen to show something before it fails, showing the last
 * screen. A hang guard, not a time limit: on a loaded 2-core machine a run and its server take
 * many seconds to start, so it is long; a screen that is right returns at once.
 */
export const SCREEN_WAIT_MS = 60_000;

export class TmuxSession {
  /** the tmux server's socket */
  readonly server: string;
  /** the pane's first process; the program and its children share its process group */
  readonly panePid: number;
  #last = '';

  private constructor(server: string, panePid: number) {
    this.server = server;
    this.panePid = panePid;
  }

  /** Starts the program in a new detached session of its own tmux server; killed at teardown. */
  static async start(t: Teardownable, opts: TmuxOptions): Promise<TmuxSession> {
    // In the system's temp folder, not the test's: a socket path must stay under ~100 bytes.
    const server = path.join(os.tmpdir(), `trellis-tmux-${randomBytes(6).toString('hex')}`);
    let panePid: number | undefined;
    t.teardown(async () => {
      await tmux(server, ['kill-server']).catch(() => undefined);
      fs.rmSync(server, { force: true });
      if (panePid !== undefined) await endGroup(panePid);
    });
    const env = Object.entries(opts.env).map(([k, v]) => `${k}=${v}`);
    await tmux(server, [
      'start-server',
      ';',
      'set-option',
      '-g',
      'status',
      'off',
      ';',
      'new-session',
      '-d',
      '-s',
      SESSION,
      '-c',
      opts.cwd,
      '-x',
      String(opts.width ?? 160),
      '-y',
      String(opts.height ?? 50),
      '--',
      'env',
      '-i',
      ...env,
      ...opts.command,
    ]);
    panePid = Number((await tmux(server, ['display-message', '-p', '-t', SESSION, '#{pane_pid}'])).trim());
    return new TmuxSession(server, panePid);
  }

  /** The screen as text, one line per terminal row; with `escapes`, colours and attributes as SGR codes. */
  async capture(opts: { escapes?: boolean } = {}): Promise<string> {
    const out = await tmux(this.server, ['capture-pane', '-p', ...(opts.escapes ? ['-e'] : []), '-t', SESSION]);
    const screen = out.endsWith('\n') ? out.slice(0, -1) : out;
    if (!opts.escapes) this.#last = screen;
    return screen;
  }

  /** The last screen read. */
  get lastScreen(): string {
    return this.#last;
  }

  /** Resolves with the screen once `check` holds; rejects after `ms` showing the last screen. */
  async waitForScreen(check: ScreenCheck, ms = SCREEN_WAIT_MS, what = String(check)): Promise<string> {
    const deadline = Date.now() + ms;
    const holds = typeof check === 'function' ? check : (s: string) => check.test(s);
    for (;;) {
      const screen = await this.capture();
      if (holds(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; the screen:\n${numbered(screen)}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** Presses keys by tmux name (`Enter`, `Up`, `PageDown`, `Escape`, `j`). */
  async keys(...names: string[]): Promise<void> {
    await tmux(this.server, ['send-keys', '-t', SESSION, ...names]);
  }

  /** Types text literally. */
  async type(text: string): Promise<void> {
    await tmux(this.server, ['send-keys', '-t', SESSION, '-l', '--', text]);
  }

  /** Resizes the terminal. */
  async resize(width: number, height: number): Promise<void> {
    await tmux(this.server, ['resize-window', '-t', SESSION, '-x', String(width), '-y', String(height)]);
  }

  /** A tmux format about the pane, e.g. `#{alternate_on}` (the program's full-screen mode). */
  async display(format: string): Promise<string> {
    return (await tmux(this.server, ['display-message', '-p', '-t', SESSION, format])).trim();
  }
}

/** Waits for the pane's process group to end after its tmux server went (KILL after 5 s). */
async function endGroup(pgid: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (groupMembers(pgid).length > 0) {
    if (Date.now() > deadline) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
