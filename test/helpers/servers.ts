/**
 * Servers the CLI starts in a test's run areas outlive the command that started them (they are
 * detached, by design). A test stops them at teardown: every packet under its folder names one.
 */
import fs from 'node:fs';
import path from 'node:path';

interface Teardownable {
  teardown(fn: () => void | Promise<void>): void;
}

/** Packets (`.meta/*.pkt`) under `dir`, a few levels deep. */
export function findPacketFiles(dir: string, depth = 4): string[] {
  const out: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!e.isDirectory() || e.name === 'node_modules') continue;
    const sub = path.join(dir, e.name);
    if (e.name === '.meta') {
      for (const f of fs.readdirSync(sub)) if (f.endsWith('.pkt')) out.push(path.join(sub, f));
    } else if (depth > 0) out.push(...findPacketFiles(sub, depth - 1));
  }
  return out;
}

/** Pids of the servers whose packets lie under `dir`. */
export function serverPids(dir: string): number[] {
  const pids = new Set<number>();
  for (const file of findPacketFiles(dir)) {
    try {
      // Tests plant FIFOs, folders and symlinks named like packets: read regular files only.
      const st = fs.lstatSync(file);
      if (!st.isFile() || st.size > 4096) continue;
      const pid = (JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: unknown }).pid;
      if (typeof pid === 'number') pids.add(pid);
    } catch {
      // not a packet we wrote
    }
  }
  return [...pids];
}

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The command line of `pid` when it is a `trellis server start` process, else undefined. */
function serverArgs(pid: number): string[] | undefined {
  if (pid === process.pid || pid === process.ppid) return undefined;
  try {
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.some((a) => a.endsWith('trellis.js')) && args.includes('server') && args.includes('start') ? args : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` is a `trellis server start` process. Tests plant packets naming other pids (their
 * own, say): only real servers may be signalled.
 */
export function isTrellisServer(pid: number): boolean {
  return serverArgs(pid) !== undefined;
}

/**
 * Pids of the `trellis server start` processes serving a run area under `dir` by their command line:
 * with those that have not written a packet yet (a client started one just before it was ended).
 */
export function serverProcessesUnder(dir: string): number[] {
  const root = path.resolve(dir);
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  return entries
    .filter((name) => {
      if (!/^\d+$/.test(name)) return false;
      const args = serverArgs(Number(name));
      const at = args?.indexOf('--runarea') ?? -1;
      const runArea = at === -1 ? undefined : args?.[at + 1];
      return runArea !== undefined && (path.resolve(runArea) + path.sep).startsWith(root + path.sep);
    })
    .map(Number);
}

/** SIGTERMs every server under `dir` (and the `known` pids) and waits for each to exit (SIGKILL after 10 s). */
export async function stopServersUnder(dir: string, known: Iterable<number> = []): Promise<void> {
  const pids = [...new Set([...serverPids(dir), ...known, ...serverProcessesUnder(dir)])].filter(isTrellisServer);
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (pids.some(isPidAlive)) {
    if (Date.now() > deadline) {
      for (const pid of pids.filter(isPidAlive)) process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Stops the servers under `dir` when the test ends. tap may remove the folder before this
 * teardown runs, so the servers seen after each command (`note()`) are remembered by pid too.
 */
export function stopServersOnTeardown(t: Teardownable, dir: string): { note(): void } {
  const seen = new Set<number>();
  t.teardown(() => stopServersUnder(dir, seen));
  return {
    note() {
      for (const pid of serverPids(dir)) seen.add(pid);
    },
  };
}
