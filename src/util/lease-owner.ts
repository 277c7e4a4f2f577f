/**
 * `.meta/lease.json`: who holds the run area's write lease (proper-lockfile's lock on `.db/` carries
 * no owner). Written by the server that takes the lease (server/lease.ts); read by clients, which
 * must not import the server, to tell the lease holder from other packets.
 */
import { readFileSync } from 'node:fs';

export interface LeaseOwner {
  host: string;
  pid: number;
  procStart: number | null;
  /** seconds since the epoch */
  since: number;
}

/** Who holds the lease according to the file (undefined if missing, unreadable or malformed). */
export function readLeaseOwnerFile(file: string): LeaseOwner | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as LeaseOwner;
    if (typeof v === 'object' && v !== null && typeof v.host === 'string' && Number.isInteger(v.pid)) return v;
  } catch {
    // missing or unreadable: unknown holder
  }
  return undefined;
}
