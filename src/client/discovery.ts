/**
 * Finding the run area's server (design §5): read the packets, try them best first with a health
 * check that must name this area, remove those whose server is provably gone, and when none
 * answers start one — under the start lock, so racing clients end up with one server.
 */
import { accessSync, constants, renameSync } from 'node:fs';
import path from 'node:path';
import { runAreaPaths, type RunAreaPaths } from '../config/paths.js';
import { choosePackets, proofHeader, STALE_AFTER, type FoundPacket, type HealthInfo, type Invocation } from '../model/protocol.js';
import { makeDirs, removeFile } from '../util/files.js';
import { readAreaIdFile, readToken, validToken } from '../config/meta-files.js';
import { readPackets } from './packets.js';
import { runAreaUnwritable, TrellisError } from '../util/errors.js';
import { healthAnswerProof, healthRequestProof, newNonce, sameProof, type TokenRead } from '../util/token-file.js';
import { checkMainDbFile } from '../util/db-files.js';
import { readLeaseOwnerFile } from '../util/lease-owner.js';
import { isPidAlive } from '../util/process-info.js';
import { readLastLine, spawnDetached } from '../util/spawn-detached.js';
import { requestJson, TransportError, type Endpoint } from './http.js';

export interface Connection {
  endpoint: Endpoint;
  found: FoundPacket;
  health: HealthInfo;
}

export interface DiscoverOptions {
  runArea: string;
  /** the area folder, passed to a server this client starts (for its [server] settings) */
  areaDir: string | undefined;
  invocation: Invocation;
  /** this host's name */
  host: string;
  now: () => number;
  debug: (message: string) => void;
  /** start a server when none answers */
  autoStart: boolean;
  /** the environment a started server gets */
  env: Readonly<Record<string, string | undefined>>;
  /** bin/trellis.js */
  trellisJs: string;
  /** how long to wait for a started server's packet (ms) */
  startTimeoutMs?: number;
}

const HEALTH_TIMEOUT_MS = 2000;
const DEFAULT_START_TIMEOUT_MS = 20_000;

/** What a health check found. */
export type HealthResult =
  | { ok: true; health: HealthInfo }
  | {
      ok: false;
      reason: string;
      /** its server provably no longer exists */
      gone: boolean;
      /** it serves another area, or cannot prove it knows this area's token */
      otherArea: boolean;
      /** it answered 401: it does not take the token this client read */
      tokenRefused: boolean;
    };

const failed = (reason: string, more: Partial<Extract<HealthResult, { ok: false }>> = {}): HealthResult => ({
  ok: false,
  reason,
  gone: false,
  otherArea: false,
  tokenRefused: false,
  ...more,
});

/** A packet of this host whose pid is dead: its server is gone for sure. */
function diedHere(p: FoundPacket['packet'], host: string): boolean {
  return p.host === host && !isPidAlive(p.pid, null);
}

/**
 * Asks a packet's server for /health. The token is never sent: the request carries a proof of it
 * (an HMAC over a fresh nonce) and the answer must carry the server's proof, bound to the nonce and
 * the area id, so a forged packet naming some other address learns nothing it could use.
 */
export async function checkHealth(
  found: FoundPacket,
  token: string,
  expectedAreaId: string | undefined,
  host: string,
): Promise<HealthResult> {
  const p = found.packet;
  const endpoint = { address: p.address, port: p.port, token: '' };
  const nonce = newNonce();
  try {
    const answer = await requestJson(
      endpoint,
      'GET',
      '/v1/health',
      undefined,
      HEALTH_TIMEOUT_MS,
      undefined,
      proofHeader(nonce, healthRequestProof(token, nonce)),
    );
    if (answer.status === 401) return failed('it refuses the area token', { tokenRefused: true });
    if (answer.status !== 200) return failed(`health check answered ${answer.status}`);
    const health = answer.body as HealthInfo;
    if (
      typeof health?.areaId !== 'string' ||
      typeof health.proof !== 'string' ||
      !sameProof(health.proof, healthAnswerProof(token, nonce, health.areaId))
    ) {
      return failed('its answer does not prove it knows the area token', { otherArea: true });
    }
    if (health.areaId !== p.areaId || (expectedAreaId !== undefined && health.areaId !== expectedAreaId)) {
      return failed(`it serves another area (${String(health.areaId)})`, { otherArea: true });
    }
    return { ok: true, health };
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    return failed(err.message, { gone: err.refused || diedHere(p, host) });
  }
}

/**
 * The token, once it is usable. A damaged or missing token file while servers live is written back
 * by them when a request fails their check (server/token-keeper.ts): knock once on each fresh
 * packet's server, sending nothing secret, and read the file again.
 */
export async function usableToken(paths: RunAreaPaths, opts: Pick<DiscoverOptions, 'now' | 'debug'>): Promise<TokenRead> {
  const first = readToken(paths);
  if (first.kind === 'ok') return first;
  const fresh = choosePackets(readPackets(paths.metaDir, opts.debug), opts.now());
  if (fresh.length === 0) return first;
  opts.debug(
    `${paths.tokenFile} ${first.kind === 'missing' ? 'is missing' : `is damaged (${first.why})`}: asking the live servers to write theirs back`,
  );
  await Promise.all(
    fresh.map((f) =>
      requestJson(
        { address: f.packet.address, port: f.packet.port, token: '' },
        'GET',
        '/v1/health',
        undefined,
        HEALTH_TIMEOUT_MS,
        undefined,
        '',
      ).catch(() => undefined),
    ),
  );
  return readToken(paths);
}

/**
 * The best live server, or undefined; removes packets of servers that are provably gone. A live
 * server that refuses the area's valid token is an error that says so (starting another would only
 * wait for its lease).
 */
export async function findServer(
  paths: RunAreaPaths,
  opts: Pick<DiscoverOptions, 'host' | 'now' | 'debug'>,
): Promise<Connection | undefined> {
  const read = await usableToken(paths, opts);
  if (read.kind !== 'ok') return undefined;
  let token = read.token;
  const areaId = readAreaIdFile(paths);
  const all = readPackets(paths.metaDir, opts.debug);
  const now = opts.now();
  for (const found of all) {
    // Stale packets are never tried, so their server is never found gone that way: remove the
    // ones whose server provably is (this host, dead pid) so they do not pile up in .meta.
    const p = found.packet;
    if (now - found.touched > STALE_AFTER && diedHere(p, opts.host)) {
      opts.debug(`removing stale packet ${found.file} of dead server pid ${p.pid}`);
      removeFile(found.file);
    }
  }
  let refusedBy: FoundPacket | undefined;
  for (const found of choosePackets(all, now)) {
    let result = await checkHealth(found, token, areaId, opts.host);
    if (!result.ok && result.tokenRefused) {
      // The file may have changed since it was read (a repair, a rotation): read it once more.
      const again = validToken(paths);
      if (again !== undefined && again !== token) {
        token = again;
        result = await checkHealth(found, token, areaId, opts.host);
      }
    }
    if (result.ok) {
      return { endpoint: { address: found.packet.address, port: found.packet.port, token }, found, health: result.health };
    }
    opts.debug(`server ${found.packet.host}:${found.packet.pid} at ${found.packet.address}:${found.packet.port}: ${result.reason}`);
    // Only the lease holder's refusal blocks: starting another server would wait on its lease. A
    // foreign server named by a planted packet refuses this area's token too, and is passed by.
    if (result.tokenRefused && holdsLease(paths, found)) refusedBy ??= found;
    if (result.gone) {
      opts.debug(`removing its packet ${found.file}`);
      removeFile(found.file);
    }
  }
  if (refusedBy !== undefined) {
    const p = refusedBy.packet;
    throw new TrellisError(
      'UNAUTHORIZED',
      `the server pid ${p.pid} on host ${p.host} (${p.address}:${p.port}) refuses the token in ${paths.tokenFile}`,
      "it cannot follow that file (an older Trellis, or it cannot read .meta/token): stop that process on its host, then try again; `trellis doctor` shows the run area's state",
    );
  }
  return undefined;
}

function holdsLease(paths: RunAreaPaths, found: FoundPacket): boolean {
  const owner = readLeaseOwnerFile(paths.leaseOwnerFile);
  return owner !== undefined && owner.host === found.packet.host && owner.pid === found.packet.pid;
}

/** Finds a live server, starting one if none answers and `autoStart` is set. */
export async function connect(opts: DiscoverOptions): Promise<Connection> {
  const paths = runAreaPaths(opts.runArea);
  const live = await findServer(paths, opts);
  if (live) return live;
  if (!opts.autoStart) {
    throw new TrellisError('NO_SERVER', `no server is running for ${opts.runArea}`, 'start one with `trellis server start`');
  }
  makeDirs(paths.metaDir, paths.logsDir);
  checkCanStart(paths, opts.runArea);
  // The server would refuse it too, but only in its log: say it here, with its own code.
  checkMainDbFile(paths.mainDb, paths.dbDir);
  const release = await takeStartLock(paths, opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  try {
    // Another client may have started one while we waited for the lock.
    return (await findServer(paths, opts)) ?? (await startDetached(paths, opts));
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * Starting a server means writing `.meta/` (the start lock, the packet, maybe the token): say at
 * once when this user cannot, instead of retrying the lock for seconds and blaming another client.
 */
function checkCanStart(paths: RunAreaPaths, runArea: string): void {
  try {
    accessSync(paths.metaDir, constants.W_OK);
  } catch (err) {
    const token = readToken(paths);
    const damaged = token.kind === 'damaged' ? `, and its token ${paths.tokenFile} is damaged (${token.why})` : '';
    throw new TrellisError(
      'RUNAREA_UNWRITABLE',
      `no server is running for ${runArea} and this user cannot start one: ${paths.metaDir} is not writable (${(err as NodeJS.ErrnoException).code ?? String(err)})${damaged}`,
      'a server started by someone who can write the run area serves everyone: ask its owner to run any trellis command there (or `trellis doctor --repair`)',
    );
  }
}

async function takeStartLock(paths: RunAreaPaths, waitMs: number): Promise<() => Promise<void>> {
  // Loaded only when a server must be started: finding a live one needs no lock.
  const { default: lockfile } = await import('proper-lockfile');
  try {
    return await lockfile.lock(paths.startLockFile, {
      realpath: false,
      stale: 30_000,
      retries: { retries: Math.ceil(waitMs / 100), minTimeout: 50, maxTimeout: 100, factor: 1 },
      onCompromised: () => undefined,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw runAreaUnwritable(`${paths.startLockFile}.lock`, err);
    throw new TrellisError(
      'NO_SERVER',
      `cannot take the server start lock ${paths.startLockFile}.lock: ${(err as Error).message}`,
      'another client is starting a server; try again, or see `trellis server list`',
    );
  }
}

/** Starts `trellis server start --foreground` detached and waits for its packet. */
async function startDetached(paths: RunAreaPaths, opts: DiscoverOptions): Promise<Connection> {
  const startLog = path.join(paths.logsDir, `starting-${opts.host}-${process.pid}.log`);
  const args = [opts.trellisJs, 'server', 'start', '--foreground', '--invocation', opts.invocation, '--runarea', opts.runArea];
  if (opts.areaDir !== undefined) args.push('--area', opts.areaDir);
  const env = { ...opts.env, TRELLIS_DIRECT: undefined };
  const child = spawnDetached(args, { logFile: startLog, logFlags: 'a', env, cwd: paths.root });
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `killed by ${signal}` : `exit code ${code}`));
  child.once('error', (err) => (exited = err.message));
  // The server appends to the same file under its own name.
  const logFile = child.pid !== undefined ? paths.serverLog(opts.host, child.pid) : startLog;
  if (child.pid !== undefined) renameSync(startLog, logFile);
  opts.debug(`started server pid ${child.pid}; its log: ${logFile}`);

  const deadline = Date.now() + (opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  let sawPacket = false;
  while (Date.now() < deadline) {
    if (exited !== undefined) break;
    const mine = readPackets(paths.metaDir, opts.debug).find((f) => f.packet.pid === child.pid && f.packet.host === opts.host);
    if (mine) sawPacket = true;
    const token = mine ? validToken(paths) : undefined;
    if (mine && token !== undefined) {
      const result = await checkHealth(mine, token, readAreaIdFile(paths), opts.host);
      if (result.ok)
        return { endpoint: { address: mine.packet.address, port: mine.packet.port, token }, found: mine, health: result.health };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const token = readToken(paths);
  const waited = `within ${Math.round((opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS) / 1000)} s`;
  const why =
    exited ??
    (token.kind !== 'ok'
      ? `its token ${paths.tokenFile} ${token.kind === 'missing' ? 'is missing' : `is damaged: ${token.why}`}`
      : sawPacket
        ? `its packet was written but its health check did not answer ${waited}`
        : `no packet ${waited}`);
  const last = readLastLine(logFile);
  throw new TrellisError(
    'SERVER_START',
    `the server for ${opts.runArea} did not come up (${why})${last ? `: ${last}` : ''}`,
    `see its log ${logFile}, or run \`trellis server start --foreground\` to watch it`,
  );
}
