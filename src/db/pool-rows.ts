/**
 * Typed queries on main.db's agent pool (main-schema.ts version 7): `pool_agents`, the agents that
 * registered, and `job_queue`, the jobs runners queued for them. Rows are mapped to the pool's
 * records here and never leave this folder raw.
 */
import type { JobRequest, PoolAgentRecord, PoolAgentSpec, PoolAgentState, QueuedJob, QueuedJobState } from '../model/pool.js';
import type { StatementCache } from './statements.js';

interface AgentRow {
  name: string;
  host: string;
  user: string;
  pid: number;
  proc_start: number | null;
  slots: number;
  tags: string;
  version: string;
  state: string;
  session: string;
  started: number;
  heartbeat: number;
  ended: number | null;
  load: number | null;
}

/** Every column of a queue row but the spec (what listings carry: a spec is a few KB). */
const QUEUE_COLUMNS = `id, run_id, test_id, launch_id, spec_file, target, runname, label, tags, hosts, runner_agent, state, agent,
  agent_session, tried, requeues_left, queued, claimed, ended, note, run_limit`;

interface QueueRow {
  id: number;
  run_id: number;
  test_id: number;
  launch_id: string;
  spec_file: string;
  target: string;
  runname: string;
  label: string;
  tags: string;
  hosts: string;
  runner_agent: number;
  state: string;
  agent: string | null;
  agent_session: string | null;
  tried: string;
  requeues_left: number;
  queued: number;
  claimed: number | null;
  ended: number | null;
  note: string;
  run_limit: number | null;
}

function mapAgentRow(r: AgentRow): PoolAgentRecord {
  return {
    name: r.name,
    host: r.host,
    user: r.user,
    pid: r.pid,
    procStart: r.proc_start,
    slots: r.slots,
    tags: JSON.parse(r.tags) as string[],
    version: r.version,
    state: r.state as PoolAgentState,
    session: r.session,
    started: r.started,
    heartbeat: r.heartbeat,
    ended: r.ended,
    load: r.load,
  };
}

function mapQueueRow(r: QueueRow): QueuedJob {
  return {
    id: r.id,
    runId: r.run_id,
    testId: r.test_id,
    launchId: r.launch_id,
    specFile: r.spec_file,
    target: r.target,
    runname: r.runname,
    label: r.label,
    tags: JSON.parse(r.tags) as string[],
    hosts: JSON.parse(r.hosts) as string[],
    runnerAgentId: r.runner_agent,
    state: r.state as QueuedJobState,
    agent: r.agent,
    agentSession: r.agent_session,
    tried: JSON.parse(r.tried) as string[],
    requeuesLeft: r.requeues_left,
    queued: r.queued,
    claimed: r.claimed,
    ended: r.ended,
    note: r.note,
    ...(r.run_limit === null ? {} : { runLimit: r.run_limit }),
  };
}

export class PoolRows {
  readonly #sql: StatementCache;

  constructor(sql: StatementCache) {
    this.#sql = sql;
  }

  /** The pool's change number: a job queued, taken or ended, an agent joining, draining or leaving. */
  readSeq(): number {
    return (this.#sql.get(`SELECT seq FROM pool_counter WHERE id = 1`).get() as { seq: number }).seq;
  }

  // ---- agents ----

  getAgent(name: string): PoolAgentRecord | undefined {
    const row = this.#sql.get(`SELECT * FROM pool_agents WHERE name = ?`).get(name) as AgentRow | undefined;
    return row === undefined ? undefined : mapAgentRow(row);
  }

  listAgents(): PoolAgentRecord[] {
    return (this.#sql.get(`SELECT * FROM pool_agents ORDER BY name`).all() as AgentRow[]).map(mapAgentRow);
  }

  /** Registers (or registers again) the agent under a new session. */
  putAgent(spec: PoolAgentSpec, session: string, now: number, load: number | null): PoolAgentRecord {
    this.#sql
      .get(
        `INSERT INTO pool_agents (name, host, user, pid, proc_start, slots, tags, version, state, session, started, heartbeat, ended, load)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, NULL, ?)
         ON CONFLICT (name) DO UPDATE SET host = excluded.host, user = excluded.user, pid = excluded.pid,
           proc_start = excluded.proc_start, slots = excluded.slots, tags = excluded.tags, version = excluded.version,
           state = 'running', session = excluded.session, started = excluded.started, heartbeat = excluded.heartbeat,
           ended = NULL, load = excluded.load`,
      )
      .run(
        spec.name,
        spec.host,
        spec.user,
        spec.pid,
        spec.procStart,
        spec.slots,
        JSON.stringify(spec.tags),
        spec.version,
        session,
        now,
        now,
        load,
      );
    return this.getAgent(spec.name)!;
  }

  /** A heartbeat of the agent's current session; false when that session is no longer the agent's. */
  beat(name: string, session: string, time: number, load: number | null): boolean {
    return (
      this.#sql
        .get(`UPDATE pool_agents SET heartbeat = max(heartbeat, ?), load = ? WHERE name = ? AND session = ? AND state <> 'stopped'`)
        .run(time, load, name, session).changes > 0
    );
  }

  setAgentState(name: string, state: PoolAgentState, now: number): void {
    this.#sql
      .get(`UPDATE pool_agents SET state = ?, ended = CASE WHEN ? = 'stopped' THEN ? ELSE NULL END WHERE name = ?`)
      .run(state, state, now, name);
  }

  // ---- the queue ----

  enqueue(req: JobRequest, now: number): QueuedJob {
    const info = this.#sql
      .get(
        `INSERT INTO job_queue (run_id, test_id, launch_id, spec_file, target, runname, label, tags, hosts, runner_agent,
           state, requeues_left, queued, spec, run_limit)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)
         ON CONFLICT (launch_id) DO NOTHING`,
      )
      .run(
        req.runId,
        req.testId,
        req.launchId,
        req.specFile,
        req.target,
        req.runname,
        req.label,
        JSON.stringify(req.tags),
        JSON.stringify(req.hosts),
        req.runnerAgentId,
        req.requeues,
        now,
        req.spec === undefined ? null : JSON.stringify(req.spec),
        req.runLimit ?? null,
      );
    void info;
    return this.byLaunch(req.launchId)!;
  }

  byLaunch(launchId: string): QueuedJob | undefined {
    const row = this.#sql.get(`SELECT ${QUEUE_COLUMNS} FROM job_queue WHERE launch_id = ?`).get(launchId) as QueueRow | undefined;
    return row === undefined ? undefined : mapQueueRow(row);
  }

  get(id: number): QueuedJob | undefined {
    const row = this.#sql.get(`SELECT ${QUEUE_COLUMNS} FROM job_queue WHERE id = ?`).get(id) as QueueRow | undefined;
    return row === undefined ? undefined : mapQueueRow(row);
  }

  /** The spec the runner queued with the job (while the job may run), if it gave one. */
  specOf(id: number): object | undefined {
    const row = this.#sql.get(`SELECT spec FROM job_queue WHERE id = ?`).get(id) as { spec: string | null } | undefined;
    return row?.spec == null ? undefined : (JSON.parse(row.spec) as object);
  }

  /** Jobs in these states, oldest first. */
  listInStates(states: readonly QueuedJobState[]): QueuedJob[] {
    const marks = states.map(() => '?').join(', ');
    const rows = this.#sql.get(`SELECT ${QUEUE_COLUMNS} FROM job_queue WHERE state IN (${marks}) ORDER BY id`).all(...states) as QueueRow[];
    return rows.map(mapQueueRow);
  }

  /** One run's jobs, oldest first. */
  listOfRun(runId: number): QueuedJob[] {
    return (this.#sql.get(`SELECT ${QUEUE_COLUMNS} FROM job_queue WHERE run_id = ? ORDER BY id`).all(runId) as QueueRow[]).map(mapQueueRow);
  }

  /** The live job of one test (queued or claimed), if any. */
  liveOfTest(runId: number, testId: number): QueuedJob | undefined {
    const row = this.#sql
      .get(
        `SELECT ${QUEUE_COLUMNS} FROM job_queue WHERE run_id = ? AND test_id = ? AND state IN ('queued', 'claimed') ORDER BY id DESC LIMIT 1`,
      )
      .get(runId, testId) as QueueRow | undefined;
    return row === undefined ? undefined : mapQueueRow(row);
  }

  /** Records the steps a dead agent left running on its host. */
  addOrphans(host: string, agent: string, steps: ReadonlyArray<{ pid: number; procStart: number | null }>): void {
    for (const s of steps) {
      this.#sql.get(`INSERT INTO pool_orphans (host, agent, pid, proc_start) VALUES (?, ?, ?, ?)`).run(host, agent, s.pid, s.procStart);
    }
  }

  /** The steps dead agents left running on `host`, forgotten as they are given. */
  takeOrphans(host: string): Array<{ pid: number; procStart: number | null }> {
    const rows = this.#sql.get(`SELECT pid, proc_start AS procStart FROM pool_orphans WHERE host = ?`).all(host) as Array<{
      pid: number;
      procStart: number | null;
    }>;
    this.#sql.get(`DELETE FROM pool_orphans WHERE host = ?`).run(host);
    return rows;
  }

  /** Takes a queued job for an agent; false when it was no longer queued. */
  take(id: number, agent: string, session: string, now: number): boolean {
    return (
      this.#sql
        .get(`UPDATE job_queue SET state = 'claimed', agent = ?, agent_session = ?, claimed = ? WHERE id = ? AND state = 'queued'`)
        .run(agent, session, now, id).changes > 0
    );
  }

  /** Ends a job (ended, failed, cancelled) with a note; only from queued or claimed. */
  finish(id: number, state: 'ended' | 'failed' | 'cancelled', note: string, now: number): boolean {
    return (
      this.#sql
        .get(`UPDATE job_queue SET state = ?, note = ?, ended = ?, spec = NULL WHERE id = ? AND state IN ('queued', 'claimed')`)
        .run(state, note.slice(0, 4000), now, id).changes > 0
    );
  }

  /** How many jobs of each run are claimed now. */
  claimedByRun(): Map<number, number> {
    const rows = this.#sql.get(`SELECT run_id, COUNT(*) AS n FROM job_queue WHERE state = 'claimed' GROUP BY run_id`).all() as Array<{
      run_id: number;
      n: number;
    }>;
    return new Map(rows.map((r) => [r.run_id, r.n]));
  }

  /** Replaces the note of a job that ended (what its agent said, and what became of it). */
  setNote(id: number, note: string): void {
    this.#sql.get(`UPDATE job_queue SET note = ? WHERE id = ? AND state = 'ended'`).run(note.slice(0, 4000), id);
  }

  /** Puts a claimed job back in the queue; `spend` uses one of its requeues and keeps the agent out. */
  requeue(job: QueuedJob, note: string, spend: boolean): void {
    const tried = spend && job.agent !== null && !job.tried.includes(job.agent) ? [...job.tried, job.agent] : job.tried;
    this.#sql
      .get(
        `UPDATE job_queue SET state = 'queued', agent_session = NULL, claimed = NULL, tried = ?, note = ?,
           requeues_left = requeues_left - ? WHERE id = ? AND state = 'claimed'`,
      )
      .run(JSON.stringify(tried), note.slice(0, 4000), spend ? 1 : 0, job.id);
  }
}
