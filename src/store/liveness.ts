/**
 * Telling live agents from dead ones, and what happens to the tests of a dead one. An agent on
 * this host is alive while its pid is (with the same start time); an agent on another host while
 * its heartbeat is younger than the area's deadtime, since its pid means nothing here.
 */
import type { RunDb } from '../db/run-db.js';
import type { AgentRecord, RunRecord, TestRecord } from '../model/records.js';
import { ACTIVE_STATES } from '../model/states.js';
import { TrellisError } from '../util/errors.js';
import type { AgentSpec, LivenessOptions } from './store.js';
import { applyLaunchJournals } from './launch-journal.js';
import { recoverSteps } from './recover.js';
import { createTracker, rollUpParents, saveTest, type ChangeTracker } from './test-changes.js';

/** Checks a pid on this host; the store takes one so tests can pass their own. */
export type PidCheck = (pid: number, procStart: number | null) => boolean;

/** Ends a process group on this host, if its leader is still the process that started then. */
export type GroupKill = (pid: number, procStart: number | null) => void;

/** What a liveness decision needs besides the agent. */
export interface AgentCheck extends LivenessOptions {
  /** this host's name, as agents record it */
  host: string;
  isPidAlive: PidCheck;
}

/** What reaping needs: deciding, and ending what a dead agent left running here. */
export interface LivenessContext extends AgentCheck {
  /** ends the steps a dead agent left running on this host */
  killGroup: GroupKill;
  /** the run area, where dead runners' launch journals are read (store/launch-journal.ts); none: not read */
  runArea?: string;
}

/** True while the agent runs (an ended agent never does). */
export function isAgentAlive(agent: AgentRecord, ctx: AgentCheck): boolean {
  if (agent.ended !== null) return false;
  if (agent.host === ctx.host) return ctx.isPidAlive(agent.pid, agent.procStart);
  return ctx.now - agent.heartbeat < ctx.deadtime;
}

/** A time for messages: ISO 8601 in UTC, to the second. */
export function formatTime(seconds: number | null): string {
  if (seconds === null) return 'an unknown time';
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Describes an agent for people: `runner pid 123 on host h1`. */
export function describeAgent(agent: AgentRecord): string {
  return `${agent.kind} pid ${agent.pid} on host ${agent.host}`;
}

/**
 * Registers `agent` as the run's runner unless a live runner holds it (RUN_BUSY); dead runners
 * found on the way are ended. Runs inside the caller's (IMMEDIATE) transaction.
 */
export function claimRunner(rdb: RunDb, run: RunRecord, agent: AgentSpec, ctx: LivenessContext): AgentRecord {
  for (const other of rdb.log.listOpenAgents('runner')) {
    const same = other.host === agent.host && other.pid === agent.pid && other.procStart === agent.procStart;
    // A process that claims again keeps its record, so its tests are not taken for dead.
    if (same && agent.kind === 'runner') return other;
    if (isAgentAlive(other, ctx)) {
      throw new TrellisError(
        'RUN_BUSY',
        `run ${run.target}/${run.runname} is being run by pid ${other.pid} on host ${other.host} since ${formatTime(other.started)}`,
        'wait for it, or use another run name',
      );
    }
    rdb.log.endAgent(other.id, ctx.now);
    rdb.log.addEvent(ctx.now, null, 'agent', `${describeAgent(other)} found dead`, '');
  }
  const rec = rdb.log.insertAgent(agent, ctx.now);
  rdb.log.addEvent(ctx.now, null, 'agent', `${describeAgent(rec)} claimed the run`, '');
  return rec;
}

/**
 * Marks active tests whose agent is gone INCOMPLETE/DEAD (their running steps KILLED), ends the
 * dead agents, rolls parents up and returns the reaped rows. Runs inside the caller's transaction.
 */
/**
 * What the agent pool adds to reaping (store/pool.ts): a job an agent took lives and dies with that
 * agent, and may go back to the queue instead of being marked dead.
 */
export interface ReapHooks {
  /** null: alive, whatever its exec's record says; a reason: dead; undefined: its exec's record decides */
  judge(test: TestRecord, owner: AgentRecord | undefined): string | null | undefined;
  /** queues the job again instead of reaping it: the agent that owns the row again, and its comment */
  requeue(test: TestRecord, reason: string): { agentId: number; comment: string } | undefined;
}

export function reapDeadTests(
  rdb: RunDb,
  ctx: LivenessContext,
  who: string,
  tracker: ChangeTracker = createTracker(),
  hooks?: ReapHooks,
): { reaped: TestRecord[]; changed: boolean } {
  const agents = new Map(rdb.log.listAgents().map((a) => [a.id, a]));
  // Launches a dead runner journaled and never got into the store are its active tests too.
  if (ctx.runArea !== undefined) applyLaunchJournals(rdb, ctx.runArea, agents, (a) => isAgentAlive(a, ctx), who, tracker);
  const dead = new Set<number>();
  const reaped: TestRecord[] = [];
  for (const test of rdb.tests.listInStates(ACTIVE_STATES)) {
    // A test with items shows their roll-up; it follows them instead of being reaped itself.
    if (test.itempath === '' && rdb.tests.hasItems(test.testname)) continue;
    // A row appended from outside (`trellis result`) has no agent: whoever appends to it says when it ends.
    if (test.external) continue;
    const agent = test.agentId === null ? undefined : agents.get(test.agentId);
    const judged = hooks?.judge(test, agent);
    if (judged === null) continue;
    const reason = judged ?? findDeathReason(test, agent, ctx);
    if (reason === undefined) continue;
    if (test.agentId !== null && agents.has(test.agentId)) dead.add(test.agentId);
    // Steps that ended wrote their exit codes, a step that runs its group (recorded now if its pid
    // never arrived); what still runs on this host is ended here, what runs on another host is
    // left recorded for the next trellis process there (takeOrphans).
    const recovered = recoverSteps(rdb, test, ctx.now);
    const here = (agent?.host ?? test.host) === ctx.host;
    if (here) endOrphans(rdb, test.id, ctx);
    rdb.details.killRunningSteps(test.id, ctx.now, here);
    const again = recovered.ended ? undefined : hooks?.requeue(test, reason);
    if (again) {
      saveTest(
        rdb,
        test,
        {
          ...test,
          state: 'LAUNCHED',
          agentId: again.agentId,
          host: '',
          pid: null,
          comment: again.comment.slice(0, 4000),
          updated: ctx.now,
        },
        ctx.now,
        who,
        tracker,
      );
      continue;
    }
    const after: TestRecord = recovered.ended
      ? {
          ...test,
          state: 'COMPLETED',
          status: recovered.status,
          comment: `${recovered.comment || 'every step ended'} (recovered from the exit files: ${reason})`.slice(0, 4000),
          end: ctx.now,
          updated: ctx.now,
        }
      : {
          ...test,
          state: 'INCOMPLETE',
          status: 'DEAD',
          comment: reason,
          end: test.start === null ? null : ctx.now,
          updated: ctx.now,
        };
    saveTest(rdb, test, after, ctx.now, who, tracker);
    reaped.push({ ...after, duration: after.start !== null && after.end !== null ? after.end - after.start : null });
  }
  // A runner that died between launches (or after its last test) owns no active test, yet it
  // keeps the run `running` until it is ended.
  for (const a of rdb.log.listOpenAgents('runner')) if (!isAgentAlive(a, ctx)) dead.add(a.id);
  for (const id of dead) {
    const agent = agents.get(id)!;
    rdb.log.endAgent(id, ctx.now);
    if (agent.ended === null)
      rdb.log.addEvent(ctx.now, null, 'agent', `${describeAgent(agent)} found dead; it ${explainDeath(agent, ctx)}`, who);
  }
  rollUpParents(rdb, tracker, ctx.now, who);
  return { reaped, changed: tracker.toplevelChanged || [...dead].some((id) => agents.get(id)!.kind === 'runner') };
}

/** Ends the process groups of the test's running steps (a dead agent's orphans on this host). */
function endOrphans(rdb: RunDb, testId: number, ctx: LivenessContext): void {
  for (const step of rdb.details.listSteps(testId)) {
    if (step.state !== 'RUNNING' || step.pid === null) continue;
    ctx.killGroup(step.pid, step.procStart);
  }
}

function findDeathReason(test: TestRecord, agent: AgentRecord | undefined, ctx: LivenessContext): string | undefined {
  if (agent === undefined) {
    if (ctx.now - test.updated <= ctx.deadtime) return undefined;
    return `no live agent (agent ${test.agentId ?? 'none'}) and no update since ${formatTime(test.updated)}`;
  }
  if (isAgentAlive(agent, ctx)) return undefined;
  return `${describeAgent(agent)} ${explainDeath(agent, ctx)}`;
}

/** Why an agent that is not alive counts as gone. */
function explainDeath(agent: AgentRecord, ctx: AgentCheck): string {
  if (agent.ended !== null) return `ended at ${formatTime(agent.ended)}`;
  return agent.host === ctx.host ? 'is no longer running' : `sent no heartbeat since ${formatTime(agent.heartbeat)}`;
}
