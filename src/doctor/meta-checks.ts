/**
 * The doctor's look at `.meta/`: the token, the area id, the packets and the write lease. Repairs
 * touch only what no live process needs: a damaged token is handed to the live server to write back
 * (or replaced when none lives), dead, stale, foreign and malformed packets are removed, a lease
 * or start lock whose holder is gone is cleared.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { checkHealth, usableToken, type HealthResult } from '../client/discovery.js';
import { inspectPackets } from '../client/packets.js';
import { readAreaIdState, readToken } from '../config/meta-files.js';
import type { RunAreaPaths } from '../config/paths.js';
import { note, ok, problem, type Finding } from '../model/doctor.js';
import { STALE_AFTER, type FoundPacket } from '../model/protocol.js';
import { acquireLease, isLeaseHeld, readLeaseOwner, STALE_MS } from '../server/lease.js';
import { removeFile, writeFileAtomic } from '../util/files.js';
import { TrellisError } from '../util/errors.js';
import { isPidAlive } from '../util/process-info.js';
import { newToken, writeTokenOver } from '../util/token-file.js';

export interface MetaCheckOptions {
  paths: RunAreaPaths;
  repair: boolean;
  host: string;
  now: () => number;
  debug: (message: string) => void;
  /** main.db's area id, when it could be read */
  mainAreaId: string | undefined;
}

/** What the look at `.meta/` found, and the live servers it saw (their packets). */
export interface MetaReport {
  findings: Finding[];
  live: FoundPacket[];
}

/** A temp file (`*.tmp`) older than this (seconds) is left from a writer that died. */
const TEMP_AGE = 60;

/** Looks at `.meta/` (repairing with `repair`): token, area id, packets, lease, leftovers. */
export async function examineMeta(opts: MetaCheckOptions): Promise<MetaReport> {
  const { paths } = opts;
  const findings: Finding[] = [];
  let entries: string[];
  try {
    entries = readdirSync(paths.metaDir);
  } catch {
    findings.push(note('token', `${paths.metaDir} does not exist yet: no server has run here`));
    return { findings, live: [] };
  }
  findings.push(...(await examineToken(opts)));
  const token = readToken(paths);
  const packets = await examinePackets(opts, token.kind === 'ok' ? token.token : undefined);
  findings.push(...examineAreaId(opts, packets.live.length > 0), ...packets.findings);
  findings.push(...(await examineLease(opts, packets.live)));
  findings.push(...removeLeftovers(opts, entries));
  return { findings, live: packets.live };
}

async function examineToken(opts: MetaCheckOptions): Promise<Finding[]> {
  const file = opts.paths.tokenFile;
  const read = readToken(opts.paths);
  if (read.kind === 'ok') return [ok('token', `${file} holds a well-formed token`)];
  if (read.kind === 'missing') return [note('token', `${file} does not exist yet: the first server makes it`)];
  const found = problem(
    'token',
    `${file} is damaged (${read.why}): clients cannot use the server`,
    'run `trellis doctor --repair`; a live server also writes its token back within 10 s',
  );
  if (!opts.repair) return [found];
  // A live server writes its own token back when asked anything: then its clients keep working.
  if ((await usableToken(opts.paths, opts)).kind === 'ok') return [{ ...found, repaired: 'the live server wrote its token back' }];
  writeTokenOver(file, newToken());
  return [{ ...found, repaired: 'wrote a new token (no server was running)' }];
}

function examineAreaId(opts: MetaCheckOptions, serverLive: boolean): Finding[] {
  const { paths, mainAreaId } = opts;
  const file = paths.areaIdFile;
  const read = readAreaIdState(paths);
  if (read.kind === 'ok' && (mainAreaId === undefined || read.text === mainAreaId))
    return [ok('area-id', `${file} says area ${read.text}`)];
  if (read.kind === 'missing') return [note('area-id', `${file} does not exist yet: the first server writes it`)];
  if (mainAreaId === undefined) {
    return [
      problem(
        'area-id',
        `${file} is damaged (${read.kind === 'damaged' ? read.why : 'unknown'})`,
        'a server rewrites it from main.db when it starts; repair main.db first',
      ),
    ];
  }
  const what =
    read.kind === 'ok' ? `${file} says area ${read.text} but ${paths.mainDb} is area ${mainAreaId}` : `${file} is damaged (${read.why})`;
  const found = problem(
    'area-id',
    `${what}: clients take this area's server for another's`,
    "run `trellis doctor --repair` to write main.db's id there",
  );
  if (!opts.repair) return [found];
  // A live server rewrites it within 10 s too; writing main.db's id is what it would write.
  writeFileAtomic(file, `${mainAreaId}\n`, 0o640);
  return [{ ...found, repaired: `wrote ${mainAreaId} there${serverLive ? ' (as the live server would)' : ''}` }];
}

/** Each packet: malformed, or whose server is live, gone, stale, foreign or refusing the token. */
async function examinePackets(opts: MetaCheckOptions, token: string | undefined): Promise<{ findings: Finding[]; live: FoundPacket[] }> {
  const findings: Finding[] = [];
  const live: FoundPacket[] = [];
  const now = opts.now();
  const remove = (f: Finding, file: string, why: string): Finding => {
    if (!opts.repair) return f;
    rmSync(file, { recursive: true, force: true });
    return { ...f, repaired: `removed it (${why})` };
  };
  const entries = inspectPackets(opts.paths.metaDir);
  if (entries.length === 0) findings.push(note('packets', 'no server packets: no server is running'));
  for (const entry of entries) {
    if (entry.found === undefined) {
      const f = problem('packets', `${entry.file} is not a packet (${entry.problem})`, 'remove it, or run `trellis doctor --repair`');
      findings.push(remove(f, entry.file, 'clients ignore it; a live server writes its own packet again'));
      continue;
    }
    const p = entry.found.packet;
    const who = `server pid ${p.pid} on host ${p.host} at ${p.address}:${p.port}`;
    const age = Math.round(now - entry.found.touched);
    const health: HealthResult | undefined =
      token !== undefined
        ? await checkHealth(entry.found, token, opts.mainAreaId, opts.host)
        : p.host === opts.host && !isPidAlive(p.pid, null)
          ? { ok: false, reason: `pid ${p.pid} is not running`, gone: true, otherArea: false, tokenRefused: false }
          : undefined;
    if (health?.ok) {
      live.push(entry.found);
      findings.push(ok('packets', `${who} is live (invocation ${p.invocation}, touched ${age} s ago)`));
    } else if (health?.gone) {
      findings.push(
        remove(
          problem('packets', `${who} is gone (${health.reason}) but its packet is still there`, 'run `trellis doctor --repair`'),
          entry.file,
          'its server is gone',
        ),
      );
    } else if (age > STALE_AFTER) {
      findings.push(
        remove(
          problem('packets', `${who}: its packet was not touched for ${age} s`, 'run `trellis doctor --repair`'),
          entry.file,
          'clients ignore it; a live server writes it again',
        ),
      );
    } else if (health?.otherArea) {
      findings.push(
        remove(
          problem('packets', `${who}: ${health.reason}`, 'run `trellis doctor --repair`'),
          entry.file,
          'it is not a server of this area',
        ),
      );
    } else if (health?.tokenRefused) {
      findings.push(
        problem(
          'packets',
          `${who} refuses the area token in ${opts.paths.tokenFile}`,
          `stop that process on host ${p.host} (an older Trellis, or it cannot read .meta/token)`,
        ),
      );
    } else {
      const why = health === undefined ? 'no usable token to ask it with' : health.reason;
      findings.push(
        note('packets', `${who} did not answer (${why})`, 'if it stays so, check that host; a packet not touched for 30 s is ignored'),
      );
    }
  }
  return { findings, live };
}

async function examineLease(opts: MetaCheckOptions, live: readonly FoundPacket[]): Promise<Finding[]> {
  const { paths } = opts;
  const lockDir = `${paths.dbDir}.lock`;
  const owner = readLeaseOwner(paths);
  const lockAge = ageOf(lockDir, opts.now());
  const findings: Finding[] = [];
  if (lockAge === undefined) {
    if (owner === undefined) findings.push(ok('lease', 'no server holds the write lease'));
    else {
      const f = problem(
        'lease',
        `${paths.leaseOwnerFile} names pid ${owner.pid} on ${owner.host} but no lease is held`,
        'run `trellis doctor --repair`',
      );
      findings.push(opts.repair ? repaired(f, () => removeFile(paths.leaseOwnerFile)) : f);
    }
  } else {
    const who = owner === undefined ? 'an unknown holder' : `pid ${owner.pid} on host ${owner.host}`;
    const ownerGone = owner !== undefined && owner.host === opts.host && !isPidAlive(owner.pid, owner.procStart);
    const held = await isLeaseHeld(paths);
    if (held && !ownerGone) {
      const serving = live.some((f) => owner !== undefined && f.packet.host === owner.host && f.packet.pid === owner.pid);
      findings.push(
        serving
          ? ok('lease', `the write lease is held by ${who}, the live server`)
          : note(
              'lease',
              `the write lease is held by ${who}, which has no live packet`,
              'a server that stops refreshing it loses it within 10 s',
            ),
      );
    } else {
      const why = ownerGone
        ? `its holder ${who} is gone`
        : `not refreshed for ${Math.round(lockAge)} s (${STALE_MS / 1000} s makes it stale)`;
      const f = problem(
        'lease',
        `the write lease ${lockDir} is left over: ${why}`,
        'run `trellis doctor --repair` (the next server also takes it over)',
      );
      if (opts.repair) findings.push(await freeLease(opts, f));
      else findings.push(f);
    }
  }
  const startLock = `${paths.startLockFile}.lock`;
  const startAge = ageOf(startLock, opts.now());
  if (startAge !== undefined && startAge > 30) {
    const f = problem(
      'lease',
      `the server start lock ${startLock} is ${Math.round(startAge)} s old: its client is gone`,
      'run `trellis doctor --repair` (clients also take it over after 30 s)',
    );
    findings.push(opts.repair ? repaired(f, () => rmSync(startLock, { recursive: true, force: true })) : f);
  }
  return findings;
}

/**
 * Frees a left-over lease the way a server takes one over (proper-lockfile's own stale rule, with no
 * window in which a starting server and the doctor both think they removed it), then lets it go. A
 * server that took it first keeps it: nothing is left to repair.
 */
async function freeLease(opts: MetaCheckOptions, f: Finding): Promise<Finding> {
  try {
    const lease = await acquireLease(opts.paths, { host: opts.host, waitMs: 0, onCompromised: () => undefined, now: opts.now });
    await lease.release();
    return { ...f, repaired: 'took the lease over and let it go (lock and lease.json removed)' };
  } catch (err) {
    if (err instanceof TrellisError && err.code === 'LEASE_HELD') return ok('lease', 'a server took the write lease over meanwhile');
    throw err;
  }
}

/** Temp files left by writers that died mid-write (`*.tmp`, older than a minute). */
function removeLeftovers(opts: MetaCheckOptions, entries: readonly string[]): Finding[] {
  const findings: Finding[] = [];
  for (const name of entries.filter((n) => n.endsWith('.tmp'))) {
    const file = path.join(opts.paths.metaDir, name);
    const age = ageOf(file, opts.now());
    if (age === undefined || age < TEMP_AGE) continue;
    const f = note('packets', `${file} is a temp file left by a writer that died`);
    findings.push(opts.repair ? repaired(f, () => removeFile(file)) : { ...f, fix: '`trellis doctor --repair` removes it' });
  }
  return findings;
}

/** Seconds since the file was modified, or undefined when it is not there. */
function ageOf(file: string, now: number): number | undefined {
  try {
    return now - statSync(file).mtimeMs / 1000;
  } catch {
    return undefined;
  }
}

/** Removes what `f` is about, and says so. */
function repaired(f: Finding, remove: () => void): Finding {
  remove();
  return { ...f, repaired: 'removed it' };
}
