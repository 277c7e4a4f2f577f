/**
 * Finding the run area's server (design §5): read the packets, try them best first with a health
 * check that must name this area, remove those whose server is provably gone, and when none
 * answers start one — under the start lock, so racing clients end up with one server.
 */
import { renameSync } from 'node:fs';
import path from 'node:path';
import { runAreaPaths, type RunAreaPaths } from '../config/paths.js';
import { choosePackets, STALE_AFTER, type FoundPacket, type HealthInfo, type Invocation } from '../model/protocol.js';
import { makeDirs, removeFile } from '../util/files.js';
import { readAreaIdFile, readToken } from '../config/meta-files.js';
import { readPackets } from './packets.js';
import { TrellisError } from '../util/errors.js';
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
export type HealthResult = { ok: true; health: HealthInfo } | { ok: false; reason: string; gone: boolean; otherArea: boolean };

/** A packet of this host whose pid is dead: its server is gone for sure. */
function diedHere(p: FoundPacket['packet'], host: string): boolean {
  return p.host === host && !isPidAlive(p.pid, null);
}

/** Asks a packet's server for /health; `gone` when its server provably no longer exists. */
export async function checkHealth(
  found: FoundPacket,
  token: string,
  expectedAreaId: string | undefined,
  host: string,
): Promise<HealthResult> {
  const p = found.packet;
  const endpoint = { address: p.address, port: p.port, token };
  try {
    const answer = await requestJson(endpoint, 'GET', '/v1/health', undefined, HEALTH_TIMEOUT_MS);
    if (answer.status !== 200) return { ok: false, reason: `health check answered ${answer.status}`, gone: false, otherArea: false };
    const health = answer.body as HealthInfo;
    if (health?.areaId !== p.areaId || (expectedAreaId !== undefined && health.areaId !== expectedAreaId)) {
      return { ok: false, reason: `it serves another area (${String(health?.areaId)})`, gone: false, otherArea: true };
    }
    return { ok: true, health };
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    return { ok: false, reason: err.message, gone: err.refused || diedHere(p, host), otherArea: false };
  }
}

/** The best live server, or undefined; removes packets of servers that are provably gone. */
export async function findServer(
  paths: RunAreaPaths,
  opts: Pick<DiscoverOptions, 'host' | 'now' | 'debug'>,
): Promise<Connection | undefined> {
  const token = readToken(paths);
  if (token === undefined) return undefined;
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
  for (const found of choosePackets(all, now)) {
    const result = await checkHealth(found, token, areaId, opts.host);
    if (result.ok) {
      return { endpoint: { address: found.packet.address, port: found.packet.port, token }, found, health: result.health };
    }
    opts.debug(`server ${found.packet.host}:${found.packet.pid} at ${found.packet.address}:${found.packet.port}: ${result.reason}`);
    if (result.gone) {
      opts.debug(`removing its packet ${found.file}`);
      removeFile(found.file);
    }
  }
  return undefined;
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
  const release = await takeStartLock(paths, opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  try {
    // Another client may have started one while we waited for the lock.
    return (await findServer(paths, opts)) ?? (await startDetached(paths, opts));
  } finally {
    await release().catch(() => undefined);
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
  while (Date.now() < deadline) {
    if (exited !== undefined) break;
    const mine = readPackets(paths.metaDir, opts.debug).find((f) => f.packet.pid === child.pid && f.packet.host === opts.host);
    const token = readToken(paths);
    if (mine && token !== undefined) {
      const result = await checkHealth(mine, token, readAreaIdFile(paths), opts.host);
      if (result.ok)
        return { endpoint: { address: mine.packet.address, port: mine.packet.port, token }, found: mine, health: result.health };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const why = exited ?? `no packet within ${Math.round((opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS) / 1000)} s`;
  const last = readLastLine(logFile);
  throw new TrellisError(
    'SERVER_START',
    `the server for ${opts.runArea} did not come up (${why})${last ? `: ${last}` : ''}`,
    `see its log ${logFile}, or run \`trellis server start --foreground\` to watch it`,
  );
}
