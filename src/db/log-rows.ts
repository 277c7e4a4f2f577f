/**
 * Typed queries on a run database's bookkeeping tables: `events` (the change feed and the log of
 * forced writes), `applied_ops` (exactly-once writes) and `agents` (runners and exec processes).
 */
import type { AgentRecord, EventRecord } from '../model/records.js';
import type { StatementCache } from './statements.js';

/** What identifies an agent when it registers. */
export type AgentIdentity = Pick<AgentRecord, 'kind' | 'host' | 'pid' | 'procStart'>;

interface AgentRow {
  id: number;
  kind: string;
  host: string;
  pid: number;
  proc_start: number | null;
  started: number;
  heartbeat: number;
  ended: number | null;
}

function mapAgentRow(r: AgentRow): AgentRecord {
  return {
    id: r.id,
    kind: r.kind as AgentRecord['kind'],
    host: r.host,
    pid: r.pid,
    procStart: r.proc_start,
    started: r.started,
    heartbeat: r.heartbeat,
    ended: r.ended,
  };
}

/** Table access for events, applied op ids and agents. */
export class LogRows {
  readonly #sql: StatementCache;

  constructor(sql: StatementCache) {
    this.#sql = sql;
  }

  /** Appends one change to the feed. */
  addEvent(time: number, testId: number | null, kind: string, detail: string, who: string): void {
    this.#sql.get(`INSERT INTO events (time, test_id, kind, detail, who) VALUES (?, ?, ?, ?, ?)`).run(time, testId, kind, detail, who);
  }

  /** Changes after `sinceSeq`, oldest first. */
  listEvents(sinceSeq: number, limit: number): EventRecord[] {
    return this.#sql
      .get(
        `SELECT seq, time, test_id AS testId, kind, detail, who FROM events
         WHERE seq > ? ORDER BY seq LIMIT ?`,
      )
      .all(sinceSeq, limit) as EventRecord[];
  }

  /** The time of the first event (the run's creation, as near as its log knows), or null. */
  readFirstEventTime(): number | null {
    const row = this.#sql.get(`SELECT time FROM events ORDER BY seq LIMIT 1`).get() as { time: number } | undefined;
    return row?.time ?? null;
  }

  /** The run's last `lock` or `unlock` event: whether it was locked, and by whom (a rebuilt index). */
  readLastLockEvent(): EventRecord | undefined {
    return this.#sql
      .get(`SELECT seq, time, test_id AS testId, kind, detail, who FROM events WHERE kind IN ('lock', 'unlock') ORDER BY seq DESC LIMIT 1`)
      .get() as EventRecord | undefined;
  }

  /** The seq of the last change recorded, 0 when there is none. */
  readLastSeq(): number {
    // A bare max() of the key: SQLite reads it off the end of the table instead of scanning.
    const row = this.#sql.get(`SELECT max(seq) AS seq FROM events`).get() as { seq: number | null };
    return row.seq ?? 0;
  }

  /**
   * Ids of the rows that changed after `sinceSeq` (added, state or status changed, removed: every
   * such event names its row), at most `limit` of them.
   */
  listChangedTestIds(sinceSeq: number, limit: number): number[] {
    const rows = this.#sql
      .get(`SELECT DISTINCT test_id AS id FROM events WHERE seq > ? AND test_id IS NOT NULL LIMIT ?`)
      .all(sinceSeq, limit) as Array<{ id: number }>;
    return rows.map((r) => r.id);
  }

  /** Records an op id; false when it was applied before (the op must then be skipped). */
  claimOp(opId: string, time: number): boolean {
    return this.#sql.get(`INSERT INTO applied_ops (op_id, time) VALUES (?, ?) ON CONFLICT DO NOTHING`).run(opId, time).changes === 1;
  }

  /** Registers an agent, alive since `time`. */
  insertAgent(spec: AgentIdentity, time: number): AgentRecord {
    const row = this.#sql
      .get(
        `INSERT INTO agents (kind, host, pid, proc_start, started, heartbeat) VALUES (?, ?, ?, ?, ?, ?)
         RETURNING *`,
      )
      .get(spec.kind, spec.host, spec.pid, spec.procStart, time, time);
    return mapAgentRow(row as AgentRow);
  }

  /** The agent with this id. */
  getAgent(id: number): AgentRecord | undefined {
    const row = this.#sql.get(`SELECT * FROM agents WHERE id = ?`).get(id);
    return row === undefined ? undefined : mapAgentRow(row as AgentRow);
  }

  /** Every agent, oldest first. */
  listAgents(): AgentRecord[] {
    return (this.#sql.get(`SELECT * FROM agents ORDER BY id`).all() as AgentRow[]).map(mapAgentRow);
  }

  /** Agents of `kind` that have not ended. */
  listOpenAgents(kind: AgentRecord['kind']): AgentRecord[] {
    const rows = this.#sql.get(`SELECT * FROM agents WHERE kind = ? AND ended IS NULL ORDER BY id`).all(kind);
    return (rows as AgentRow[]).map(mapAgentRow);
  }

  /** Returns false when there is no such agent. */
  touchAgent(id: number, time: number): boolean {
    return this.#sql.get(`UPDATE agents SET heartbeat = max(heartbeat, ?) WHERE id = ?`).run(time, id).changes === 1;
  }

  /** Marks an agent ended (once); false when there is no such agent. */
  endAgent(id: number, time: number): boolean {
    return this.#sql.get(`UPDATE agents SET ended = coalesce(ended, ?) WHERE id = ?`).run(time, id).changes === 1;
  }
}
