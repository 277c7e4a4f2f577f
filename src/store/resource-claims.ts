/**
 * Claiming shares of shared resources in main.db (docs/workflows.md, "Shared resources"). A test
 * takes one share of every resource it names in one transaction, or none: two runners never both
 * take the last share, and a test needing two resources never holds one while it waits for the
 * other (no deadlock between runs). A claim lives while its runner does: on the store's host while
 * its pid runs, elsewhere while its heartbeat (which renews the claim) is younger than the
 * deadtime. Dead claims are freed by whoever looks next. Runs inside the caller's transaction.
 */
import type { MainDb } from '../db/main-db.js';
import type { AgentRecord } from '../model/records.js';
import type { ResourceAnswer, ResourceClaim, ResourceRequest } from '../model/resources.js';
import { isAgentAlive, type AgentCheck } from './liveness.js';

/** What a claim did, for the claimant's run log. */
export interface ClaimOutcome {
  answer: ResourceAnswer;
  /** the claims of dead holders freed on the way */
  freed: ResourceClaim[];
  /** true when the test was not waiting before this refusal (its wait begins now) */
  newWait: boolean;
}

/** True while the claim's runner lives. */
export function isClaimAlive(claim: ResourceClaim, ctx: AgentCheck): boolean {
  const agent: AgentRecord = {
    id: claim.agentId,
    kind: 'runner',
    host: claim.host,
    pid: claim.pid,
    procStart: claim.procStart,
    started: claim.since,
    heartbeat: claim.renewed,
    ended: null,
  };
  return isAgentAlive(agent, ctx);
}

/** Deletes the claims whose runner is gone and returns them. */
export function freeDeadClaims(main: MainDb, ctx: AgentCheck): ResourceClaim[] {
  const dead = main.resources.list().filter((c) => !isClaimAlive(c, ctx));
  for (const c of dead) main.resources.delete(c.resource, c.runId, c.testId);
  return dead;
}

/**
 * Takes a share of each resource of `req` for its test when every one has a share left (the test's
 * own claims do not count against it: a claim asked again is granted again); otherwise records the
 * test as waiting for them and names what holds them.
 */
export function claimResources(main: MainDb, req: ResourceRequest, ctx: AgentCheck): ClaimOutcome {
  const freed = freeDeadClaims(main, ctx);
  const { holder } = req;
  const own = main.resources.listOfTest(holder.runId, holder.testId);
  const blockers: ResourceClaim[] = [];
  for (const want of req.wants) {
    const held = main.resources
      .listOf(want.name)
      .filter((c) => c.state === 'held' && !(c.runId === holder.runId && c.testId === holder.testId));
    if (held.length >= want.count) blockers.push(...held);
  }
  const granted = blockers.length === 0;
  for (const want of req.wants) main.resources.upsert(holder, want.name, want.count, granted ? 'held' : 'waiting', ctx.now);
  // Rows of resources the test no longer names (its testconfig changed between two asks) go.
  const wanted = new Set(req.wants.map((w) => w.name));
  for (const c of own) if (!wanted.has(c.resource)) main.resources.delete(c.resource, c.runId, c.testId);
  return {
    answer: { granted, blockers, runsSeq: main.readChangeSeq(), resourcesSeq: main.resources.readSeq() },
    freed,
    newWait: !granted && !own.some((c) => c.state === 'waiting'),
  };
}
