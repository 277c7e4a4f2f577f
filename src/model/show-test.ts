/**
 * What `trellis show` needs, as one store call (Store.showTest): through a server that is one
 * round trip where finding the run, reaping it and the three questions about the test were three
 * (each about 4 ms of a command that takes 1.5 `node -e 0`). Made of the store's own calls, so the
 * direct store and a client of a server that predates showTest give the same answer.
 */
import type { RunRecord, TestDetail, TestQuery, TestRecord } from './records.js';
import type { ResourceClaim } from './resources.js';

/** When an agent counts as dead (the store's LivenessOptions). */
interface Liveness {
  now: number;
  deadtime: number;
}

/** The store calls showTestBy makes (every Store has them; model does not know the store). */
export interface ShowSource {
  findRun(target: string, runname: string): Promise<RunRecord | undefined>;
  getRun(runId: number): Promise<RunRecord | undefined>;
  reapDead(runId: number, liveness: Liveness): Promise<TestRecord[]>;
  getTest(runId: number, testname: string, itempath: string): Promise<TestDetail | undefined>;
  listResourceClaims(liveness: Liveness): Promise<ResourceClaim[]>;
  listTests(runId: number, query?: TestQuery): Promise<TestRecord[]>;
}

/** Which test `showTest` is about. */
export interface ShowQuery {
  target: string;
  runname: string;
  testname: string;
  /** '' for the test itself */
  itempath: string;
  /** also the test's items (`trellis show TEST` lists them) */
  items: boolean;
}

/** showTest's answer. */
export interface TestShow {
  /** the run, as it is after reaping */
  run: RunRecord;
  /** tests of the run marked INCOMPLETE/DEAD now because their runner is gone */
  reaped: TestRecord[];
  /** the test or item with its steps, data and rules; undefined when the run has none such */
  test: TestDetail | undefined;
  /** every resource claim (claims of dead holders freed first) */
  claims: ResourceClaim[];
  /** the test's items when asked for (`items`), else none */
  items: TestRecord[];
}

/** showTest made of the store's calls; undefined when there is no such run. */
export async function showTestBy(store: ShowSource, query: ShowQuery, liveness: Liveness): Promise<TestShow | undefined> {
  const found = await store.findRun(query.target, query.runname);
  if (found === undefined) return undefined;
  const reaped = await store.reapDead(found.id, liveness);
  // Reaping changes the run's state only when it reaped a test or the run was running (its
  // runner may be the one found dead): asked again only then.
  const run = reaped.length > 0 || found.state === 'running' ? ((await store.getRun(found.id)) ?? found) : found;
  const [test, claims, items] = await Promise.all([
    store.getTest(run.id, query.testname, query.itempath),
    store.listResourceClaims(liveness),
    query.items ? store.listTests(run.id, { pattern: `${query.testname}/%` }) : Promise.resolve([]),
  ]);
  return { run, reaped, test, claims, items: items.filter((t) => t.testname === query.testname && t.itempath !== '') };
}
