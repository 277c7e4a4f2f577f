/**
 * A direct store in the test's own temp folder with a hand-driven clock:
 * `const { store, clock } = makeStore(t); clock.now = 2000;`.
 */
import type { TestRecord, TestRegistration, WriteOp } from '../../src/model/records.js';
import { openDirectStore, type DirectStore, type DirectStoreOptions } from '../../src/store/direct-store.js';
import type { RunSpec } from '../../src/store/store.js';

interface TestContext {
  testdir(): string;
  teardown(fn: () => unknown): void;
}

export interface StoreFixture {
  dir: string;
  store: DirectStore;
  clock: { now: number };
}

export const HOST = 'here';
export const NIGHTLY: RunSpec = { target: 'linux/x86_64', keys: { OS: 'linux', ARCH: 'x86_64' }, runname: 'nightly' };

/** Opens a store on a fresh run area (or `dir`), closed when the test ends. */
export function makeStore(t: TestContext, opts: Partial<DirectStoreOptions> & { dir?: string } = {}): StoreFixture {
  const dir = opts.dir ?? t.testdir();
  const clock = { now: 1000 };
  const store = openDirectStore(dir, { host: HOST, now: () => clock.now, ...opts });
  t.teardown(() => store.close());
  return { dir, store, clock };
}

/** Registrations for `names`, where `a/x` is item `x` of test `a`. */
export function regsFor(...names: string[]): TestRegistration[] {
  return names.map((n) => {
    const [testname = n, itempath = ''] = n.split(/\/(.*)/s);
    return { testname, itempath, priority: 0, rundir: `/work/${n}` };
  });
}

/** Finds a row by `test` or `test/item` name. */
export function rowOf(rows: readonly TestRecord[], name: string): TestRecord {
  const [testname = name, itempath = ''] = name.split(/\/(.*)/s);
  const row = rows.find((r) => r.testname === testname && r.itempath === itempath);
  if (row === undefined) throw new Error(`no row ${name}`);
  return row;
}

let opCounter = 0;
/** A unique op id. */
export function nextOpId(): string {
  opCounter += 1;
  return `op-${opCounter}`;
}

/** A `test` op setting state and status (and optional other fields). */
export function setOp(testId: number, state: string, status: string, time: number, extra: object = {}): WriteOp {
  return { kind: 'test', opId: nextOpId(), testId, set: { state: state as never, status, ...extra }, time };
}
