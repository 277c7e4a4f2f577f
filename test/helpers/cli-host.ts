/**
 * Runs short CLI commands (list, show, report, diff, config, help, bad input…) in one long-lived
 * child process per test file instead of one Node start each: the same entry point and code as
 * `node bin/trellis.js` (runMain in src/cli/main.ts, which bin/trellis.js calls), with the command
 * line's own folder, environment and captured output. A Node start costs 0.2–1 CPU-s on these
 * machines and the e2e files make hundreds of such calls; the commands that run tests, serve,
 * or live on (run, server start, dashboard, web, exec, wrap, the in-test helpers) always get their
 * own process (cli.ts decides, see hostable()).
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliResult } from './cli.js';

interface Answer {
  id: number;
  code: number;
  stdout: string;
  stderr: string;
}

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cli-host-child.js');

/** First words of the command lines that a host may run. */
const HOSTED = new Set([
  'list',
  'show',
  'report',
  'diff',
  'history',
  'last-success',
  'check',
  'config',
  'log',
  'set-state-status',
  'lock',
  'unlock',
  'remove',
  'doctor',
  'completion',
  '__complete',
  'init',
  'kill',
  'approve',
  'resources',
  'record',
  'help',
]);
const HOSTED_SERVER = new Set(['list', 'ping', 'stop']);

/** True when the command line is one the host runs (a short command that starts nothing of its own). */
export function hostable(args: readonly string[]): boolean {
  const [first, second] = args;
  if (first === undefined) return true;
  if (first === '--help' || first === '-h' || first === '--version') return true;
  if (first === 'server') return second !== undefined && HOSTED_SERVER.has(second);
  return HOSTED.has(first);
}

let host: { child: ChildProcess; pending: Map<number, (r: CliResult) => void>; stderr: string } | undefined;
let nextId = 1;

function startHost(): NonNullable<typeof host> {
  const child = fork(CHILD, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
  const h = { child, pending: new Map<number, (r: CliResult) => void>(), stderr: '' };
  child.stderr!.on('data', (d: Buffer) => {
    h.stderr += d.toString();
  });
  child.on('message', (msg: Answer) => {
    const done = h.pending.get(msg.id);
    h.pending.delete(msg.id);
    idle(h);
    done?.({ code: msg.code, signal: null, stdout: msg.stdout, stderr: msg.stderr });
  });
  child.on('exit', (code, signal) => {
    if (host === h) host = undefined;
    for (const done of h.pending.values()) {
      done({ code, signal, stdout: '', stderr: `the CLI host ended (code ${code}, signal ${signal}) during this command:\n${h.stderr}` });
    }
    h.pending.clear();
  });
  return h;
}

/** A host with nothing to do does not keep the test process alive. */
function idle(h: NonNullable<typeof host>): void {
  if (h.pending.size > 0) return;
  h.child.unref();
  (h.child.channel as { unref?: () => void } | undefined)?.unref?.();
  (h.child.stderr as { unref?: () => void } | null)?.unref?.();
}

/** Runs one command line in the host. */
export function runHosted(args: readonly string[], cwd: string, env: Record<string, string | undefined>): Promise<CliResult> {
  host ??= startHost();
  const h = host;
  const id = nextId++;
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  h.child.ref();
  (h.child.channel as { ref?: () => void } | undefined)?.ref?.();
  return new Promise((resolve) => {
    h.pending.set(id, resolve);
    h.child.send({ id, argv: [...args], cwd, env: clean });
  });
}
