/**
 * The scheduler's graph of a run: one node per planned test, one job per test without items or
 * per item, each knowing its registered row and whether it runs now (design §6 reruns) or keeps
 * its recorded result. Pure: plan and rows in, nodes and jobs out.
 */
import type { Item } from '../config/types.js';
import type { TestRecord } from '../model/records.js';
import { isFinal, isSuccess } from '../model/states.js';
import type { PlannedTest } from './plan.js';
import type { RunPlan } from './run-plan.js';
import type { Job, StartPoint, TestNode } from './scheduler.js';

/** A job that starts at its first step, its row cleared if it is not pristine. */
export const FROM_THE_START: StartPoint = Object.freeze({ startAt: 0, reset: undefined, parked: false });

/** What the graph reads of a registered row. */
export type RegisteredRow = Pick<TestRecord, 'id' | 'state' | 'status' | 'rundir'>;

/** Which recorded results a run replaces (`trellis run --rerun …`). */
export interface RerunOptions {
  /** --resume: rerun the tests that did not succeed, from their failed step */
  resume?: boolean;
  rerun: string[];
  rerunClean: boolean;
  rerunAll: boolean;
}

export interface RunGraph {
  /** in dependency order */
  nodes: TestNode[];
  /** every job, including those added later by lazy items */
  jobs: Job[];
  /** the node of each planned test */
  nodeOf: ReadonlyMap<string, TestNode>;
  /** makes the jobs of items expanded late (lazy items), already registered */
  makeJobs(node: TestNode, items: readonly Item[], rows: readonly RegisteredRow[]): Job[];
}

/** Builds the graph from the plan and the registered rows (`rowOf(test, itempath)`). */
export function buildRunGraph(
  rp: RunPlan,
  rowOf: (test: string, itempath: string) => RegisteredRow,
  reruns: RerunOptions,
  startOf: (row: RegisteredRow, run: boolean) => StartPoint = () => FROM_THE_START,
): RunGraph {
  const planned = new Map(rp.plan.tests.map((p) => [p.def.name, p]));
  const nodeOf = new Map<string, TestNode>();
  const jobs: Job[] = [];
  const makeJob = (node: TestNode, p: PlannedTest, item: Item | undefined, row: RegisteredRow): Job => {
    const run = decideRerun(p.selected, row, reruns);
    return {
      key: item ? `${p.def.name}/${item.path}` : p.def.name,
      node,
      itempath: item?.path ?? '',
      item,
      row: { id: row.id, rundir: row.rundir, pristine: row.state === 'NOT_STARTED' && row.status === 'n/a' },
      priority: p.def.priority,
      jobgroup: p.def.jobgroup,
      run,
      selected: p.selected,
      phase: 'waiting',
      start: startOf(row, run),
      unmet: 0,
      status: run ? 'n/a' : row.status,
      comment: '',
      waiters: [],
    };
  };
  for (const p of rp.plan.tests) {
    const top = rowOf(p.def.name, '');
    const node: TestNode = {
      def: p.def,
      selected: p.selected,
      waitons: p.waitons.map((n) => nodeOf.get(n)!),
      row: { id: top.id, rundir: top.rundir },
      jobs: null,
      byPath: new Map(),
      pending: 0,
      unmetExpand: 0,
      done: false,
      status: 'n/a',
      waiters: [],
    };
    const items = rp.itemsOf.get(p.def.name);
    if (items !== null && items !== undefined) {
      // A loop, not a closure over rowOf: one would keep it (and every row) as long as makeJobs.
      const made: Job[] = [];
      if (p.def.hasItems) for (const it of items) made.push(makeJob(node, p, it, rowOf(p.def.name, it.path)));
      else made.push(makeJob(node, p, undefined, top));
      node.jobs = made;
      for (const job of made) jobs.push(job);
    }
    nodeOf.set(p.def.name, node);
  }
  return {
    nodes: [...nodeOf.values()],
    jobs,
    nodeOf,
    makeJobs(node, items, rows) {
      const p = planned.get(node.def.name)!;
      const made = items.map((it, i) => makeJob(node, p, it, rows[i]!));
      jobs.push(...made);
      return made;
    },
  };
}

/** Whether a job runs now or its recorded result stands (design §6 reruns). */
export function decideRerun(selected: boolean, row: Pick<TestRecord, 'state' | 'status'>, opts: RerunOptions): boolean {
  if (row.state !== 'COMPLETED' || !isFinal(row.state, row.status)) return true;
  if (!selected) return false;
  if (opts.rerunAll) return true;
  if (opts.resume && !isSuccess(row.status)) return true;
  if (opts.rerunClean && !isSuccess(row.status)) return true;
  return opts.rerun.includes(row.status);
}
