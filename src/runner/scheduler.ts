/**
 * The event-driven scheduler. Each test of the plan is a node; each runnable unit (a test without
 * items, or one item) is a job. A job waits on its prerequisites (by waiton mode), enters the ready
 * queue when they are met, and is launched when a slot is free. A finishing job wakes whatever
 * waited on it; a failed prerequisite marks its dependents PREQ_FAIL at once, down the chain.
 * Nothing polls: every transition is a consequence of another.
 */
import type { Item, TestDefinition } from '../config/types.js';
import type { TestRecord } from '../model/records.js';
import { displayName } from '../model/display-name.js';
import { isSuccess, worstStatus } from '../model/states.js';
import { JobQueue } from './job-queue.js';

export interface Job {
  readonly key: string;
  readonly node: TestNode;
  readonly itempath: string;
  readonly item: Item | undefined;
  readonly row: JobRow;
  readonly priority: number;
  readonly jobgroup: string | undefined;
  /** run it (else its recorded result stands) */
  readonly run: boolean;
  /** selected by the pattern, so its outcome decides the exit code */
  readonly selected: boolean;
  /**
   * `blocked`: it had its slot but a shared resource had no share left, so it gave the slot back
   * and waits for a share (requeue); `ending`: it ended and gave back its slot, but its end is not
   * recorded yet; `parked`: it waits for the sign-off of a manual step, holding no slot, and what
   * waits on it keeps waiting
   */
  phase: 'waiting' | 'ready' | 'running' | 'blocked' | 'ending' | 'parked' | 'done';
  /** where it starts when launched: a resume's or a sign-off's step, else the beginning */
  start: StartPoint;
  unmet: number;
  status: string;
  comment: string;
  waiters: Waiter[];
}

/**
 * What a job keeps of its registered row for the whole run. A run of 100,000 items holds 100,000
 * of them: the whole record (its 26 fields, a string of its own for each state, its item's
 * variables again) held 0.3 KB a job more, and V8 grows its heap to a multiple of what is live
 * (docs/benchmarks.md, "The runner's memory").
 */
export interface JobRow {
  readonly id: number;
  readonly rundir: string;
  /** NOT_STARTED with status n/a when registered: nothing of an earlier attempt to clear */
  readonly pristine: boolean;
}

/** Where a job starts (docs/workflows.md): the step index, and whether the row is cleared first. */
export interface StartPoint {
  /** index in the test's steps (its runscript last) of the first step to run */
  startAt: number;
  /** clear the row (from `startAt` on) before running; false when it goes on after a sign-off */
  reset: boolean | undefined;
  /** it was parked on a sign-off when the run began: it waits for the approval, not its turn */
  parked: boolean;
}

export interface TestNode {
  readonly def: TestDefinition;
  readonly selected: boolean;
  readonly waitons: TestNode[];
  readonly row: Pick<TestRecord, 'id' | 'rundir'>;
  /** null until its items are known (lazy `[system …]` items wait for the prerequisites) */
  jobs: Job[] | null;
  byPath: Map<string, Job>;
  pending: number;
  /** prerequisites a lazy test still waits on before expanding its items */
  unmetExpand: number;
  done: boolean;
  status: string;
  waiters: Waiter[];
}

/** Something waiting on a job or a test: a job, or a lazy test waiting to expand its items. */
interface Waiter {
  readonly job?: Job;
  readonly expand?: TestNode;
  /** a prerequisite that did not succeed makes the waiter PREQ_FAIL */
  readonly needSuccess: boolean;
}

export interface SchedulerHooks {
  /** start a job; call `release` when it ends, then `finish` once its end is recorded */
  launch(job: Job): void;
  /** a job or a never-ran test settled without launching (PREQ_FAIL, ZERO_ITEMS, killed while queued) */
  settle(rowId: number, status: string, comment: string, job?: Job): void;
  /** expand a lazy test's items; resolves with the jobs to add (already registered) */
  expand(node: TestNode): Promise<Job[]>;
  /** everything is done */
  idle(): void;
}

export class Scheduler {
  readonly #queue: JobQueue<Job>;
  readonly #hooks: SchedulerHooks;
  #outstanding = 0;
  /** jobs that gave back their slot but whose end is not recorded yet */
  #ending = 0;
  #stopped = false;

  constructor(limit: number, groups: ReadonlyMap<string, number>, hooks: SchedulerHooks) {
    this.#queue = new JobQueue<Job>(limit, groups);
    this.#hooks = hooks;
  }

  get running(): number {
    return this.#queue.running;
  }

  get waiting(): number {
    return this.#queue.waiting;
  }

  /** Wires the nodes (in dependency order) and starts whatever is ready. */
  start(nodes: readonly TestNode[]): void {
    this.#outstanding += nodes.length;
    for (const node of nodes) {
      if (node.jobs === null) this.#waitToExpand(node);
      else this.#addJobs(node, node.jobs);
    }
    this.#pump();
    this.#checkIdle();
  }

  /**
   * A launched job ended: its slot goes to the next ready job at once, while what waits on it keeps
   * waiting until `finish` says its end is recorded (design §6: a test's end is durable before
   * anything that depends on it starts).
   */
  release(job: Job): void {
    if (job.phase !== 'running') return;
    job.phase = 'ending';
    this.#ending++;
    this.#queue.release(job);
    this.#pump();
  }

  /** Reports a launched job's end, once it is recorded (releasing its slot if `release` did not). */
  finish(job: Job, status: string, comment: string): void {
    if (job.phase === 'running') this.#queue.release(job);
    else if (job.phase === 'ending') {
      this.#ending--;
      job.phase = 'running';
    }
    this.#complete(job, status, comment);
    this.#pump();
    this.#checkIdle();
  }

  /**
   * A job taken for launch cannot start yet (a shared resource has no share left): it gives its
   * slot to the next ready job and waits, holding none, until `requeue`.
   */
  defer(job: Job): void {
    if (job.phase !== 'running') return;
    job.phase = 'blocked';
    this.#queue.release(job);
    this.#pump();
    this.#checkIdle();
  }

  /**
   * A launched job reached a manual step: its slot goes to the next job at once, and it waits,
   * holding nothing, for `resume` (approved) or `finish` (rejected, killed).
   */
  park(job: Job): void {
    if (job.phase === 'running') this.#queue.release(job);
    else if (job.phase === 'ending') this.#ending--;
    else return;
    job.phase = 'parked';
    this.#pump();
    this.#checkIdle();
  }

  /** A deferred job may start now: it queues for a slot again (with its priority). */
  requeue(job: Job): void {
    if (job.phase !== 'blocked') return;
    this.#ready(job);
    this.#pump();
  }

  /** A parked job was approved: it queues for a slot again, to go on from `job.start`. */
  resume(job: Job): void {
    if (job.phase !== 'parked' || this.#stopped) return;
    this.#ready(job);
    this.#pump();
  }

  /** Marks a job not yet launched as ended (killed while queued). */
  cancel(job: Job, status: string, comment: string): void {
    if (job.phase === 'running' || job.phase === 'ending' || job.phase === 'done') return;
    this.#hooks.settle(job.row.id, status, comment, job);
    this.#complete(job, status, comment);
    this.#pump();
    this.#checkIdle();
  }

  /** Stops launching; queued jobs stay NOT_STARTED. Returns how many were dropped. */
  stop(): number {
    this.#stopped = true;
    const dropped = this.#queue.drain();
    this.#checkIdle();
    return dropped.length;
  }

  #addJobs(node: TestNode, jobs: Job[]): void {
    node.jobs = jobs;
    node.byPath = new Map(jobs.map((j) => [j.itempath, j]));
    node.pending = jobs.length;
    if (jobs.length === 0) {
      const status = node.def.hasItems ? 'ZERO_ITEMS' : 'n/a';
      this.#hooks.settle(node.row.id, status, `${node.def.name} has no items`);
      this.#completeNode(node, status);
      return;
    }
    for (const job of jobs) {
      if (!job.run) {
        job.phase = 'done';
        node.pending--;
        continue;
      }
      // Parked on a sign-off by an earlier runner: its prerequisites were met then.
      if (job.start.parked) {
        job.phase = 'parked';
        continue;
      }
      for (const waiton of node.waitons) this.#wire(job, waiton);
      if (job.phase === 'waiting' && job.unmet === 0) this.#ready(job);
    }
    if (node.pending === 0) this.#completeNode(node, this.#nodeStatus(node));
  }

  /** Makes `job` wait on the prerequisite test `dep` as its test's waiton mode says. */
  #wire(job: Job, dep: TestNode): void {
    if (job.phase === 'done') return;
    const mode = job.node.def.mode;
    const needSuccess = mode !== 'toplevel';
    let target: Job | TestNode = dep;
    if (mode === 'itemwait' && job.itempath !== '' && dep.jobs && dep.def.hasItems) {
      const mapped = mapItemPath(job.itempath, job.node.def);
      target = dep.byPath.get(mapped) ?? dep;
    }
    const settled = 'node' in target ? target.phase === 'done' : target.done;
    if (settled) {
      if (needSuccess && !isSuccess(target.status)) this.#preqFail(job, labelOf(target));
      return;
    }
    job.unmet++;
    target.waiters.push({ job, needSuccess });
  }

  #waitToExpand(node: TestNode): void {
    let unmet = 0;
    for (const dep of node.waitons) {
      if (dep.done) {
        if (node.def.mode !== 'toplevel' && !isSuccess(dep.status)) {
          this.#preqFailNode(node, dep.def.name, dep.status);
          return;
        }
        continue;
      }
      unmet++;
      dep.waiters.push({ expand: node, needSuccess: node.def.mode !== 'toplevel' });
    }
    node.unmetExpand = unmet;
    if (unmet === 0) this.#expand(node);
  }

  #expand(node: TestNode): void {
    if (this.#stopped) return;
    this.#outstanding++;
    this.#hooks.expand(node).then(
      (jobs) => {
        this.#outstanding--;
        if (!this.#stopped) this.#addJobs(node, jobs);
        this.#pump();
        this.#checkIdle();
      },
      (err: Error) => {
        this.#outstanding--;
        this.#hooks.settle(node.row.id, 'ABORT', `items could not be expanded: ${err.message}`);
        this.#completeNode(node, 'ABORT');
        this.#pump();
        this.#checkIdle();
      },
    );
  }

  #ready(job: Job): void {
    if (this.#stopped) return;
    job.phase = 'ready';
    this.#queue.push(job);
  }

  #pump(): void {
    if (this.#stopped) return;
    for (let job = this.#queue.next(); job; job = this.#queue.next()) {
      // A queued job cancelled by a kill request is still in the heap: drop it, free its slot.
      if (job.phase === 'done') {
        this.#queue.release(job);
        continue;
      }
      job.phase = 'running';
      this.#hooks.launch(job);
    }
  }

  #preqFail(job: Job, what: string): void {
    const comment = `waits on ${what}, which did not succeed`;
    this.#hooks.settle(job.row.id, 'PREQ_FAIL', comment, job);
    this.#complete(job, 'PREQ_FAIL', comment);
  }

  #preqFailNode(node: TestNode, dep: string, status: string): void {
    const comment = `waits on ${dep} (${status})`;
    this.#hooks.settle(node.row.id, 'PREQ_FAIL', comment);
    node.jobs = [];
    this.#completeNode(node, 'PREQ_FAIL');
  }

  #complete(job: Job, status: string, comment: string): void {
    if (job.phase === 'done') return;
    job.phase = 'done';
    job.status = status;
    job.comment = comment;
    this.#notify(job.waiters, status, labelOf(job));
    job.waiters = [];
    const node = job.node;
    if (--node.pending === 0) this.#completeNode(node, this.#nodeStatus(node));
  }

  #completeNode(node: TestNode, status: string): void {
    if (node.done) return;
    node.done = true;
    node.status = status;
    this.#outstanding--;
    this.#notify(node.waiters, status, node.def.name);
    node.waiters = [];
  }

  #notify(waiters: Waiter[], status: string, label: string): void {
    // After a stop (Ctrl-C) a test ends KILLED/ABORT; what waits on it never got its chance and
    // stays NOT_STARTED, not PREQ_FAIL, so the next run simply runs it.
    if (this.#stopped) return;
    for (const w of waiters) {
      const failed = w.needSuccess && !isSuccess(status);
      if (w.job) {
        if (w.job.phase !== 'waiting') continue;
        if (failed) this.#preqFail(w.job, `${label} (${status})`);
        else if (--w.job.unmet === 0) this.#ready(w.job);
      } else if (w.expand && !w.expand.done) {
        if (failed) this.#preqFailNode(w.expand, label, status);
        else if (--w.expand.unmetExpand === 0) this.#expand(w.expand);
      }
    }
  }

  #nodeStatus(node: TestNode): string {
    return worstStatus((node.jobs ?? []).map((j) => j.status));
  }

  #checkIdle(): void {
    const busy = this.#queue.running > 0 || this.#ending > 0 || (!this.#stopped && this.#outstanding > 0);
    if (!busy) this.#hooks.idle();
  }
}

function labelOf(target: Job | TestNode): string {
  if ('node' in target) return displayName({ testname: target.node.def.name, itempath: target.itempath });
  return target.def.name;
}

/** Applies [requirements] itemmap rules, in order, to an item path. */
export function mapItemPath(itempath: string, def: TestDefinition): string {
  let out = itempath;
  for (const rule of def.itemmap) out = out.replace(rule.regex, rule.replacement);
  return out;
}
