/**
 * A running server (design §5): takes the write lease, opens the direct store, listens, writes
 * its packet and touches it every 10 s; stops when idle for `[server] idle_timeout`, on request,
 * on a signal, or when it loses the lease — removing its packet first so no client picks it.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import { runAreaPaths } from '../config/paths.js';
import { AccessPolicySource } from '../config/access-policy.js';
import { IdentityGate } from './identity-gate.js';
import type { ServerConfig } from '../config/types.js';
import { openDirectStore } from '../store/direct-store.js';
import type { Store } from '../store/store.js';
import { TrellisError } from '../util/errors.js';
import { trellisVersion } from '../util/version.js';
import { buildServerApp } from './app.js';
import { acquireLease, type Lease } from './lease.js';
import { encodePacket, TOUCH_INTERVAL, type Invocation, type Packet } from '../model/protocol.js';
import { removeFile } from '../util/files.js';
import { ensureAreaIdFile, ensureMetaDir, followAreaDir, keepAreaIdFile, touchPacket, writePacket } from './meta.js';
import { openServerLog } from './server-log.js';
import { TokenKeeper } from './token-keeper.js';

/** The reason a server gives when it stopped because another took its lease. */
export const LEASE_LOST = 'lost the write lease';

export interface ServerOptions {
  runArea: string;
  invocation: Invocation;
  config: ServerConfig;
  host: string;
  now: () => number;
  /** how long to wait for another server's lease (ms) */
  leaseWaitMs: number;
  /**
   * The test area, whose [setup] says who may do what (config/access-policy.ts); a server started
   * with --runarea alone takes the one recorded in `.meta/area-dir` by a server that knew it
   */
  areaDir?: string;
}

export interface RunningServer {
  packet: Packet;
  packetFile: string;
  logFile: string;
  /** resolves with the reason once the server has stopped and let go of everything */
  stopped: Promise<string>;
  stop(reason: string): Promise<string>;
}

/** Starts a server for the run area; resolves once it listens and its packet is written. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const paths = runAreaPaths(opts.runArea);
  ensureMetaDir(paths);
  const logFile = paths.serverLog(opts.host, process.pid);
  const serverLog = openServerLog(logFile, {
    level: opts.config.logLevel,
    maxBytes: opts.config.logMaxBytes,
    files: opts.config.logFiles,
    host: opts.host,
    now: opts.now,
  });
  const log = serverLog.logger;
  let stopping: Promise<string> | undefined;
  let stopNow: (reason: string) => Promise<string> = async (reason) => reason;

  let lease: Lease | undefined;
  let store: Store | undefined;
  let app: FastifyInstance | undefined;
  try {
    lease = await acquireLease(paths, {
      host: opts.host,
      waitMs: opts.leaseWaitMs,
      now: opts.now,
      onCompromised: (err) => {
        log.error({ err }, `lost the write lease (${err.message}): stopping`);
        void stopNow(LEASE_LOST);
      },
    });
    // The lease holder creates the token, or replaces a damaged one, and follows the file after.
    const token = TokenKeeper.open(paths.tokenFile, (line) => log.warn(line));
    const access = new AccessPolicySource(followAreaDir(paths, opts.areaDir, (line) => log.warn(line)));
    store = openDirectStore(opts.runArea, { host: opts.host, now: opts.now, access });
    const areaId = await store.areaId();
    ensureAreaIdFile(paths, areaId);
    const identity = new IdentityGate({ metaDir: paths.metaDir, areaId: () => areaId });

    const started = opts.now();
    let lastCall = started;
    // A dashboard waiting on the feed is using the server, though it sends nothing meanwhile.
    let feedWaiters = 0;
    const info = { host: opts.host, pid: process.pid, invocation: opts.invocation, started, version: trellisVersion(), areaId };
    app = buildServerApp({
      store,
      token,
      health: () => ({ ...info, uptime: opts.now() - started }),
      onCall: () => (lastCall = opts.now()),
      onFeedWaiters: (count) => {
        feedWaiters = count;
        lastCall = opts.now();
      },
      onShutdown: () => void stopNow('asked to stop'),
      logger: log,
      identity,
      access,
    });
    const port = await listen(app, opts.config);
    const address = await advertisedAddress(opts.config);
    const packet: Packet = { ...info, address, port };
    const packetFile = writePacket(paths.metaDir, packet);
    const packetText = encodePacket(packet).text;
    log.info(
      {
        runArea: opts.runArea,
        address,
        port,
        bind: opts.config.bind ?? 'all interfaces',
        invocation: opts.invocation,
        version: info.version,
      },
      `serving ${opts.runArea} at ${address}:${port} (listening on ${opts.config.bind ?? 'all interfaces'}), pid ${process.pid}, invocation ${opts.invocation}`,
    );

    const timers = [
      setInterval(() => {
        token.refresh();
        try {
          const wrong = keepAreaIdFile(paths, areaId);
          if (wrong !== undefined) log.warn(`${paths.areaIdFile} was damaged (${wrong}): wrote ${areaId} back`);
        } catch (err) {
          log.error({ err }, `cannot write ${paths.areaIdFile}: ${(err as Error).message}`);
        }
        if (touchPacket(packetFile, opts.now(), packetText)) return;
        try {
          // Someone took the packet for dead and removed it, or garbled it: put it back.
          writePacket(paths.metaDir, packet);
        } catch (err) {
          // The run area is gone or read-only: no client can find this server any more.
          void stopNow(`cannot write its packet (${(err as Error).message})`);
        }
      }, TOUCH_INTERVAL * 1000),
      setInterval(
        () => {
          if (feedWaiters > 0) lastCall = opts.now();
          else if (opts.now() - lastCall >= opts.config.idleTimeout) void stopNow(`idle for ${opts.config.idleTimeout} s`);
        },
        Math.min(1000, opts.config.idleTimeout * 250),
      ),
    ];
    let resolveStopped: (reason: string) => void = () => undefined;
    const stopped = new Promise<string>((r) => (resolveStopped = r));
    const running = { app, store, lease };
    stopNow = (reason) => {
      stopping ??= (async () => {
        for (const t of timers) clearInterval(t);
        removeFile(packetFile);
        log.info({ reason }, `stopping: ${reason}`);
        await running.app.close().catch((e: Error) => log.error({ err: e }, `closing: ${e.message}`));
        await running.store.close().catch((e: Error) => log.error({ err: e }, `closing the store: ${e.message}`));
        await running.lease.release();
        log.info('stopped');
        await serverLog.close();
        resolveStopped(reason);
        return reason;
      })();
      return stopping;
    };
    return { packet, packetFile, logFile, stopped, stop: (reason) => stopNow(reason) };
  } catch (err) {
    log.error({ err }, `failed to start: ${err instanceof TrellisError ? err.toLine() : String((err as Error).stack ?? err)}`);
    await app?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    await lease?.release();
    await serverLog.close();
    throw err;
  }
}

/** Listens on a free port: the first free one of `[server] port_range`, else any. */
async function listen(app: FastifyInstance, config: ServerConfig): Promise<number> {
  const host = config.bind ?? '0.0.0.0';
  const ports = config.portRange ? range(config.portRange[0], config.portRange[1]) : [0];
  for (const port of ports) {
    try {
      await app.listen({ host, port });
      const addr = app.server.address();
      if (addr && typeof addr === 'object') return addr.port;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      throw new TrellisError(
        'SERVER_START',
        `cannot listen on ${host}:${port}: ${(err as Error).message}`,
        'check [server] bind and port_range',
      );
    }
  }
  throw new TrellisError(
    'SERVER_START',
    `no free port in [server] port_range ${config.portRange?.join('-')}`,
    'widen the range, or remove port_range to use any free port',
  );
}

function range(lo: number, hi: number): number[] {
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

/**
 * The address other hosts should use: `[server] advertise` (an address, or a name resolved here),
 * else the bind address when it is a specific one, else this host's first non-loopback IPv4.
 */
export async function advertisedAddress(config: ServerConfig): Promise<string> {
  if (config.advertise !== undefined) {
    if (isIP(config.advertise)) return config.advertise;
    try {
      return (await lookup(config.advertise, { family: 4 })).address;
    } catch (err) {
      throw new TrellisError(
        'SERVER_START',
        `[server] advertise ${config.advertise}: cannot resolve it (${(err as Error).message})`,
        'give an IP address or a name this host resolves',
      );
    }
  }
  if (config.bind !== undefined && config.bind !== '0.0.0.0' && config.bind !== '::') return config.bind;
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
