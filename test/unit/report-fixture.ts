/**
 * Hand-made run results for the reporter tests: `row('unit', 'core/O2', { status: 'FAIL' })`,
 * `step(7, 'build', 'FAIL', 1)`, and a run record to go with them.
 */
import type { RunRecord, StepRecord, TestDetail } from '../../src/model/records.js';
import type { ReportInput } from '../../src/report/reporters.js';
import type { LogExcerpt } from '../../src/util/log-excerpt.js';

export const T0 = 1_795_000_000;

export function runRecord(extra: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 1,
    target: 'linux/x86_64',
    keys: { OS: 'linux', ARCH: 'x86_64' },
    runname: 'nightly',
    state: 'done',
    status: 'FAIL',
    counts: {},
    total: 0,
    created: T0,
    started: T0 + 1,
    ended: T0 + 60,
    updated: T0 + 60,
    lockedBy: null,
    lockedAt: null,
    params: {},
    ...extra,
  };
}

let nextId = 1;

/** A test (itempath '') or item row, COMPLETED/PASS on host h1 unless told otherwise. */
export function row(testname: string, itempath: string, extra: Partial<TestDetail> = {}): TestDetail {
  const id = nextId++;
  return {
    id,
    runId: 1,
    testname,
    itempath,
    state: 'COMPLETED',
    status: 'PASS',
    comment: '',
    host: 'h1',
    pid: 10,
    rundir: `/runs/${testname}/${itempath}`,
    priority: 0,
    start: T0 + 2,
    end: T0 + 3.5,
    duration: 1.5,
    agentId: 1,
    launcher: 'local',
    jobId: '',
    launchId: '',
    itemVars: {},
    owner: '',
    description: '',
    tags: '',
    updated: T0 + 4,
    steps: [],
    data: [],
    rules: [],
    ...extra,
  };
}

/** A step of a row, its log at `/logs/<test id>/<name>.log`. */
export function step(t: TestDetail, name: string, status: string, exitCode: number | null, extra: Partial<StepRecord> = {}): StepRecord {
  const s: StepRecord = {
    testId: t.id,
    name,
    seq: t.steps.length + 1,
    state: 'COMPLETED',
    status,
    exitCode,
    start: T0 + 2,
    end: T0 + 3,
    logfile: `/logs/${t.id}/${name}.log`,
    comment: '',
    pid: null,
    procStart: null,
    ...extra,
  };
  t.steps.push(s);
  return s;
}

/** A whole log that fits (nothing cut). */
export function wholeLog(text: string): LogExcerpt {
  return { size: Buffer.byteLength(text), head: text, tail: '', cut: 0 };
}

/** Report input over `tests` with `logs` by file. */
export function reportInput(tests: TestDetail[], logs: Record<string, LogExcerpt> = {}, extra: Partial<ReportInput> = {}): ReportInput {
  return { run: runRecord(), tests, logs: new Map(Object.entries(logs)), now: T0 + 100, logMode: 'failed', ...extra };
}
