/** RunColumns (model/records.ts) made from runs, and cut down to some of them. */
import type { RunColumns, RunRecord } from './records.js';

/** The columns of these runs, in their order. */
export function runColumnsOf(runs: readonly RunRecord[]): RunColumns {
  return {
    id: runs.map((r) => r.id),
    target: runs.map((r) => r.target),
    runname: runs.map((r) => r.runname),
    state: runs.map((r) => r.state),
    status: runs.map((r) => r.status),
    total: runs.map((r) => r.total),
    created: runs.map((r) => r.created),
    updated: runs.map((r) => r.updated),
    closedAt: runs.map((r) => r.closedAt ?? null),
    counts: runs.map((r) => r.counts),
  };
}

/** The runs at these indexes (in this order). */
export function pickRunColumns(c: RunColumns, rows: readonly number[]): RunColumns {
  const pick = <T>(list: T[]) => rows.map((i) => list[i]!);
  return {
    id: pick(c.id),
    target: pick(c.target),
    runname: pick(c.runname),
    state: pick(c.state),
    status: pick(c.status),
    total: pick(c.total),
    created: pick(c.created),
    updated: pick(c.updated),
    closedAt: pick(c.closedAt),
    counts: pick(c.counts),
  };
}
