/**
 * Simulated hosts for tests of what crosses a network (../shared/netns/hosts.sh, or the copy in
 * test/fixtures/netns): network namespaces h1..hN = 10.213.0.1..N, each with its own hostname, all
 * on this machine's filesystem. The hosts have fixed names, so a test holds a machine-wide lock
 * while they are up (another checkout's copy of the test waits), and takes them down at teardown.
 * Needs root, iproute2 and util-linux; without them the test fails rather than being skipped.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { repoRoot, trellisBin, type CliResult } from './cli.js';

const SHARED_HOSTS_SH = path.resolve(repoRoot, '../shared/netns/hosts.sh');
export const HOSTS_SH = fs.existsSync(SHARED_HOSTS_SH) ? SHARED_HOSTS_SH : path.join(repoRoot, 'test/fixtures/netns/hosts.sh');
/** Held while the hosts are up: the same lock test/e2e/server-hosts.test.ts takes. */
const HOSTS_LOCK = path.join(os.tmpdir(), 'trellis-test-netns-hosts');

interface Teardownable {
  teardown(fn: () => void | Promise<void>): void;
}

/** What this machine lacks to simulate hosts; empty when it has everything. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push(`root (running as uid ${process.getuid?.()})`);
  for (const cmd of ['ip', 'unshare']) {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    } catch {
      missing.push(`the ${cmd} command (${cmd === 'ip' ? 'iproute2' : 'util-linux'})`);
    }
  }
  if (!fs.existsSync(HOSTS_SH)) missing.push(HOSTS_SH);
  return missing;
}

export function hostsSh(...args: string[]): string {
  return execFileSync(HOSTS_SH, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The address of host `hN`. */
export function addrOf(host: string): string {
  const m = /^h([0-9]+)$/.exec(host);
  if (!m) throw new Error(`not a simulated host: ${host}`);
  return `10.213.0.${m[1]}`;
}

/**
 * Takes the hosts lock and brings up `n` hosts; everything `cleanup` registers, then the hosts and
 * the lock, go at teardown (also after a failure). Register the teardown before t.testdir(): tap
 * removes the folder before later teardowns run.
 */
export async function upHosts(t: Teardownable, n: number, cleanup: () => void | Promise<void>): Promise<void> {
  const missing = missingPrerequisites();
  if (missing.length > 0)
    throw new Error(`simulated hosts need root, ip (iproute2) and unshare (util-linux); missing: ${missing.join(', ')}`);
  const unlock = await lockfile
    .lock(HOSTS_LOCK, {
      realpath: false,
      stale: 10_000,
      retries: { retries: 240, minTimeout: 500, maxTimeout: 500, factor: 1 },
      onCompromised: () => undefined,
    })
    .catch((err: Error) => {
      throw new Error(`another test has held the simulated hosts (${HOSTS_LOCK}.lock) for two minutes: ${err.message}`);
    });
  t.teardown(async () => {
    try {
      await cleanup();
      hostsSh('down');
    } finally {
      await unlock();
    }
  });
  hostsSh('down');
  hostsSh('up', String(n));
}

/** A process started inside a simulated host, killed at teardown if still running. */
export class OnHost {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly done: Promise<CliResult>;

  constructor(t: Teardownable, host: string, argv: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}) {
    // hosts.sh execs its way down to the command, so this pid is the command itself.
    this.child = spawn(HOSTS_SH, ['exec', host, ...argv], {
      cwd: opts.cwd ?? repoRoot,
      env: { ...process.env, NO_COLOR: '1', TRELLIS_DIRECT: undefined, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.done = new Promise((resolve) => {
      this.child.on('close', (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }));
    });
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    t.teardown(async () => {
      if (this.child.exitCode === null && this.child.signalCode === null) {
        this.child.kill('SIGKILL');
        // Not 'close': what it started (an sshd's sessions, sshfs) may hold its pipes open.
        await exited;
      }
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
    });
  }
}

/** `trellis ARGS` on a simulated host. */
export function trellisOn(t: Teardownable, host: string, args: string[], opts: { env?: Record<string, string | undefined> } = {}): OnHost {
  return new OnHost(t, host, [process.execPath, trellisBin, ...args], opts);
}
