/** Records for the dashboard's view-model tests: runs and cells as the change feed sends them, agents as listHosts does. */
import type { HostView, QueuedJob } from '../../src/model/pool.js';
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

/** A registered agent as `listHosts` gives it: idle, 2 slots, on `NAME-host`, unless `over` says else. */
export function makeHost(name: string, over: Partial<HostView> = {}): HostView {
  return {
    name,
    host: `${name}-host`,
    user: 'tester',
    pid: 4242,
    procStart: null,
    slots: 2,
    tags: [],
    version: '0.1.0',
    state: 'running',
    session: `s-${name}`,
    started: 1000,
    heartbeat: 1000,
    ended: null,
    load: null,
    status: 'idle',
    jobs: [],
    ...over,
  };
}

/** A job an agent has taken: `label` (`test` or `test/item`) of run 1, linux/x86_64 `runname`. */
export function makeJob(label: string, runname: string): QueuedJob {
  return {
    id: nextId++,
    runId: 1,
    testId: 7,
    launchId: `L-${label}`,
    specFile: `/runs/${label}/.trellis-job.json`,
    target: 'linux/x86_64',
    runname,
    label,
    tags: [],
    hosts: [],
    runnerAgentId: 1,
    state: 'claimed',
    agent: 'alpha',
    agentSession: 's-alpha',
    tried: [],
    requeuesLeft: 1,
    queued: 1000,
    claimed: 1001,
    ended: null,
    note: '',
  };
}
