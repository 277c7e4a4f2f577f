/**
 * The workflow side of a run (docs/workflows.md): where each job starts (parked on a sign-off,
 * going on after one, resumed from its failed step, or from the beginning), and, while the run
 * goes on, the sign-offs of its parked tests, which the runner learns from the store.
 */
import type { TestDefinition } from '../config/types.js';
import type { TestDetail, TestRecord } from '../model/records.js';
import { awaitsSignOff, isFinal, isSuccess } from '../model/states.js';
import type { Store } from '../store/store.js';
import { TrellisError } from '../util/errors.js';
import type { RunExecutor } from './executor.js';
import { stepsOf } from './job-run.js';
import { continuationPoint, startPointOf } from './resume-point.js';
import type { RerunOptions } from './run-graph.js';
import type { StartPoint } from './scheduler.js';

/**
 * Reads the rows that start somewhere other than the beginning (WAITING rows; with --resume, the
 * failed ones) and returns each row's start point. `--from-step NAME` must name a step of some
 * planned test.
 */
export async function planStarts(
  store: Store,
  runId: number,
  tests: ReadonlyArray<{ def: TestDefinition; selected: boolean }>,
  opts: RerunOptions & { fromStep?: string | undefined },
): Promise<(row: Pick<TestRecord, 'id'>, run: boolean) => StartPoint> {
  const defs = new Map(tests.map((t) => [t.def.name, t.def]));
  if (opts.fromStep !== undefined) {
    const selected = tests.filter((t) => t.selected);
    if (!selected.some((t) => stepsOf(t.def).some((s) => s.name === opts.fromStep))) {
      throw new TrellisError(
        'NO_STEP',
        `--from-step ${opts.fromStep}: no selected test has a step of that name`,
        `name one of their steps: ${[...new Set(selected.flatMap((t) => stepsOf(t.def).map((s) => s.name)))].join(', ') || 'none'}`,
      );
    }
  }
  // Without --resume only WAITING rows start elsewhere: asked for by state (an index), where the
  // whole run read here was, at 100,000 items, a 40 MB answer parsed into records for nothing.
  const wanted =
    opts.resume === true
      ? (await store.listTests(runId)).filter((r) => r.state === 'WAITING' || (!isSuccess(r.status) && r.status !== 'n/a'))
      : await store.listTests(runId, { state: ['WAITING'] });
  const details = new Map<number, TestDetail>();
  // One call for the whole run when many rows need their steps; one per row when few do.
  if (wanted.length > 20) for (const d of await store.listDetails(runId)) details.set(d.id, d);
  else
    for (const r of wanted) {
      const d = await store.getTestById(runId, r.id);
      if (d) details.set(d.id, d);
    }
  const points = new Map<number, StartPoint>();
  for (const r of wanted) {
    const def = defs.get(r.testname);
    // A toplevel row of a test with items only rolls its items up.
    if (def === undefined || (def.hasItems && r.itempath === '')) continue;
    const selected = tests.find((t) => t.def.name === r.testname)?.selected === true;
    points.set(r.id, startPointOf(stepsOf(def), details.get(r.id), { resume: opts.resume === true && selected, fromStep: opts.fromStep }));
  }
  return (row, run) => (run ? (points.get(row.id) ?? FROM_START) : FROM_START);
}

const FROM_START: StartPoint = Object.freeze({ startAt: 0, reset: undefined, parked: false });

/**
 * One look at the parked jobs' rows: approved ones go on with their next step, rejected or
 * otherwise ended ones end (what waits on them learns), the others keep waiting.
 */
export async function checkSignOffs(store: Store, runId: number, exec: RunExecutor): Promise<void> {
  const parked = exec.parkedJobs();
  if (parked.length === 0) return;
  const rows = new Map((await store.listTests(runId)).map((r) => [r.id, r]));
  for (const job of parked) {
    const row = rows.get(job.row.id);
    if (row === undefined) {
      exec.endedWhileParked(job, 'ABORT', 'removed while it waited for its sign-off');
      continue;
    }
    if (awaitsSignOff(row) || row.state === 'KILLREQ') continue;
    if (row.state === 'WAITING') {
      const detail = await store.getTestById(runId, row.id);
      if (detail && !awaitsSignOff(detail)) exec.signedOff(job, continuationPoint(stepsOf(job.node.def), detail.steps));
      continue;
    }
    if (isFinal(row.state, row.status)) exec.endedWhileParked(job, row.status, row.comment);
  }
}
