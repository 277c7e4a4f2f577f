/**
 * The agent pool (docs/agents.md): `trellis agent` processes on hosts that see the run area
 * register in main.db, heartbeat, and take jobs a runner queued with `--launcher agents`. These are
 * the records that cross the store interface, the rules for agent names and tags, and which agent
 * may take which job.
 */
import { wordNameProblem } from './names.js';
import type { AgentRecord, TestRecord, WriteOp, WriteOptions } from './records.js';

/** Longest agent name or tag. */
export const MAX_AGENT_NAME = 64;
/** Most tags one agent or one job may carry. */
export const MAX_TAGS = 32;
/** Most slots one agent may offer. */
export const MAX_SLOTS = 1024;

/** Why `name` cannot name an agent, a tag or a host requirement, or undefined when it can. */
export function agentNameProblem(name: string): string | undefined {
  return wordNameProblem(name, MAX_AGENT_NAME);
}

/** What an agent says of itself when it registers. */
export interface PoolAgentSpec {
  name: string;
  host: string;
  /** the login name the agent runs as */
  user: string;
  pid: number;
  procStart: number | null;
  slots: number;
  tags: string[];
  version: string;
}

/** `running` takes jobs; `draining` finishes what it has and takes nothing new; `stopped` has left. */
export type PoolAgentState = 'running' | 'draining' | 'stopped';

/** What `trellis hosts` shows of an agent. */
export type HostStatus = 'idle' | 'busy' | 'draining' | 'offline';

/** One registered agent, as main.db has it. */
export interface PoolAgentRecord extends PoolAgentSpec {
  state: PoolAgentState;
  /** this registration's id: a restarted agent of the same name gets a new one */
  session: string;
  started: number;
  heartbeat: number;
  ended: number | null;
  /** the host's 1-minute load average at the last heartbeat */
  load: number | null;
}

/** A registered agent with what it runs now, for `trellis hosts`, the dashboard and the web view. */
export interface HostView extends PoolAgentRecord {
  status: HostStatus;
  /** its jobs claimed and not ended, oldest first */
  jobs: QueuedJob[];
}

/** What a runner queues for the agents: one launched job, ready to run. */
export interface JobRequest {
  runId: number;
  testId: number;
  launchId: string;
  /** the job spec's path (inside the run area) */
  specFile: string;
  /**
   * The spec itself (runner/job-spec.ts), when the runner wrote no file: the agent that takes the
   * job checks it and writes it at `specFile`, in the work folder it makes
   */
  spec?: object;
  target: string;
  runname: string;
  /** `test` or `test/item` */
  label: string;
  /** every one must be among the agent's tags */
  tags: string[];
  /** agent names or host names; empty: any */
  hosts: string[];
  /** how many times the job goes back to the queue when its agent dies under it */
  requeues: number;
  /** the runner's agent id in the run's database: it owns the row again when the job is requeued */
  runnerAgentId: number;
  /**
   * At most this many of the run's jobs claimed at once (its `-j`): the queue keeps the run's limit,
   * so that the runner may queue more jobs than that without waiting to hear of ends (absent: the
   * runner keeps it alone)
   */
  runLimit?: number;
}

export type QueuedJobState = 'queued' | 'claimed' | 'ended' | 'failed' | 'cancelled';

/** One job of the queue. */
export interface QueuedJob extends Omit<JobRequest, 'requeues' | 'spec'> {
  id: number;
  state: QueuedJobState;
  /** the agent that took it (claimed, ended), or last took it (queued again) */
  agent: string | null;
  /** the session of that agent's registration it took the job under */
  agentSession: string | null;
  /** agents that died with it: it goes to another one */
  tried: string[];
  requeuesLeft: number;
  queued: number;
  claimed: number | null;
  ended: number | null;
  /** why it ended, failed or went back to the queue */
  note: string;
}

/** An agent's word that a job it took ended: its note, and the exec agent it ran under. */
export interface JobEnd {
  id: number;
  note: string;
  execAgentId?: number;
  /**
   * The job's last writes, not sent yet: they go in before the job is ended in the queue (one
   * request where there were two). Writes that cannot be recorded end the job with why in its note.
   */
  writes?: CarriedWrites;
}

/** Writes to a run handed on to go with another request. */
export interface CarriedWrites {
  runId: number;
  ops: WriteOp[];
  options: WriteOptions;
}

/** A job an agent took, with its test already claimed for the agent's exec (when it asked so). */
export interface TakenJob extends QueuedJob {
  claim?: { agent: AgentRecord; test: TestRecord };
  /** the spec the runner queued with it, when it wrote no file (JobRequest.spec) */
  spec?: object;
}

/** What the agent reports with each heartbeat; the answer says whether it should drain. */
export interface PoolHeartbeat {
  name: string;
  session: string;
  time: number;
  load: number | null;
}

/** True when `agent` may take `job`: every tag, and a host requirement naming it or its host. */
export function agentFits(agent: Pick<PoolAgentSpec, 'name' | 'host' | 'tags'>, job: Pick<JobRequest, 'tags' | 'hosts'>): boolean {
  if (!job.tags.every((t) => agent.tags.includes(t))) return false;
  if (job.hosts.length > 0 && !job.hosts.includes(agent.name) && !job.hosts.includes(agent.host)) return false;
  return true;
}

/** Words for a job's requirements, for messages: `tags gpu,linux on h1 or h2`. */
export function describeRequirements(job: Pick<JobRequest, 'tags' | 'hosts'>): string {
  const parts: string[] = [];
  if (job.tags.length > 0) parts.push(`tags ${job.tags.join(',')}`);
  if (job.hosts.length > 0) parts.push(`host ${job.hosts.join(' or ')}`);
  return parts.length === 0 ? 'no requirement' : parts.join(', ');
}

/** The columns of `trellis hosts`, the dashboard's hosts view and the web's hosts page. */
export const HOST_COLUMNS = ['NAME', 'HOST', 'STATUS', 'SLOTS', 'TAGS', 'HEARTBEAT', 'LOAD', 'VERSION', 'RUNNING'] as const;

/** Seconds as a short age: `4s`, `3m`, `2h`. */
export function shortAge(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

/** The tests an agent runs, as `test/item (target/run)`, the first few. */
export function runningText(h: HostView, max = 3): string {
  if (h.jobs.length === 0) return '-';
  const shown = h.jobs.slice(0, max).map((j) => `${j.label} (${j.target}/${j.runname})`);
  return h.jobs.length > max ? `${shown.join(', ')} +${h.jobs.length - max} more` : shown.join(', ');
}

/** One agent's row under HOST_COLUMNS (raw text: the caller escapes it for its medium). */
export function hostCells(h: HostView, now: number): string[] {
  return [
    h.name,
    h.host,
    h.status,
    `${h.jobs.length}/${h.slots}`,
    h.tags.join(',') || '-',
    `${shortAge(now - h.heartbeat)} ago`,
    h.load === null ? '-' : h.load.toFixed(2),
    h.version,
    runningText(h),
  ];
}
