/**
 * Shared resources (design §6b): `[resources] NAME COUNT` in the area config, `[requirements]
 * resources NAME[,NAME]` in a testconfig. A test takes one share of each resource it names, all
 * at once or none, before it takes a job slot; the claims live in main.db, so they hold across
 * runs, runners and hosts. These are the records that cross the store interface, and the rules
 * for names.
 */
import { displayName } from './display-name.js';
import { wordNameProblem } from './names.js';

/** Longest resource name. */
export const MAX_RESOURCE_NAME = 64;

/** Why `name` cannot name a resource, or undefined when it can. */
export function resourceNameProblem(name: string): string | undefined {
  return wordNameProblem(name, MAX_RESOURCE_NAME);
}

/** One resource a test asks for, with the count its area declares. */
export interface ResourceWant {
  name: string;
  /** shares the area declares (`[resources] NAME COUNT`) */
  count: number;
}

/** Who holds or waits for a share: a test of a run, through its runner. */
export interface ResourceHolder {
  runId: number;
  testId: number;
  target: string;
  runname: string;
  testname: string;
  itempath: string;
  /** the runner's agent id in the run's database: its heartbeat renews the claim */
  agentId: number;
  host: string;
  pid: number;
  procStart: number | null;
}

/** What `Store.claimResources` is asked: every resource of one test, taken together or not at all. */
export interface ResourceRequest {
  holder: ResourceHolder;
  wants: ResourceWant[];
}

/** One row of main.db's claims: a share held, or a test waiting for one. */
export interface ResourceClaim extends ResourceHolder {
  resource: string;
  /** the count the claimant's area declares */
  count: number;
  state: 'held' | 'waiting';
  /** when it took the share (held) or began to wait (waiting) */
  since: number;
  /** last renewal (the runner's heartbeat) */
  renewed: number;
}

/** The answer to a claim: granted, or what stands in the way. */
export interface ResourceAnswer {
  granted: boolean;
  /** when refused: the live claims holding the resources that have no share left */
  blockers: ResourceClaim[];
  /**
   * main.db's change numbers read with the answer: a change feed cursor from them wakes the
   * claimant on the next change of the claims, and cannot miss one made after this answer
   */
  runsSeq: number;
  resourcesSeq: number;
}

/** What `Store.releaseResources` gives back: one test's claims, or every claim of a runner. */
export interface ResourceRelease {
  runId: number;
  agentId: number;
  /** one test's claims (held and waiting); absent: every claim of the runner */
  testId?: number;
}

/** `test` or `test/item` of `target/runname`, for messages about a claim. */
export function describeClaimant(c: Pick<ResourceHolder, 'target' | 'runname' | 'testname' | 'itempath'>): string {
  return `${displayName(c)} of run ${c.target}/${c.runname}`;
}

/** One holder or waiter as `trellis resources` shows it. */
export interface ClaimView {
  target: string;
  runname: string;
  testname: string;
  itempath: string;
  host: string;
  pid: number;
  since: number;
}

/** One resource as it stands: its shares, who holds them, who waits. */
export interface ResourceStatus {
  name: string;
  /** shares: as this area declares it, else as its claimants' areas did */
  count: number;
  /** false for a resource only another area (sharing the run area) declares */
  declared: boolean;
  holders: ClaimView[];
  waiters: ClaimView[];
}

/** Every declared resource (in declaration order), then any other one claims name, with their claims. */
export function summarizeResources(declared: ReadonlyMap<string, number>, claims: readonly ResourceClaim[]): ResourceStatus[] {
  const out = new Map<string, ResourceStatus>();
  for (const [name, count] of declared) out.set(name, { name, count, declared: true, holders: [], waiters: [] });
  for (const c of claims) {
    let status = out.get(c.resource);
    if (status === undefined) {
      status = { name: c.resource, count: c.count, declared: false, holders: [], waiters: [] };
      out.set(c.resource, status);
    }
    const view: ClaimView = {
      target: c.target,
      runname: c.runname,
      testname: c.testname,
      itempath: c.itempath,
      host: c.host,
      pid: c.pid,
      since: c.since,
    };
    (c.state === 'held' ? status.holders : status.waiters).push(view);
  }
  return [...out.values()];
}

/** What one test holds and waits for, with who holds what it waits for (`trellis show`). */
export interface TestResources {
  holds: string[];
  waitsFor: Array<{ resource: string; heldBy: ClaimView[] }>;
}

/** The claims of test `testId` of run `runId`, among every claim; undefined when it has none. */
export function resourcesOfTest(claims: readonly ResourceClaim[], runId: number, testId: number): TestResources | undefined {
  const own = claims.filter((c) => c.runId === runId && c.testId === testId);
  if (own.length === 0) return undefined;
  const holders = (resource: string) => summarizeResources(new Map(), claims).find((s) => s.name === resource)?.holders ?? [];
  return {
    holds: own.filter((c) => c.state === 'held').map((c) => c.resource),
    waitsFor: own.filter((c) => c.state === 'waiting').map((c) => ({ resource: c.resource, heldBy: holders(c.resource) })),
  };
}
