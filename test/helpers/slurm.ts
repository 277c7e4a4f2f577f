/**
 * The real single-node Slurm the launcher tests run on (../shared/slurm, or the copy kept in
 * test/fixtures/slurm for clones without it): started if it is not up (the script is idempotent
 * and takes about 0.1 s when it is), and asked about jobs the way the tests need.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './cli.js';

const SHARED = path.resolve(repoRoot, '../shared/slurm/start-slurm.sh');
const START = fs.existsSync(SHARED) ? SHARED : path.join(repoRoot, 'test/fixtures/slurm/start-slurm.sh');

/** Makes sure Slurm answers; throws with the script's output when it cannot be started. */
export function ensureSlurm(): void {
  try {
    execFileSync('scontrol', ['ping'], { stdio: 'ignore' });
    execFileSync('sinfo', ['-h'], { stdio: 'ignore' });
    return;
  } catch {
    // not up (or not installed): start it
  }
  try {
    execFileSync('bash', [START], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SLURM_CI_OVERSUBSCRIBE: process.env['SLURM_CI_OVERSUBSCRIBE'] ?? '8' },
      timeout: 300_000,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`could not start Slurm with ${START}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** The ids of the jobs Slurm has pending or running (or completing), among `ids`. */
export function activeJobs(ids: readonly string[]): string[] {
  if (ids.length === 0) return [];
  let out = '';
  try {
    out = execFileSync('squeue', ['-h', '-j', ids.join(','), '-o', '%i %T'], { encoding: 'utf8' });
  } catch {
    return [];
  }
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([id, state]) => id && state && ['PENDING', 'RUNNING', 'COMPLETING', 'CONFIGURING', 'SUSPENDED'].includes(state))
    .map(([id]) => id!);
}

/** `scontrol show job ID` as key → value. */
export function jobInfo(id: string): Record<string, string> {
  const out = execFileSync('scontrol', ['show', 'job', id], { encoding: 'utf8' });
  const info: Record<string, string> = {};
  for (const m of out.matchAll(/(\w+)=(\S*)/g)) info[m[1]!] = m[2]!;
  return info;
}

/** Cancels jobs (teardown of a test that left some). */
export function cancelJobs(ids: readonly string[]): void {
  if (ids.length === 0) return;
  try {
    execFileSync('scancel', [...ids], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}
