/**
 * Typed queries on main.db's `resource_claims` (main-schema.ts version 4): the shares of shared
 * resources that tests hold, and the tests waiting for one. Rows are mapped to ResourceClaim here
 * and never leave this folder raw.
 */
import type { ResourceClaim, ResourceHolder } from '../model/resources.js';
import type { StatementCache } from './statements.js';

interface ClaimRow {
  id: number;
  resource: string;
  count: number;
  state: string;
  run_id: number;
  test_id: number;
  target: string;
  runname: string;
  testname: string;
  itempath: string;
  agent_id: number;
  host: string;
  pid: number;
  proc_start: number | null;
  since: number;
  renewed: number;
}

function mapClaimRow(r: ClaimRow): ResourceClaim {
  return {
    resource: r.resource,
    count: r.count,
    state: r.state === 'held' ? 'held' : 'waiting',
    runId: r.run_id,
    testId: r.test_id,
    target: r.target,
    runname: r.runname,
    testname: r.testname,
    itempath: r.itempath,
    agentId: r.agent_id,
    host: r.host,
    pid: r.pid,
    procStart: r.proc_start,
    since: r.since,
    renewed: r.renewed,
  };
}

export class ResourceRows {
  readonly #sql: StatementCache;

  constructor(sql: StatementCache) {
    this.#sql = sql;
  }

  /** The claims change number: every share taken or given back, and every wait begun or ended, takes a new one. */
  readSeq(): number {
    return (this.#sql.get(`SELECT seq FROM resource_counter WHERE id = 1`).get() as { seq: number }).seq;
  }

  /** Every claim, by resource, held before waiting, oldest first. */
  list(): ResourceClaim[] {
    const rows = this.#sql
      .get(`SELECT * FROM resource_claims ORDER BY resource, CASE state WHEN 'held' THEN 0 ELSE 1 END, since, id`)
      .all() as ClaimRow[];
    return rows.map(mapClaimRow);
  }

  /** The claims of one resource. */
  listOf(resource: string): ResourceClaim[] {
    const rows = this.#sql.get(`SELECT * FROM resource_claims WHERE resource = ? ORDER BY since, id`).all(resource) as ClaimRow[];
    return rows.map(mapClaimRow);
  }

  /** One test's claims. */
  listOfTest(runId: number, testId: number): ResourceClaim[] {
    const rows = this.#sql
      .get(`SELECT * FROM resource_claims WHERE run_id = ? AND test_id = ? ORDER BY resource`)
      .all(runId, testId) as ClaimRow[];
    return rows.map(mapClaimRow);
  }

  /** Records that the test holds (or waits for) `resource`; an existing row of the test takes the new state. */
  upsert(holder: ResourceHolder, resource: string, count: number, state: ResourceClaim['state'], now: number): void {
    this.#sql
      .get(
        `INSERT INTO resource_claims
           (resource, count, state, run_id, test_id, target, runname, testname, itempath, agent_id, host, pid, proc_start, since, renewed)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (resource, run_id, test_id) DO UPDATE SET
           count = excluded.count, agent_id = excluded.agent_id, host = excluded.host, pid = excluded.pid,
           proc_start = excluded.proc_start, renewed = excluded.renewed,
           since = CASE WHEN state = excluded.state THEN since ELSE excluded.since END,
           state = excluded.state`,
      )
      .run(
        resource,
        count,
        state,
        holder.runId,
        holder.testId,
        holder.target,
        holder.runname,
        holder.testname,
        holder.itempath,
        holder.agentId,
        holder.host,
        holder.pid,
        holder.procStart,
        now,
        now,
      );
  }

  /** Removes one claim row (a dead holder's, or a wait that ended). */
  delete(resource: string, runId: number, testId: number): void {
    this.#sql.get(`DELETE FROM resource_claims WHERE resource = ? AND run_id = ? AND test_id = ?`).run(resource, runId, testId);
  }

  /** Removes the claims of one test of a runner, or (testId undefined) all of the runner's; returns them. */
  deleteOf(runId: number, agentId: number, testId?: number): ResourceClaim[] {
    const rows = (
      testId === undefined
        ? this.#sql.get(`SELECT * FROM resource_claims WHERE run_id = ? AND agent_id = ?`).all(runId, agentId)
        : this.#sql.get(`SELECT * FROM resource_claims WHERE run_id = ? AND agent_id = ? AND test_id = ?`).all(runId, agentId, testId)
    ) as ClaimRow[];
    for (const r of rows) this.#sql.get(`DELETE FROM resource_claims WHERE id = ?`).run(r.id);
    return rows.map(mapClaimRow);
  }

  /** The runner's heartbeat renews its claims; false when it has none. */
  renew(runId: number, agentId: number, time: number): boolean {
    return (
      this.#sql.get(`UPDATE resource_claims SET renewed = max(renewed, ?) WHERE run_id = ? AND agent_id = ?`).run(time, runId, agentId)
        .changes > 0
    );
  }
}
