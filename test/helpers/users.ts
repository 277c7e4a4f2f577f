/**
 * Real Unix users for the identity tests (docs/security.md): made with `useradd` (the tests run as
 * root), in one group of their own, removed with `userdel -r` on teardown. Their commands run as
 * them (spawn's uid/gid) with umask 002, as a team sharing a run area would, from an install they
 * can read: the repository itself when every folder above it lets others in, else a copy of hard
 * links under /tmp.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './cli.js';
import type { CliResult } from './cli.js';
import { stopServersUnder } from './servers.js';

interface Teardownable {
  teardown(fn: () => void | Promise<void>): void;
}

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** True when this process may make users (root, with useradd on PATH). */
export function canMakeUsers(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Makes a group, users in it (names unique to this process) and a folder under /tmp they share
 * (setgid, group-writable). On teardown: the servers under the folder stopped, the folder, the
 * users and the group removed. Each user's `gid` is the shared group's, the one their commands run with.
 */
export function makeUsers(t: Teardownable, names: string[]): { group: string; dir: string; users: Record<string, TestUser> } {
  const tag = `tr${process.pid.toString(36)}`;
  const group = `${tag}g`;
  execFileSync('groupadd', [group]);
  const gid = Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-users-'));
  fs.chownSync(dir, 0, gid);
  fs.chmodSync(dir, 0o2775);
  const made: string[] = [];
  t.teardown(async () => {
    await stopServersUnder(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    for (const u of made) execFileSync('userdel', ['-r', u], { stdio: 'ignore' });
    execFileSync('groupdel', [group], { stdio: 'ignore' });
  });
  const users: Record<string, TestUser> = {};
  for (const n of names) {
    const name = `${tag}${n}`;
    execFileSync('useradd', ['-m', '-s', '/bin/sh', '-G', group, name]);
    made.push(name);
    const [, , uid, , , home] = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
    users[n] = { name, uid: Number(uid), gid, home: home! };
  }
  return { group, dir, users };
}

/** bin/trellis.js of an install other users can read. */
export function readableInstall(t: Teardownable): string {
  if (othersMayEnter(repoRoot)) return path.join(repoRoot, 'bin', 'trellis.js');
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-install-'));
  fs.chmodSync(copy, 0o755);
  t.teardown(() => fs.rmSync(copy, { recursive: true, force: true }));
  for (const part of ['bin', 'dist', 'node_modules', 'package.json']) {
    try {
      execFileSync('cp', ['-al', path.join(repoRoot, part), copy], { stdio: 'ignore' });
    } catch {
      // another filesystem: hard links cannot cross it
      execFileSync('cp', ['-a', path.join(repoRoot, part), copy]);
    }
  }
  return path.join(copy, 'bin', 'trellis.js');
}

function othersMayEnter(dir: string): boolean {
  for (let d = dir; ; d = path.dirname(d)) {
    if ((fs.statSync(d).mode & 0o001) === 0) return false;
    if (path.dirname(d) === d) return true;
  }
}

/** Runs `node trellisJs args…` as the user, with umask 002, in `cwd`. */
export function runAs(
  user: TestUser,
  trellisJs: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<CliResult> {
  // tap's process-info hook rides along in NODE_OPTIONS and writes where these users may not.
  const script = 'umask 002; unset NODE_OPTIONS; exec "$@"';
  const child = spawn('/bin/sh', ['-c', script, 'sh', process.execPath, trellisJs, ...args], {
    cwd,
    uid: user.uid,
    gid: user.gid,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: user.home, USER: user.name, LOGNAME: user.name, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}
