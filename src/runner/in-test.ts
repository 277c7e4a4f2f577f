/**
 * The in-test helpers (`trellis step`, `test-status`, `set-value`): a test's scripts report on
 * themselves, like Megatest's -step / -test-status / -set-values. They find their test from the
 * environment the runner gives every test.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { WriteOp, WriteOptions } from '../model/records.js';
import type { Store } from '../store/store.js';
import { TrellisError } from '../util/errors.js';
import { whoAmI } from '../util/host.js';
import { judgeValue } from '../model/value-check.js';

export interface TestAddress {
  runArea: string;
  runId: number;
  testId: number;
  /** TRELLIS_REPORT_MARK: touched after a status or value is reported, for the runner */
  reportMark: string | undefined;
  /** who reports, and whether to write to a locked run (--force, or TRELLIS_FORCE=1 from a forced run) */
  write?: WriteOptions;
}

/**
 * Reads TRELLIS_RUN_AREA, TRELLIS_RUN_ID and TRELLIS_TEST_ID; NO_ENV when run outside a test. Writes
 * are forced with `force` (--force) or TRELLIS_FORCE=1 (set by a forced run).
 */
export function testFromEnv(env: Readonly<Record<string, string | undefined>>, command: string, force = false): TestAddress {
  const runArea = env['TRELLIS_RUN_AREA'];
  const runId = Number(env['TRELLIS_RUN_ID']);
  const testId = Number(env['TRELLIS_TEST_ID']);
  if (!runArea || !Number.isInteger(runId) || !Number.isInteger(testId) || runId <= 0 || testId <= 0) {
    throw new TrellisError(
      'NO_ENV',
      `trellis ${command} must run inside a test started by trellis run (TRELLIS_RUN_AREA, TRELLIS_RUN_ID and TRELLIS_TEST_ID are not set)`,
      'call it from a step or runscript',
    );
  }
  const write = { force: force || env['TRELLIS_FORCE'] === '1', who: whoAmI(env) };
  return { runArea, runId, testId, reportMark: env['TRELLIS_REPORT_MARK'] || undefined, write };
}

/** Tells the runner that the test reported a status or value it must read back at the end. */
function markReported(at: TestAddress): void {
  if (at.reportMark === undefined) return;
  try {
    writeFileSync(at.reportMark, '');
  } catch (err) {
    throw new TrellisError(
      'RUNAREA_UNWRITABLE',
      `recorded, but cannot write ${at.reportMark} to tell the runner (${(err as Error).message})`,
      "keep the test's work folder writable, or the runner will not see what the test reported",
    );
  }
}

/** Records a step starting or ending. */
export async function reportStep(
  store: Store,
  at: TestAddress,
  step: { name: string; phase: 'start' | 'end'; status?: string; now: number },
): Promise<void> {
  const op: WriteOp = {
    kind: 'step',
    opId: randomUUID(),
    testId: at.testId,
    name: step.name,
    state: step.phase === 'start' ? 'RUNNING' : 'COMPLETED',
    status: step.phase === 'start' ? 'n/a' : (step.status ?? 'PASS'),
    time: step.now,
  };
  await store.write(at.runId, [op], at.write);
}

/** Sets the test's own state/status/comment (the runner keeps the worse of this and its steps). */
export async function reportTestStatus(
  store: Store,
  at: TestAddress,
  report: { state?: string; status?: string; message?: string; now: number },
): Promise<void> {
  const set: Record<string, string> = {};
  if (report.status) set['status'] = report.status;
  if (report.message !== undefined) set['comment'] = report.message;
  if (report.state) set['state'] = report.state;
  await store.write(at.runId, [{ kind: 'test', opId: randomUUID(), testId: at.testId, set, time: report.now }], at.write);
  markReported(at);
}

/** Records a value with its expectation and the status judged from it. */
export async function reportValue(
  store: Store,
  at: TestAddress,
  v: { name: string; value: string; expected?: string; tol?: string; units?: string; now: number },
): Promise<string> {
  const judged = judgeValue(v.value, v.expected, v.tol);
  if (judged.problem)
    throw new TrellisError('BAD_VALUE', `set-value ${v.name}: ${judged.problem}`, "e.g. --tol 0.5, --tol 10% or --tol '<'");
  await store.write(
    at.runId,
    [
      {
        kind: 'data',
        opId: randomUUID(),
        testId: at.testId,
        name: v.name,
        value: v.value,
        expected: v.expected ?? null,
        tol: v.tol ?? null,
        units: v.units ?? null,
        status: judged.status,
        time: v.now,
      },
    ],
    at.write,
  );
  markReported(at);
  return judged.status;
}
