/** `trellis server start|list|stop|ping`: the run area's servers (design §5). */
import path from 'node:path';
import { checkHealth, connect, findServer, usableToken } from '../../client/discovery.js';
import { requestJson, TransportError } from '../../client/http.js';
import { DEFAULT_SERVER_CONFIG } from '../../config/area.js';
import { runAreaPaths, type RunAreaPaths } from '../../config/paths.js';
import type { ServerConfig } from '../../config/types.js';
import { formatSeconds } from '../../report/summary.js';
import type { ServerRow } from '../../report/records-json.js';
import { formatTable, isoTime } from '../../report/table.js';
import { readLeaseOwner } from '../../server/lease.js';
import { readPackets } from '../../client/packets.js';
import { readAreaIdFile, validToken } from '../../config/meta-files.js';
import { STALE_AFTER, type FoundPacket } from '../../model/protocol.js';
import { removeFile } from '../../util/files.js';
import { isPidAlive } from '../../util/process-info.js';
import { TrellisError } from '../../util/errors.js';
import { shortHostname } from '../../util/host.js';
import { openArea } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { ServerOptions } from '../specs/area.js';
import { termJson, termLine } from '../../util/terminal-text.js';

/** Only a foreground server stops on Ctrl-C by itself (cleanly); the others just exit. */
export const handlesSignals = (opts: ServerOptions) => opts.action === 'start' && opts.foreground;

interface Where {
  runArea: string;
  areaDir: string | undefined;
  config: ServerConfig;
}

/** The run area and its [server] settings; --runarea alone will do when no area is found. */
function locate(opts: ServerOptions, ctx: CommandContext): Where {
  try {
    const area = openArea(opts, ctx);
    return { runArea: area.runArea, areaDir: area.dir, config: area.server };
  } catch (err) {
    if (!(err instanceof TrellisError && err.code === 'NO_AREA' && opts.runarea !== undefined)) throw err;
    const runArea = path.resolve(ctx.cwd, opts.runarea);
    return { runArea, areaDir: undefined, config: DEFAULT_SERVER_CONFIG };
  }
}

export async function execute(opts: ServerOptions, ctx: CommandContext): Promise<number> {
  const where = locate(opts, ctx);
  switch (opts.action) {
    case 'start':
      return opts.foreground ? serveForeground(where, opts, ctx) : startInBackground(where, opts, ctx);
    case 'list':
      return list(where, opts, ctx);
    case 'stop':
      return stop(where, opts, ctx);
    default:
      return ping(where, ctx);
  }
}

const discoveryBase = (ctx: CommandContext) => ({ host: shortHostname(), now: ctx.now, debug: (m: string) => ctx.log.debug(m) });
const describe = (f: FoundPacket) =>
  termLine(`server pid ${f.packet.pid} on host ${f.packet.host} at ${f.packet.address}:${f.packet.port}`);

async function serveForeground(where: Where, opts: ServerOptions, ctx: CommandContext): Promise<number> {
  // Loaded here: fastify and pino cost `server ping`, `list` and `stop` a third of their start.
  const { LEASE_LOST, startServer } = await import('../../server/server.js');
  const server = await startServer({
    runArea: where.runArea,
    invocation: opts.invocation,
    config: where.config,
    host: shortHostname(),
    now: ctx.now,
    leaseWaitMs: 15_000,
    ...(where.areaDir === undefined ? {} : { areaDir: where.areaDir }),
  });
  const p = server.packet;
  ctx.stdout.write(`serving ${where.runArea} at ${p.address}:${p.port} (pid ${p.pid}, log ${server.logFile})\n`);
  const onSignal = () => void server.stop('interrupted');
  ctx.signal.addEventListener('abort', onSignal, { once: true });
  const reason = await server.stopped;
  ctx.signal.removeEventListener('abort', onSignal);
  ctx.stdout.write(`server stopped: ${reason}\n`);
  if (reason === LEASE_LOST) {
    throw new TrellisError('SERVER_ERROR', `the server for ${where.runArea} lost its write lease and stopped`, `see ${server.logFile}`);
  }
  return 0;
}

async function startInBackground(where: Where, opts: ServerOptions, ctx: CommandContext): Promise<number> {
  const paths = runAreaPaths(where.runArea);
  const live = await findServer(paths, discoveryBase(ctx));
  if (live) {
    ctx.stdout.write(`already running: ${describe(live.found)} (invocation ${live.found.packet.invocation})\n`);
    return 0;
  }
  const conn = await connect({
    ...discoveryBase(ctx),
    runArea: where.runArea,
    areaDir: where.areaDir,
    invocation: opts.invocation,
    autoStart: true,
    env: ctx.env,
    trellisJs: path.join(ctx.binDir, 'trellis.js'),
  });
  ctx.stdout.write(`started ${describe(conn.found)} (log ${paths.serverLog(conn.found.packet.host, conn.found.packet.pid)})\n`);
  return 0;
}

async function list(where: Where, opts: ServerOptions, ctx: CommandContext): Promise<number> {
  const paths = runAreaPaths(where.runArea);
  const rows = (await surveyServers(paths, ctx)).map((s) => s.row);
  if (opts.json) {
    ctx.stdout.write(`${termJson(rows)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    ctx.stdout.write(`No servers for ${where.runArea}; any trellis command starts one, or: trellis server start\n`);
    return 0;
  }
  const table = rows.map((r) => [
    r.host,
    `${r.address}:${r.port}`,
    String(r.pid),
    r.invocation,
    formatSeconds(Math.max(0, r.uptime)),
    `${Math.round(r.heartbeatAge)}s`,
    r.status,
    r.lease ? 'yes' : '',
  ]);
  ctx.stdout.write(`${formatTable(['HOST', 'ADDRESS', 'PID', 'INVOCATION', 'UPTIME', 'HEARTBEAT', 'STATUS', 'LEASE'], table)}\n`);
  return 0;
}

/** Every packet, with what a health check says of its server. */
async function surveyServers(paths: RunAreaPaths, ctx: CommandContext): Promise<Array<{ found: FoundPacket; row: ServerRow }>> {
  const read = await usableToken(paths, discoveryBase(ctx));
  if (read.kind === 'damaged')
    ctx.log.warn(`${paths.tokenFile} is damaged (${read.why}) and no live server wrote its own back; see \`trellis doctor\``);
  const token = read.kind === 'ok' ? read.token : undefined;
  const areaId = readAreaIdFile(paths);
  const owner = readLeaseOwner(paths);
  const now = ctx.now();
  const found = readPackets(paths.metaDir, (m) => ctx.log.debug(m)).sort((a, b) => a.packet.started - b.packet.started);
  return Promise.all(
    found.map(async (f) => {
      const health = token === undefined ? undefined : await checkHealth(f, token, areaId, shortHostname());
      const age = now - f.touched;
      let status: ServerRow['status'];
      if (health?.ok) status = 'live';
      else if (health?.otherArea) status = 'other-area';
      else if (health?.tokenRefused) status = 'refuses-token';
      else status = age > STALE_AFTER ? 'stale' : 'unreachable';
      const p = f.packet;
      const row: ServerRow = {
        host: p.host,
        address: p.address,
        port: p.port,
        pid: p.pid,
        invocation: p.invocation,
        started: isoTime(p.started),
        uptime: now - p.started,
        heartbeatAge: age,
        status,
        lease: owner !== undefined && owner.host === p.host && owner.pid === p.pid,
        packet: f.file,
      };
      return { found: f, row };
    }),
  );
}

async function stop(where: Where, opts: ServerOptions, ctx: CommandContext): Promise<number> {
  const paths = runAreaPaths(where.runArea);
  let targets: FoundPacket[];
  if (opts.all) {
    targets = (await surveyServers(paths, ctx)).filter((s) => s.row.status === 'live').map((s) => s.found);
  } else {
    const live = await findServer(paths, discoveryBase(ctx));
    targets = live ? [live.found] : [];
  }
  const token = validToken(paths);
  if (targets.length === 0 || token === undefined) {
    ctx.stdout.write(`No server is running for ${where.runArea}\n`);
    return 0;
  }
  for (const f of targets) {
    try {
      const answer = await requestJson({ address: f.packet.address, port: f.packet.port, token }, 'POST', '/v1/shutdown', {}, 5000);
      if (answer.status !== 200)
        throw new TrellisError('SERVER_ERROR', `${describe(f)} refused to stop (${answer.status})`, 'see `trellis server list`');
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      ctx.log.debug(`${describe(f)}: ${err.message}; taking it for stopped`);
      if (err.refused) removeFile(f.file);
    }
    await waitGone(f, paths, ctx);
    ctx.stdout.write(`stopped ${describe(f)}\n`);
  }
  return 0;
}

/**
 * Waits (up to 10 s) for a stopping server to be gone: its packet removed, then its write lease
 * released (it has closed its databases by then) and, on this host, its process ended. "stopped"
 * means the run area's files are at rest, for whoever moves or repairs them next.
 */
async function waitGone(f: FoundPacket, paths: RunAreaPaths, ctx: CommandContext): Promise<void> {
  const dir = path.dirname(f.file);
  const { host, pid } = f.packet;
  const gone = () => {
    if (readPackets(dir, () => undefined).some((g) => g.file === f.file)) return false;
    const owner = readLeaseOwner(paths);
    if (owner !== undefined && owner.host === host && owner.pid === pid) return false;
    return host !== shortHostname() || !isPidAlive(pid, null);
  };
  for (let i = 0; i < 400; i++) {
    if (gone()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  ctx.log.warn(`${describe(f)} was asked to stop but has not ended yet`);
}

async function ping(where: Where, ctx: CommandContext): Promise<number> {
  const paths = runAreaPaths(where.runArea);
  const t0 = performance.now();
  const live = await findServer(paths, discoveryBase(ctx));
  if (!live) throw new TrellisError('NO_SERVER', `no server is running for ${where.runArea}`, 'start one with `trellis server start`');
  const ms = performance.now() - t0;
  ctx.stdout.write(
    `${describe(live.found)} (invocation ${live.found.packet.invocation}, up ${formatSeconds(live.health.uptime)}) answered; discovery and health check took ${ms.toFixed(1)} ms\n`,
  );
  return 0;
}
