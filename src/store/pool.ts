/**
 * The agent pool's rules in main.db (docs/agents.md). An agent lives while its pid does (on the
 * store's host) or while its heartbeat is younger than the area's deadtime (elsewhere), and only
 * under its current session: an agent started again under the same name is a new one. A queued job
 * is taken in one UPDATE (each job once); a job an agent took lives and dies with that agent, and
 * goes back to the queue for another agent as many times as `[agents] requeue` says. A job no live
 * agent may take is failed at once instead of waiting for ever. Runs inside the caller's transaction.
 */
import type { MainDb } from '../db/main-db.js';
import type { RunDb } from '../db/run-db.js';
import type { AgentRecord, TestRecord } from '../model/records.js';
import {
  agentFits,
  describeRequirements,
  type HostView,
  type PoolAgentRecord,
  type PoolAgentSpec,
  type PoolHeartbeat,
  type QueuedJob,
} from '../model/pool.js';
import { TrellisError } from '../util/errors.js';
import { formatTime, type AgentCheck, type ReapHooks } from './liveness.js';

/** True while the agent runs: not stopped, and its pid (here) or its heartbeat (elsewhere) says so. */
export function isPoolAgentAlive(agent: PoolAgentRecord, ctx: AgentCheck): boolean {
  if (agent.state === 'stopped') return false;
  if (agent.host === ctx.host) return ctx.isPidAlive(agent.pid, agent.procStart);
  return ctx.now - agent.heartbeat < ctx.deadtime;
}

/** Why an agent that is not alive counts as gone. */
export function explainPoolDeath(agent: PoolAgentRecord, ctx: AgentCheck): string {
  if (agent.state === 'stopped') return `left the pool at ${formatTime(agent.ended)}`;
  return agent.host === ctx.host ? 'is no longer running' : `sent no heartbeat since ${formatTime(agent.heartbeat)}`;
}

/** Registers the agent under a new session; refused (AGENT_BUSY) while another live agent has the name. */
export function registerAgent(main: MainDb, spec: PoolAgentSpec, session: string, load: number | null, ctx: AgentCheck): PoolAgentRecord {
  const old = main.pool.getAgent(spec.name);
  if (old && isPoolAgentAlive(old, ctx)) {
    const same = old.host === spec.host && old.pid === spec.pid && old.procStart === spec.procStart;
    if (!same) {
      throw new TrellisError(
        'AGENT_BUSY',
        `agent ${spec.name} is already running as pid ${old.pid} on host ${old.host} (since ${formatTime(old.started)})`,
        `give this one another --name, or stop that one first: trellis agent stop ${spec.name}`,
      );
    }
  }
  return main.pool.putAgent(spec, session, ctx.now, load);
}

/** A heartbeat: whether the agent should drain. AGENT_GONE when its session is no longer the agent's. */
export function beat(main: MainDb, hb: PoolHeartbeat): { drain: boolean } {
  if (!main.pool.beat(hb.name, hb.session, hb.time, hb.load)) {
    throw new TrellisError(
      'AGENT_GONE',
      `agent ${hb.name} is no longer registered under this session (another agent took the name, or it was taken for dead)`,
      'start the agent again',
    );
  }
  return { drain: main.pool.getAgent(hb.name)?.state === 'draining' };
}

/** The agent's own session, or AGENT_GONE. */
function requireSession(main: MainDb, name: string, session: string): PoolAgentRecord {
  const agent = main.pool.getAgent(name);
  if (agent === undefined || agent.session !== session || agent.state === 'stopped') {
    throw new TrellisError('AGENT_GONE', `agent ${name} is no longer registered under this session`, 'start the agent again');
  }
  return agent;
}

/**
 * Takes up to `max` queued jobs the agent may run, oldest first (nothing new while it drains). The
 * jobs this session holds that it does not list in `have` come first: the answer that gave them
 * was lost.
 */
export function takeJobs(main: MainDb, name: string, session: string, max: number, have: readonly number[], now: number): QueuedJob[] {
  const agent = requireSession(main, name, session);
  const taken = main.pool.listInStates(['claimed']).filter((j) => j.agent === name && j.agentSession === session && !have.includes(j.id));
  if (agent.state !== 'running') return taken;
  // A run that gave its limit (JobRequest.runLimit) has no more than that many jobs claimed.
  let claimed: Map<number, number> | undefined;
  for (const job of main.pool.listInStates(['queued'])) {
    if (taken.length >= max) break;
    if (job.tried.includes(name) || !agentFits(agent, job)) continue;
    if (job.runLimit !== undefined) {
      claimed ??= main.pool.claimedByRun();
      if ((claimed.get(job.runId) ?? 0) >= job.runLimit) continue;
    }
    if (!main.pool.take(job.id, name, session, now)) continue;
    taken.push(main.pool.get(job.id)!);
    if (claimed !== undefined) claimed.set(job.runId, (claimed.get(job.runId) ?? 0) + 1);
  }
  return taken;
}

/** The agent says how its job ended (exec recorded the test's end; this is the queue's). */
export function endJob(main: MainDb, id: number, name: string, session: string, note: string, now: number): void {
  const job = main.pool.get(id);
  if (job === undefined || job.agent !== name || job.agentSession !== session) return;
  main.pool.finish(id, 'ended', note, now);
}

/** A drain request (`trellis agent stop NAME`); NO_AGENT when no agent has the name. */
export function drainAgent(main: MainDb, name: string, now: number): PoolAgentRecord {
  const agent = main.pool.getAgent(name);
  if (agent === undefined) {
    const known = main.pool.listAgents().map((a) => a.name);
    throw new TrellisError('NO_AGENT', `no agent named ${name} in this run area`, `known: ${known.join(', ') || 'none'} (trellis hosts)`);
  }
  if (agent.state === 'running') main.pool.setAgentState(name, 'draining', now);
  return main.pool.getAgent(name)!;
}

/** The agent leaves (after draining, or on its way out). */
export function leave(main: MainDb, name: string, session: string, now: number): void {
  const agent = main.pool.getAgent(name);
  if (agent && agent.session === session) main.pool.setAgentState(name, 'stopped', now);
}

/** True while the agent that took `job` lives under the session it took it with. */
export function holderAlive(main: MainDb, job: QueuedJob, ctx: AgentCheck): boolean {
  if (job.agent === null) return false;
  const agent = main.pool.getAgent(job.agent);
  return agent !== undefined && agent.session === job.agentSession && isPoolAgentAlive(agent, ctx);
}

/** Why the agent that took `job` counts as gone. */
function holderDeath(main: MainDb, job: QueuedJob, ctx: AgentCheck): string {
  const agent = job.agent === null ? undefined : main.pool.getAgent(job.agent);
  if (agent === undefined) return `agent ${job.agent ?? '?'} is not registered`;
  if (agent.session !== job.agentSession) return `agent ${agent.name} was started again since it took the job`;
  return `agent ${agent.name} on host ${agent.host} ${explainPoolDeath(agent, ctx)}`;
}

/** Claimed jobs whose agent is gone, by run. */
export function orphanedJobs(main: MainDb, ctx: AgentCheck): Map<number, QueuedJob[]> {
  const out = new Map<number, QueuedJob[]>();
  for (const job of main.pool.listInStates(['claimed'])) {
    if (holderAlive(main, job, ctx)) continue;
    out.set(job.runId, [...(out.get(job.runId) ?? []), job]);
  }
  return out;
}

/**
 * What reaping one run needs from the pool: its taken jobs live and die with their agents, and go
 * back to the queue once more (or as often as they may) when the agent died while they ran.
 */
export function reapHooksFor(main: MainDb, rdb: RunDb, runId: number, ctx: AgentCheck): ReapHooks {
  const claimed = new Map<number, QueuedJob>();
  for (const job of main.pool.listOfRun(runId)) if (job.state === 'claimed') claimed.set(job.testId, job);
  const jobOf = (test: TestRecord) => {
    const job = claimed.get(test.id);
    return job && job.launchId === test.launchId && hasBegun(test, job) ? job : undefined;
  };
  return {
    judge(test: TestRecord, owner?: AgentRecord) {
      const job = jobOf(test);
      if (job === undefined) return undefined;
      if (!holderAlive(main, job, ctx)) return holderDeath(main, job, ctx);
      // Its agent lives: the job does, unless its exec said it ended.
      return owner && owner.ended !== null ? undefined : null;
    },
    requeue(test: TestRecord, reason: string) {
      const job = jobOf(test);
      if (job === undefined) return undefined;
      // What it left running on its host is for the next agent there to end (takeOrphans).
      if (test.host !== ctx.host) {
        const left = rdb.details.takeOrphansOf(test.id);
        if (left.length > 0) main.transaction(() => main.pool.addOrphans(test.host, job.agent ?? '', left));
      }
      if (job.requeuesLeft > 0 && (test.state === 'RUNNING' || test.state === 'LAUNCHED')) {
        main.transaction(() => main.pool.requeue(job, `queued again: ${reason}`, true));
        return { agentId: job.runnerAgentId, comment: `${reason}; queued again for another agent` };
      }
      main.transaction(() => main.pool.finish(job.id, 'failed', reason, ctx.now));
      return undefined;
    },
  };
}

/**
 * True when the job's test may have begun on the agent that took it: it left LAUNCHED, or its row
 * was claimed for the agent's exec (the agent takes a job and its test in one call, then starts at
 * once; its first writes may not have landed when it died). A row the runner still owns was never
 * begun: the answer that gave the job was lost.
 */
export function hasBegun(test: Pick<TestRecord, 'state' | 'agentId'>, job: Pick<QueuedJob, 'runnerAgentId'>): boolean {
  return test.state !== 'LAUNCHED' || (test.agentId !== null && test.agentId !== job.runnerAgentId);
}

/** Live agents that could ever take `job` (running, fitting, not among those that died with it). */
export function takersOf(
  job: Pick<QueuedJob, 'tags' | 'hosts' | 'tried'>,
  agents: readonly PoolAgentRecord[],
  ctx: AgentCheck,
): PoolAgentRecord[] {
  return agents.filter((a) => a.state === 'running' && isPoolAgentAlive(a, ctx) && !job.tried.includes(a.name) && agentFits(a, job));
}

/** Why no agent can take the job, for the test's comment. */
export function noTakerReason(
  job: Pick<QueuedJob, 'tags' | 'hosts' | 'tried'>,
  agents: readonly PoolAgentRecord[],
  ctx: AgentCheck,
): string {
  const live = agents.filter((a) => a.state === 'running' && isPoolAgentAlive(a, ctx));
  const offered =
    live.length === 0
      ? 'no agent is running (start one with `trellis agent`)'
      : `live agents: ${live.map((a) => `${a.name}${a.tags.length > 0 ? ` (${a.tags.join(',')})` : ''}`).join(', ')}`;
  const tried = job.tried.length > 0 ? `; died with it: ${job.tried.join(', ')}` : '';
  return `no live agent can take it (it needs ${describeRequirements(job)}; ${offered}${tried})`;
}

/** Fails the queued jobs no live agent can take; returns them. */
export function failUntakeable(main: MainDb, ctx: AgentCheck): QueuedJob[] {
  const queued = main.pool.listInStates(['queued']);
  if (queued.length === 0) return [];
  const agents = main.pool.listAgents();
  const failed: QueuedJob[] = [];
  for (const job of queued) {
    if (takersOf(job, agents, ctx).length > 0) continue;
    const reason = noTakerReason(job, agents, ctx);
    if (main.pool.finish(job.id, 'failed', reason, ctx.now)) failed.push({ ...job, state: 'failed', note: reason });
  }
  return failed;
}

/** Every registered agent, with its status and the jobs it runs now. */
export function hostViews(main: MainDb, ctx: AgentCheck): HostView[] {
  const running = main.pool.listInStates(['claimed']);
  return main.pool.listAgents().map((agent) => {
    const jobs = running.filter((j) => j.agent === agent.name && j.agentSession === agent.session);
    const alive = isPoolAgentAlive(agent, ctx);
    const status = !alive ? 'offline' : agent.state === 'draining' ? 'draining' : jobs.length > 0 ? 'busy' : 'idle';
    return { ...agent, status, jobs };
  });
}
