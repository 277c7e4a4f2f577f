/**
 * `trellis doctor`: looks at a run area the way its clients and servers rely on it — `.meta/`
 * (token, area id, packets, lease), `.db/` (the runs index, every run database, databases without
 * a row) and the work folders — and with `repair` fixes what it safely can, saying what it did.
 * Nothing it does deletes a result: damaged or foreign files are moved aside.
 */
import { requestJson } from '../client/http.js';
import { readAreaIdFile, validToken } from '../config/meta-files.js';
import { runAreaPaths } from '../config/paths.js';
import { readIndex } from '../db/db-inspect.js';
import { note, type Finding } from '../model/doctor.js';
import type { FoundPacket } from '../model/protocol.js';
import { acquireLease } from '../server/lease.js';
import { inspectDbFile } from '../util/db-files.js';
import { isTrellisError } from '../util/errors.js';
import { examineDatabases } from './db-checks.js';
import { examineFolders } from './folder-checks.js';
import { examineMeta } from './meta-checks.js';

export interface DoctorOptions {
  runArea: string;
  repair: boolean;
  host: string;
  now: () => number;
  debug: (message: string) => void;
  /** the area's [fields] keys, when the area config is at hand */
  fields: readonly string[] | undefined;
}

/** Every finding, in the order looked at: token, area id, packets, lease, databases, folders. */
export async function runDoctor(opts: DoctorOptions): Promise<Finding[]> {
  const paths = runAreaPaths(opts.runArea);
  const index = inspectDbFile(paths.mainDb) === 'ok' ? readIndex(paths.mainDb) : undefined;
  const meta = await examineMeta({
    paths,
    repair: opts.repair,
    host: opts.host,
    now: opts.now,
    debug: opts.debug,
    mainAreaId: typeof index === 'object' ? index.areaId : undefined,
  });
  const stopped: Finding[] = [];
  const db = await examineDatabases({
    paths,
    repair: opts.repair,
    now: opts.now,
    recordedAreaId: readAreaIdFile(paths),
    keysOf: (target) => keysOf(opts.fields, target),
    takeLease: () => takeLeaseForRepair(opts, meta.live, stopped),
  });
  const folders = examineFolders({ paths, runs: db.runs, keyCount: opts.fields?.length });
  return [...meta.findings, ...stopped, ...db.findings, ...folders];
}

/**
 * The write lease, for repairs that write databases. A live server of this area holding it is
 * asked to stop (safe: clients start another when they next need one); anything else holding it
 * is reported, and those repairs are not done.
 */
async function takeLeaseForRepair(
  opts: DoctorOptions,
  live: readonly FoundPacket[],
  said: Finding[],
): Promise<(() => Promise<void>) | string> {
  const paths = runAreaPaths(opts.runArea);
  const take = async (waitMs: number) => {
    const lease = await acquireLease(paths, { host: opts.host, waitMs, now: opts.now, onCompromised: () => undefined });
    return () => lease.release();
  };
  try {
    return await take(0);
  } catch (err) {
    if (!(isTrellisError(err) && err.code === 'LEASE_HELD')) throw err;
    const token = validToken(paths);
    if (live.length === 0 || token === undefined)
      return `${err.message}; stop it (trellis server stop --all), then run trellis doctor --repair again`;
  }
  for (const f of live) {
    const p = f.packet;
    const answer = await requestJson(
      { address: p.address, port: p.port, token: validToken(paths) ?? '' },
      'POST',
      '/v1/shutdown',
      {},
      5000,
    ).catch(() => undefined);
    if (answer?.status === 200)
      said.push(
        note(
          'lease',
          `stopped server pid ${p.pid} on host ${p.host} to take the write lease for the repairs (clients start a new one when they need it)`,
        ),
      );
  }
  try {
    return await take(15_000);
  } catch (err) {
    if (isTrellisError(err) && err.code === 'LEASE_HELD')
      return `${err.message}; stop it (trellis server stop --all), then run trellis doctor --repair again`;
    throw err;
  }
}

/** A target's keys by the area's [fields]; none when they are not known. */
function keysOf(fields: readonly string[] | undefined, target: string): Record<string, string> {
  if (fields === undefined || fields.length === 0) return {};
  const values = target.split('/');
  return Object.fromEntries(fields.map((k, i) => [k, values[i] ?? '']));
}
