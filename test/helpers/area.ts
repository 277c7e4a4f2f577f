/**
 * Builds small test areas in a temp folder: `makeArea(t, { tests: { a: '[ezsteps]\nx true' } })`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { stopServersUnder } from './servers.js';

export interface AreaSpec {
  /** trellis.config text; default: fields OS ARCH, max_concurrent_jobs 4 */
  config?: string;
  /** runconfigs.config text; default: [default] + [linux/x86_64] */
  runconfigs?: string;
  /** test name → testconfig text */
  tests: Record<string, string>;
  /** extra files: relative path → text (made executable when they start with #!) */
  files?: Record<string, string>;
}

export const DEFAULT_CONFIG = '[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs 4\n';
/**
 * Appended to every test area's config that has no [server] section: test servers listen on the
 * loopback interface only, so no test traffic goes to any other address.
 */
export const TEST_SERVER_CONFIG = '\n[server]\nbind 127.0.0.1\n';
export const DEFAULT_RUNCONFIGS = '[default]\nGREETING hello\n\n[linux/x86_64]\nCPU x86\n';

/** Writes the area into `dir` and returns it. */
export function writeArea(dir: string, spec: AreaSpec): string {
  const write = (rel: string, text: string) => {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { mode: text.startsWith('#!') ? 0o755 : 0o644 });
  };
  const config = spec.config ?? DEFAULT_CONFIG;
  write('trellis.config', /^\[server\]/m.test(config) ? config : config + TEST_SERVER_CONFIG);
  write('runconfigs.config', spec.runconfigs ?? DEFAULT_RUNCONFIGS);
  for (const [name, text] of Object.entries(spec.tests)) write(`tests/${name}/testconfig`, text);
  for (const [rel, text] of Object.entries(spec.files ?? {})) write(rel, text);
  return dir;
}

interface TestDirMaker {
  testdir(): string;
  teardown(fn: () => void | Promise<void>): void;
}

/** What must end before an area's servers are stopped, by area folder (clients that start servers). */
const clientsOf = new Map<string, Array<() => void | Promise<void>>>();

/**
 * Ends `close` with the area's own teardown, before its servers are stopped: a client that finds
 * its server gone starts another (autoStart), which would write into the folder tap is removing.
 */
export function closeBeforeServersStop(dir: string, close: () => void | Promise<void>): void {
  const list = clientsOf.get(path.resolve(dir));
  if (list) list.push(close);
}

/** A fresh area in the test's own temp folder (removed by tap afterwards, its servers stopped). */
export function makeArea(t: TestDirMaker, spec: AreaSpec): string {
  // Registered before t.testdir(): tap removes the folder before running the teardowns registered
  // after it was made, and the servers are found by the packets in it.
  let dir: string | undefined;
  t.teardown(async () => {
    if (dir === undefined) return;
    const clients = clientsOf.get(path.resolve(dir)) ?? [];
    clientsOf.delete(path.resolve(dir));
    for (const close of clients) await close();
    await stopServersUnder(dir);
  });
  dir = writeArea(t.testdir(), spec);
  clientsOf.set(path.resolve(dir), []);
  return dir;
}
