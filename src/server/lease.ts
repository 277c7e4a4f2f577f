/**
 * The run area's write lease (design §4): a proper-lockfile lock on `.db/`, refreshed while the
 * server lives. Only its holder opens the databases for writing. proper-lockfile frees a lock
 * whose refresh stopped for `STALE_MS`; a holder on this host whose pid is provably dead is not
 * waited for: its lock is marked stale at once, so a kill -9'd server is replaced in a moment.
 */
import { utimesSync, writeFileSync, renameSync, unlinkSync } from 'node:fs';
import lockfile from 'proper-lockfile';
import type { RunAreaPaths } from '../config/paths.js';
import { TrellisError } from '../util/errors.js';
import { readLeaseOwnerFile, type LeaseOwner } from '../util/lease-owner.js';
import { isPidAlive, processStartTime } from '../util/process-info.js';

/** A lease not refreshed for this long (ms) is free for the taking. */
export const STALE_MS = 10_000;
/** The holder refreshes it this often (ms). */
const UPDATE_MS = 2_000;

export type { LeaseOwner } from '../util/lease-owner.js';

export interface Lease {
  release(): Promise<void>;
}

export interface LeaseOptions {
  host: string;
  /** how long to wait for a live holder to let go (ms) */
  waitMs: number;
  /** called if the lease is lost while held (refresh failed, or someone took it) */
  onCompromised: (err: Error) => void;
  now: () => number;
}

/** Who holds the lease according to `.meta/lease.json` (undefined if unknown). */
export function readLeaseOwner(paths: RunAreaPaths): LeaseOwner | undefined {
  return readLeaseOwnerFile(paths.leaseOwnerFile);
}

/** True when `.db/` is locked by a live lease (held, and refreshed within STALE_MS). */
export async function isLeaseHeld(paths: RunAreaPaths): Promise<boolean> {
  return lockfile.check(paths.dbDir, { stale: STALE_MS, realpath: false });
}

/** Takes the lease, waiting up to `waitMs` for a live holder; LEASE_HELD when it cannot. */
export async function acquireLease(paths: RunAreaPaths, opts: LeaseOptions): Promise<Lease> {
  const deadline = Date.now() + opts.waitMs;
  for (;;) {
    try {
      const release = await lockfile.lock(paths.dbDir, {
        stale: STALE_MS,
        update: UPDATE_MS,
        realpath: false,
        retries: 0,
        onCompromised: opts.onCompromised,
      });
      const me: LeaseOwner = { host: opts.host, pid: process.pid, procStart: processStartTime(process.pid), since: opts.now() };
      writeOwner(paths, me);
      return {
        async release() {
          // A lease lost meanwhile may have a new holder: its lease.json is not ours to remove.
          const owner = readLeaseOwner(paths);
          if (owner && owner.host === me.host && owner.pid === me.pid && owner.since === me.since) {
            try {
              unlinkSync(paths.leaseOwnerFile);
            } catch {
              // already gone
            }
          }
          await release().catch(() => undefined);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    }
    const owner = readLeaseOwner(paths);
    if (owner && owner.host === opts.host && !isPidAlive(owner.pid, owner.procStart)) {
      // Its holder is gone for sure: age the lock so proper-lockfile removes it on the next try.
      markStale(paths);
      continue;
    }
    if (Date.now() >= deadline) {
      const who = owner ? `server pid ${owner.pid} on host ${owner.host}` : 'another server';
      throw new TrellisError(
        'LEASE_HELD',
        `the write lease of ${paths.root} is held by ${who}`,
        'use that server (trellis server list), stop it with `trellis server stop`, or wait: a lease not refreshed for 10 s is free',
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function writeOwner(paths: RunAreaPaths, owner: LeaseOwner): void {
  const tmp = `${paths.leaseOwnerFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(owner)}\n`, { mode: 0o640 });
  renameSync(tmp, paths.leaseOwnerFile);
}

function markStale(paths: RunAreaPaths): void {
  try {
    utimesSync(`${paths.dbDir}.lock`, 0, 0);
  } catch {
    // removed meanwhile: the next try takes it
  }
}
