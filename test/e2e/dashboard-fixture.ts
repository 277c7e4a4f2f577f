/**
 * What the dashboard end-to-end tests share: a small area whose timing the test controls (items
 * that run until the test opens their gate file, a test that fails until a flag file exists, a
 * quick one), a background run stopped at teardown, the built dashboard in a tmux session, and
 * reading cells off the screen.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { makeArea } from '../helpers/area.js';
import { trellisBin, type CliProcess } from '../helpers/cli.js';
import { startRun, TARGET } from '../helpers/run-e2e.js';
import { screenLines, TmuxSession, SCREEN_WAIT_MS } from '../helpers/tmux.js';

export { TARGET };

/**
 * Items 1 2 3; each prints a line, then runs until the file `go-N` exists in the area (then
 * prints another line and passes). It gives up (FAIL) after about a minute.
 */
export const GATED =
  '[items]\nN 1 2 3\n\n[ezsteps]\n' +
  'wait  echo "waiting for go-$N"; for i in $(seq 1 1200); do if [ -e "$MT_RUN_AREA_HOME/go-$N" ]; then echo "gate go-$N open"; exit 0; fi; sleep 0.05; done; exit 1\n';
/** Fails until the file `fixed` exists in the area. */
export const FLAKY = '[ezsteps]\ncheck  echo checking; [ -e "$MT_RUN_AREA_HOME/fixed" ]\n';
export const QUICK = '[ezsteps]\nrun  echo quick\n';

/** Room for every test at once, so the gated items all run. */
const CONFIG = '[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs 8\n';

/** An area with `slow` (GATED), `quick` and `flaky`, or the given tests. */
export function makeDashboardArea(t: Test, tests: Record<string, string> = { slow: GATED, quick: QUICK, flaky: FLAKY }): string {
  return makeArea(t, { config: CONFIG, tests });
}

/** Lets item N of `slow` pass. */
export function openGate(area: string, n: number): void {
  fs.writeFileSync(path.join(area, `go-${n}`), '');
}

/**
 * Starts `trellis run -t linux/x86_64 -r RUNNAME` in the background. At teardown it is stopped
 * like a user would (Ctrl-C: its running steps get TERM) and waited for; KILL if it hangs.
 */
export function startBackgroundRun(t: Test, area: string, runname: string, extra: string[] = []): CliProcess {
  const proc = startRun(t, area, runname, extra);
  t.teardown(async () => {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
    proc.child.kill('SIGINT');
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 15_000);
    await proc.done;
    clearTimeout(timer);
  });
  return proc;
}

export interface DashboardOptions {
  width?: number;
  height?: number;
  /** added to the session's environment (PATH, HOME, TERM, LANG) */
  env?: Record<string, string>;
}

/** The line the session prints after the dashboard exits. */
export const EXIT_LINE = /^TRELLIS-EXIT=(\d+)$/m;

/**
 * `trellis dashboard ARGS` in the area, in a tmux terminal of its own. After the dashboard exits
 * the shell prints `TRELLIS-EXIT=<code>` and stays, so the test can read both.
 */
export function openDashboard(t: Test, area: string, args: string[] = [], opts: DashboardOptions = {}): Promise<TmuxSession> {
  const home = path.join(area, 'home');
  fs.mkdirSync(home, { recursive: true });
  return TmuxSession.start(t, {
    command: ['sh', '-c', '"$0" "$@"; echo TRELLIS-EXIT=$?; exec sleep 600', process.execPath, trellisBin, 'dashboard', ...args],
    cwd: area,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: home,
      USER: os.userInfo().username,
      TERM: 'screen-256color',
      LANG: 'C.UTF-8',
      ...opts.env,
    },
    width: opts.width,
    height: opts.height,
  });
}

/** Presses q and waits for the dashboard to exit (a long poll in flight may delay it); its exit code. */
export async function quit(session: TmuxSession): Promise<number> {
  await session.keys('q');
  const screen = await session.waitForScreen(EXIT_LINE, SCREEN_WAIT_MS, 'the dashboard to exit');
  return Number(EXIT_LINE.exec(screen)![1]);
}

/**
 * The cells of the row labelled `label` (` quick`, `-slow (3)`, `   1` for an item), newest run
 * first; undefined when no such row is on screen.
 */
export function cellsOf(screen: string, label: string): string[] | undefined {
  const line = screenLines(screen).find((l) => l.startsWith(`${label} `) || l === label);
  return line
    ?.slice(label.length)
    .trim()
    .split(/\s+/)
    .filter((c) => c !== '');
}

/** A check for waitForScreen: the row's cells are exactly `cells`, newest run first. */
export function rowIs(label: string, ...cells: string[]): (screen: string) => boolean {
  const check = (screen: string) => cellsOf(screen, label)?.join(' ') === cells.join(' ');
  // what a timed-out wait says it waited for
  check.toString = () => `row '${label}' to read '${cells.join(' ')}'`;
  return check;
}

/** The first column with every item of slow running, quick passed and flaky failed. */
export function runUnderWay(screen: string): boolean {
  const first = (label: string) => cellsOf(screen, label)?.[0];
  return ['   1', '   2', '   3'].every((item) => first(item) === 'RUN') && first(' quick') === 'PASS' && first(' flaky') === 'FAIL';
}

/** Line `n` (1-based) of the screen. */
export function line(screen: string, n: number): string {
  return screenLines(screen)[n - 1] ?? '';
}

/** The bottom line: the key hints, a prompt, a question or a message. */
export function bottomLine(screen: string): string {
  const lines = screenLines(screen);
  return lines[lines.length - 1] ?? '';
}

/** The start of the matrix's key line. */
export const KEY_HINTS = /^arrows\/hjkl move {2}Enter detail/;
