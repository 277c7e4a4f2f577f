/** Records for the dashboard's view-model tests: runs and cells as the change feed sends them. */
import type { CellRecord, FeedBatch, RunRecord } from '../../src/model/records.js';

export function makeRun(id: number, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    target: 'linux/x86_64',
    keys: { os: 'linux', arch: 'x86_64' },
    runname: `run${id}`,
    state: 'done',
    status: 'PASS',
    counts: { PASS: 2 },
    total: 2,
    created: 1000 + id,
    started: 1000 + id,
    ended: 1010 + id,
    updated: 1010 + id,
    lockedBy: null,
    lockedAt: null,
    params: {},
    ...over,
  };
}

let nextId = 1;
export function makeCell(
  testname: string,
  itempath = '',
  state: CellRecord['state'] = 'COMPLETED',
  status = 'PASS',
  id = nextId++,
): CellRecord {
  return { id, testname, itempath, state, status };
}

/** The first batch: every run, no cells. */
export function runsBatch(runs: RunRecord[], runsSeq = 10): FeedBatch {
  return { cursor: { runsSeq, runs: {} }, runs, removedRuns: [], cells: [] };
}

/** A batch carrying one run's cells. */
export function cellsBatch(
  runId: number,
  seq: number,
  cells: CellRecord[],
  opts: { full?: boolean; removed?: number[]; runsSeq?: number } = {},
): FeedBatch {
  return {
    cursor: { runsSeq: opts.runsSeq ?? 10, runs: { [runId]: seq } },
    runs: [],
    removedRuns: [],
    cells: [{ runId, seq, full: opts.full ?? false, cells, removed: opts.removed ?? [] }],
  };
}
