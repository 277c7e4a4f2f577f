/**
 * The direct store: opens the run area's SQLite files in this process. main.db stays open; each
 * run's database is opened on first use and kept. Every batch is one transaction on the run's
 * database, inside which the run's summary row and its outcomes in main.db's history index are
 * refreshed.
 */
import type { MainDb, RunSummary } from '../db/main-db.js';
import { mapStorageError } from '../db/open.js';
import { moveRunDbAside, retireRunDbFiles } from '../db/run-files.js';
import { MainDbHandle } from './main-db-handle.js';
import type { RunDb } from '../db/run-db.js';
import { runAreaPaths, type RunAreaPaths } from '../config/paths.js';
import type {
  AgentRecord,
  EventRecord,
  FeedBatch,
  FeedCursor,
  RunColumns,
  RunQuery,
  RunRecord,
  TestDetail,
  TestQuery,
  TestRecord,
  TestRegistration,
  WriteOp,
  WriteOptions,
} from '../model/records.js';
import { describeParams } from '../model/run-params.js';
import { FINAL_STATES, RUN_STATES, type RunState } from '../model/states.js';
import { isTrellisError, TrellisError } from '../util/errors.js';
import { isPidAlive, killStepGroup } from '../util/process-info.js';
import { applyOps, registerRows, removeRows } from './apply-ops.js';
import { readChanges } from './feed.js';
import { RunDbCache } from './run-db-cache.js';
import { claimRunner, describeAgent, reapDeadTests, type GroupKill, type LivenessContext, type PidCheck } from './liveness.js';
import { checkRunLock } from './run-lock.js';
import { checkAdmin, checkSignOff, OPEN_POLICY, type AccessPolicy } from '../model/access.js';
import { readRunState, summarizeRun } from './run-summary.js';
import { showTestBy, type ShowQuery, type TestShow } from '../model/show-test.js';
import type { AgentSpec, JobClaim, JsonTextAnswers, LivenessOptions, OrphanStep, RunSpec, Store } from './store.js';
import { claimJob } from './job-claim.js';
import { createTracker, mergeTracker, rollUpParents, type ChangeTracker } from './test-changes.js';
import { appendResultRows } from './external-results.js';
import type { ExternalResult, HistoryQuery, OutcomeJob, OutcomeRecord, OutcomeSummary, OutcomeSummaryQuery } from '../model/records.js';
import { displayName } from '../model/display-name.js';
import { removeLaunchJournals } from './launch-journal.js';
import { hasOutcomeChanges, indexOutcomes } from './outcome-index.js';
import { readHistory, summarizeOutcomes, toJobOutcome } from './outcome-queries.js';
import {
  describeClaimant,
  type ResourceAnswer,
  type ResourceClaim,
  type ResourceRelease,
  type ResourceRequest,
} from '../model/resources.js';
import { claimResources, freeDeadClaims } from './resource-claims.js';
import type {
  CarriedWrites,
  HostView,
  JobEnd,
  JobRequest,
  PoolAgentRecord,
  PoolAgentSpec,
  PoolHeartbeat,
  QueuedJob,
  TakenJob,
} from '../model/pool.js';
import {
  beat,
  drainAgent,
  endJob,
  failUntakeable,
  hasBegun,
  hostViews,
  leave,
  noTakerReason,
  orphanedJobs,
  reapHooksFor,
  registerAgent,
  takeJobs,
  takersOf,
} from './pool.js';
import { randomUUID } from 'node:crypto';

export interface DirectStoreOptions {
  /** this host's name: agents recorded with it are checked by pid, others by heartbeat */
  host: string;
  /** the clock, in seconds since the epoch */
  now?: () => number;
  isPidAlive?: PidCheck;
  /** ends the steps a dead agent left running on this host; default: SIGKILL to their groups */
  killGroup?: GroupKill;
  /** who may do what (model/access.ts): the area's [setup]; default: anyone may */
  access?: { current(): AccessPolicy };
  /**
   * The user a write is checked as when its options name none: this process's own user with
   * --direct. A server leaves it unset: its writes name the user their signature proved.
   */
  localUser?: string;
}

/** Opens the run area's databases in this process (creating main.db on first use). */
export function openDirectStore(runArea: string, opts: DirectStoreOptions): DirectStore {
  return new DirectStore(runAreaPaths(runArea), opts);
}

const DEFAULT_EVENT_LIMIT = 1000;

/** Least time between two sweeps of the pool by claims (seconds of the caller's clock). */
const CLAIM_SWEEP_S = 0.25;

/** Store over the SQLite files of one run area. */
export class DirectStore implements Store, JsonTextAnswers {
  readonly #paths: RunAreaPaths;
  readonly #mainDb: MainDbHandle;
  readonly #runDbs: RunDbCache;
  readonly #host: string;
  readonly #now: () => number;
  readonly #isPidAlive: PidCheck;
  readonly #killGroup: GroupKill;
  readonly #access: { current(): AccessPolicy };
  readonly #localUser: string | undefined;
  #areaId: string | undefined;
  /** the caller's clock at the last housekeeping of the pool done by a claim */
  #lastClaimSweep = Number.NEGATIVE_INFINITY;

  constructor(paths: RunAreaPaths, opts: DirectStoreOptions) {
    this.#paths = paths;
    this.#host = opts.host;
    this.#now = opts.now ?? (() => Date.now() / 1000);
    this.#isPidAlive = opts.isPidAlive ?? isPidAlive;
    this.#killGroup = opts.killGroup ?? killStepGroup;
    this.#access = opts.access ?? { current: () => OPEN_POLICY };
    this.#localUser = opts.localUser;
    this.#mainDb = new MainDbHandle(paths, this.#now);
    this.#runDbs = new RunDbCache((id) => paths.runDb(id));
  }

  /** The runs index (checked at the start of each call, in #guard). */
  get #main(): MainDb {
    return this.#mainDb.db;
  }

  async areaId(): Promise<string> {
    return this.#guard(() => (this.#areaId ??= this.#main.readAreaId()));
  }

  async ensureRun(spec: RunSpec): Promise<RunRecord> {
    return this.#guard(() => {
      const { run, created } = this.#main.insertRun(spec.target, spec.runname, spec.keys, this.#now());
      // A file under a brand-new id is left from an earlier main.db: never mix it into this run.
      if (created) moveRunDbAside(this.#paths.runDb(run.id), Math.round(this.#now()));
      this.#runDb(run, created);
      return run;
    });
  }

  async findRun(target: string, runname: string): Promise<RunRecord | undefined> {
    return this.#guard(() => this.#main.findRun(target, runname));
  }

  async getRun(runId: number): Promise<RunRecord | undefined> {
    return this.#guard(() => this.#main.getRun(runId));
  }

  async listRuns(query?: RunQuery): Promise<RunRecord[]> {
    return this.#guard(() => this.#main.listRuns(query));
  }

  async listRunColumns(query?: RunQuery): Promise<RunColumns> {
    return this.#guard(() => this.#main.listRunColumns(query));
  }

  async showTest(query: ShowQuery, liveness: LivenessOptions): Promise<TestShow | undefined> {
    return showTestBy(this, query, liveness);
  }

  async listRunColumnsJson(query?: RunQuery): Promise<string> {
    return this.#guard(() => this.#main.runColumnsJson(query));
  }

  async setRunState(runId: number, state: RunState, options: WriteOptions = {}): Promise<RunRecord> {
    return this.#guard(() => {
      if (!(RUN_STATES as readonly string[]).includes(state)) {
        throw new TrellisError('BAD_VALUE', `unknown run state '${state}'`, `use one of ${RUN_STATES.join(', ')}`);
      }
      const { rdb, run } = this.#open(runId);
      if (run.state === 'locked' && state !== 'locked') {
        checkAdmin(this.#access.current(), this.#userOf(options), run.closedAt === undefined ? 'unlock runs' : 'reopen closed runs');
      }
      const now = this.#now();
      const who = options.who ?? '';
      rdb.transaction(() => {
        const before = this.#main.getRun(runId)!;
        if (state === 'locked') {
          // Locking a locked run keeps who locked it first.
          if (before.state === 'locked') return;
          this.#main.setState(runId, 'locked', who, now);
          rdb.log.addEvent(now, null, 'lock', `locked (was ${before.state})`, who);
          return;
        }
        // Any other state unlocks: the run takes the state its tests and runner give it.
        const after = this.#summarize(rdb, before, now).state;
        this.#main.setState(runId, after, who, now);
        if (before.state === 'locked') rdb.log.addEvent(now, null, 'unlock', `unlocked (now ${after})`, who);
        else if (before.state !== after) rdb.log.addEvent(now, null, 'run', after, who);
      });
      return this.#open(runId).run;
    });
  }

  async closeRun(runId: number, options: WriteOptions = {}): Promise<RunRecord> {
    return this.#guard(() => {
      const { rdb } = this.#open(runId);
      const now = this.#now();
      const who = options.who ?? '';
      rdb.transaction(() => {
        const before = this.#main.getRun(runId)!;
        if (before.closedAt !== undefined) return;
        this.#main.setState(runId, 'locked', before.state === 'locked' ? (before.lockedBy ?? who) : who, now, true);
        rdb.log.addEvent(now, null, 'lock', `closed (was ${before.state})`, who);
      });
      return this.#open(runId).run;
    });
  }

  async appendResult(runId: number, result: ExternalResult, options: WriteOptions = {}): Promise<TestDetail> {
    const { run } = await this.#guard(() => this.#open(runId));
    const workDir = this.#paths.workDir(
      run.target.split('/'),
      run.runname,
      result.testname,
      result.itempath === '' ? [] : result.itempath.split('/'),
    );
    const id = await this.#batch(runId, options, `result of ${displayName(result)}`, (rdb, who, tracker, now) =>
      appendResultRows(rdb, run, result, workDir, now, who, tracker),
    );
    return (await this.getTestById(runId, id))!;
  }

  async setRunParams(runId: number, params: Record<string, string>, options: WriteOptions = {}): Promise<RunRecord> {
    return this.#guard(() => {
      const { run, rdb } = this.#open(runId);
      const forced = this.#checkLock(run, options, 'recording of the run parameters');
      if (sameParams(run.params, params)) return run;
      const now = this.#now();
      const who = options.who ?? '';
      rdb.transaction(() => {
        if (forced !== undefined) rdb.log.addEvent(now, null, 'forced', forced, who);
        this.#main.setParams(runId, params, now);
        rdb.log.addEvent(now, null, 'params', describeParams(params) || 'no parameters', who);
      });
      return this.#open(runId).run;
    });
  }

  async removeRun(runId: number, options: WriteOptions = {}): Promise<void> {
    return this.#guard(() => {
      const run = this.#main.getRun(runId);
      if (run) this.#checkLock(run, options, 'removal of the run');
      const areaId = this.#main.readAreaId();
      this.#main.deleteRun(runId);
      this.#runDbs.drop(runId);
      retireRunDbFiles(this.#paths.runDb(runId), runId, areaId, Math.round(this.#now()));
      removeLaunchJournals(this.#paths.launchesDir, runId);
    });
  }

  async registerTests(runId: number, regs: TestRegistration[], options: WriteOptions = {}): Promise<TestRecord[]> {
    return this.#batch(runId, options, `registration of ${regs.length} test(s)`, (rdb, who, tracker, now) => {
      const rows = registerRows(rdb, regs, now, who, tracker);
      rollUpParents(rdb, tracker, now, who);
      // Toplevel rows may just have been rolled up from new items: return them as stored.
      return rows.map((r) => (r.itempath === '' ? (rdb.tests.get(r.id) ?? r) : r));
    });
  }

  async write(runId: number, ops: WriteOp[], options: WriteOptions = {}): Promise<void> {
    if (ops.length === 0) return;
    if (ops.some((op) => op.kind === 'approve')) checkSignOff(this.#access.current(), this.#userOf(options));
    await this.#batch(runId, options, `write of ${ops.length} op(s)`, (rdb, who, tracker) =>
      applyOps(rdb, ops, who, tracker, options.asAgent),
    );
  }

  async removeTests(runId: number, testIds: number[], options: WriteOptions = {}): Promise<void> {
    await this.#batch(runId, options, `removal of ${testIds.length} test(s)`, (rdb, who, tracker, now) =>
      removeRows(rdb, testIds, now, who, tracker),
    );
  }

  async listTests(runId: number, query?: TestQuery): Promise<TestRecord[]> {
    return this.#guard(() => this.#open(runId).rdb.tests.list(query));
  }

  async getTest(runId: number, testname: string, itempath: string): Promise<TestDetail | undefined> {
    return this.#guard(() => {
      const { rdb } = this.#open(runId);
      return this.#detail(rdb, rdb.tests.find(testname, itempath));
    });
  }

  async getTestById(runId: number, testId: number): Promise<TestDetail | undefined> {
    return this.#guard(() => {
      const { rdb } = this.#open(runId);
      return this.#detail(rdb, rdb.tests.get(testId));
    });
  }

  async listDetails(runId: number, query?: TestQuery): Promise<TestDetail[]> {
    return this.#guard(() => {
      const { rdb } = this.#open(runId);
      // One snapshot, four statements: the tests, then all their steps, data and rule summaries.
      return rdb.read(() => {
        const tests = rdb.tests.list(query);
        const filtered =
          query !== undefined && (query.pattern || query.state?.length || query.status?.length || query.toplevelOnly || query.ids);
        const ids = filtered ? tests.map((t) => t.id) : undefined;
        const steps = rdb.details.listStepsOf(ids);
        const data = rdb.details.listDataOf(ids);
        const rules = rdb.rules.listOf(ids);
        // The rows are fresh objects of ours: give them their lists in place (a spread copy of
        // 10,000 records costs 30-60 ms).
        return tests.map((t) =>
          Object.assign(t, { steps: steps.get(t.id) ?? [], data: data.get(t.id) ?? [], rules: rules.get(t.id) ?? [] }),
        );
      });
    });
  }

  async claimRun(runId: number, agent: AgentSpec, liveness: LivenessOptions): Promise<AgentRecord> {
    return this.#guard(() => {
      const { run, rdb } = this.#open(runId);
      return rdb.transaction(() => claimRunner(rdb, run, agent, this.#liveness(liveness)));
    });
  }

  async claimJob(runId: number, testId: number, launchId: string, agent: AgentSpec, liveness: LivenessOptions): Promise<JobClaim> {
    // Not refused on a locked run: only a forced run launches jobs there, and its execs go on.
    const result = await this.#batch(
      runId,
      {},
      'claim of a job',
      (rdb, _who, tracker) => claimJob(rdb, testId, launchId, agent, this.#liveness(liveness), tracker),
      false,
    );
    if ('refused' in result) throw result.refused;
    return result;
  }

  async takeOrphans(runId: number, host: string): Promise<OrphanStep[]> {
    return this.#guard(() => {
      const { rdb } = this.#open(runId);
      return rdb.transaction(() => rdb.details.takeOrphans(host));
    });
  }

  async registerAgent(runId: number, agent: AgentSpec): Promise<AgentRecord> {
    return this.#guard(() => {
      const { rdb } = this.#open(runId);
      return rdb.transaction(() => rdb.log.insertAgent(agent, this.#now()));
    });
  }

  async heartbeat(runId: number, agentId: number, time: number): Promise<void> {
    return this.#guard(() => {
      this.#updateAgent(runId, agentId, (rdb) => rdb.log.touchAgent(agentId, time));
      // The runner's heartbeat is the lease of the shares it holds (main.db): renewed with it.
      this.#main.transaction(() => this.#main.resources.renew(runId, agentId, time));
    });
  }

  async endAgent(runId: number, agentId: number, time: number): Promise<void> {
    return this.#guard(() =>
      this.#updateAgent(runId, agentId, (rdb) => {
        const before = rdb.log.getAgent(agentId);
        const ended = rdb.log.endAgent(agentId, time);
        if (ended && before?.kind === 'runner' && before.ended === null) {
          // The log shows where a runner's writes end; a runner that stops with tests never
          // started (Ctrl-C) leaves the run done, not running.
          rdb.log.addEvent(time, null, 'agent', `${describeAgent(before)} ended`, '');
          this.#refreshSummary(rdb, runId, this.#now(), '');
        }
        return ended;
      }),
    );
  }

  async listAgents(runId: number): Promise<AgentRecord[]> {
    return this.#guard(() => this.#open(runId).rdb.log.listAgents());
  }

  async reapDead(runId: number, liveness: LivenessOptions): Promise<TestRecord[]> {
    return this.#guard(() => this.#reapRun(runId, this.#liveness(liveness)));
  }

  async events(runId: number, sinceSeq: number, limit = DEFAULT_EVENT_LIMIT): Promise<EventRecord[]> {
    return this.#guard(() => this.#open(runId).rdb.log.listEvents(sinceSeq, limit));
  }

  async changes(cursor: FeedCursor): Promise<FeedBatch> {
    return this.#guard(() => readChanges({ main: this.#main, openRun: (runId) => this.#openIfExists(runId) }, cursor));
  }

  async history(query: HistoryQuery): Promise<OutcomeRecord[]> {
    return this.#guard(() => readHistory(this.#main.outcomes, query));
  }

  async historySummary(query: OutcomeSummaryQuery = {}): Promise<OutcomeSummary[]> {
    return this.#guard(() => this.#main.read(() => summarizeOutcomes(this.#main.outcomes, query)));
  }

  async recordOutcome(job: OutcomeJob): Promise<OutcomeRecord> {
    return this.#guard(() => {
      const outcome = toJobOutcome(job);
      return this.#main.transaction(() => this.#main.outcomes.upsertJob(job.key, outcome));
    });
  }

  async claimResources(request: ResourceRequest, liveness: LivenessOptions): Promise<ResourceAnswer> {
    return this.#guard(() => {
      const { holder } = request;
      const { rdb } = this.#open(holder.runId);
      const ctx = this.#liveness(liveness);
      const outcome = this.#main.transaction(() => claimResources(this.#main, request, ctx));
      // The claimant's run log says when it took its shares, and what it waited for.
      const names = request.wants.map((w) => w.name).join(', ');
      const events: string[] = outcome.freed.map(
        (c) => `freed resource ${c.resource} of ${describeClaimant(c)}: ${describeClaimHolder(c)} is gone`,
      );
      if (outcome.answer.granted) events.push(`took resource ${names}`);
      else if (outcome.newWait) events.push(`waits for resource ${names}: ${describeBlockers(outcome.answer.blockers)}`);
      if (events.length > 0)
        rdb.transaction(() => {
          for (const e of events) rdb.log.addEvent(ctx.now, holder.testId, 'resource', e, '');
        });
      return outcome.answer;
    });
  }

  async releaseResources(release: ResourceRelease): Promise<ResourceClaim[]> {
    return this.#guard(() => {
      const gone = this.#main.transaction(() => this.#main.resources.deleteOf(release.runId, release.agentId, release.testId));
      const held = gone.filter((c) => c.state === 'held');
      const run = this.#main.getRun(release.runId);
      if (held.length > 0 && run !== undefined) {
        const rdb = this.#runDb(run);
        const now = this.#now();
        rdb.transaction(() => {
          for (const c of held) rdb.log.addEvent(now, c.testId, 'resource', `gave back resource ${c.resource}`, '');
        });
      }
      return gone;
    });
  }

  async listResourceClaims(liveness: LivenessOptions): Promise<ResourceClaim[]> {
    return this.#guard(() => {
      const ctx = this.#liveness(liveness);
      return this.#main.transaction(() => {
        freeDeadClaims(this.#main, ctx);
        return this.#main.resources.list();
      });
    });
  }

  // ---- the agent pool ----

  async registerPoolAgent(spec: PoolAgentSpec, load: number | null, liveness: LivenessOptions): Promise<PoolAgentRecord> {
    return this.#guard(() => {
      const ctx = this.#liveness(liveness);
      const agent = this.#main.transaction(() => registerAgent(this.#main, spec, randomUUID(), load, ctx));
      // The jobs its previous session took are that session's no more.
      this.#sweepPool(ctx);
      return agent;
    });
  }

  async poolHeartbeat(hb: PoolHeartbeat): Promise<{ drain: boolean }> {
    return this.#guard(() => this.#main.transaction(() => beat(this.#main, hb)));
  }

  async leavePool(name: string, session: string): Promise<void> {
    return this.#guard(() => this.#main.transaction(() => leave(this.#main, name, session, this.#now())));
  }

  async drainPoolAgent(name: string, _options: WriteOptions = {}): Promise<PoolAgentRecord> {
    return this.#guard(() => this.#main.transaction(() => drainAgent(this.#main, name, this.#now())));
  }

  async claimQueuedJobs(
    name: string,
    session: string,
    max: number,
    have: number[],
    liveness: LivenessOptions,
    exec?: AgentSpec,
    ended: JobEnd[] = [],
  ): Promise<TakenJob[]> {
    // One main.db transaction ends the ended jobs in the queue (as endQueuedJob) and takes the next
    // ones with their specs (the runner queued them with the jobs and wrote no file). Then one
    // transaction of each run applies the ended jobs' last writes (each proven and fenced like any
    // write), ends their exec agents and claims the new jobs' tests: a claim is one request and
    // two transactions however many jobs it moves (and the history index's, when a test ended).
    // All of it without a pause: no other request sees a job ended before its last writes.
    return this.#guard(() => {
      const ctx = this.#liveness(liveness);
      // A busy pool claims hundreds of times a second: the housekeeping goes at most four times
      // a second of the caller's clock (the deadtime is seconds; listQueue and listHosts do it
      // each time).
      if (Math.abs(ctx.now - this.#lastClaimSweep) >= CLAIM_SWEEP_S) {
        this.#lastClaimSweep = ctx.now;
        this.#sweepPool(ctx);
      }
      const { taken, ends } = this.#main.transaction(() => {
        const ends = ended.map((end) => {
          endJob(this.#main, end.id, name, session, end.note, this.#now());
          return { end, runId: this.#main.pool.get(end.id)?.runId };
        });
        const jobs = takeJobs(this.#main, name, session, max, have, ctx.now).map((job): TakenJob => {
          const spec = this.#main.pool.specOf(job.id);
          return spec === undefined ? job : { ...job, spec };
        });
        return { taken: jobs, ends };
      });
      const refused = new Map<number, string>();
      const out: TakenJob[] = [];
      // Writes go to the run their job is of; a client that names another (none of this version
      // does) has them applied there on their own.
      const runOf = (end: JobEnd, runId: number | undefined) => end.writes?.runId ?? runId;
      const endRuns = ends.flatMap((x) => [runOf(x.end, x.runId), x.runId]).filter((r): r is number => r !== undefined);
      const runs = new Set([...endRuns, ...taken.map((j) => j.runId)]);
      for (const runId of runs) {
        const mine = exec === undefined ? [] : taken.filter((j) => j.runId === runId);
        const { claims, writeErrors } = this.#claimInRun(
          runId,
          mine,
          exec,
          ctx,
          ends.filter((x) => runOf(x.end, x.runId) === runId).map((x) => x.end),
          ends.filter((x) => x.runId === runId).flatMap((x) => x.end.execAgentId ?? []),
        );
        for (const [id, message] of writeErrors) refused.set(id, message);
        for (const [i, job] of mine.entries()) {
          const claim = claims[i]!;
          if ('agent' in claim) out.push({ ...job, claim });
          else this.#main.transaction(() => endJob(this.#main, job.id, name, session, `not run: ${claim.error.message}`, this.#now()));
        }
      }
      if (refused.size > 0) {
        // The test is left to the reaper (its exec agent ended with the job), as when exec dies.
        this.#main.transaction(() => {
          for (const [id, why] of refused) {
            const end = ended.find((e) => e.id === id)!;
            this.#main.pool.setNote(id, `${end.note}; its results could not be recorded: ${why}`);
          }
        });
      }
      return exec === undefined ? taken : taken.flatMap((job) => out.filter((o) => o.id === job.id));
    });
  }

  /**
   * In one transaction of the run's database: applies the last writes of jobs that ended (each in
   * a savepoint of its own: one refused — the run locked, an op the store rejects — is undone
   * alone, and its message returned; a fenced exec's ops are dropped, as by write), ends the exec
   * agents of jobs that ended, and claims the tests of jobs taken for `exec` as claimJob does
   * (each a claim, or the error that refused it).
   */
  #claimInRun(
    runId: number,
    jobs: readonly QueuedJob[],
    exec: AgentSpec | undefined,
    ctx: LivenessContext,
    withWrites: readonly JobEnd[],
    execsToEnd: readonly number[],
  ): { claims: Array<JobClaim | { error: Error }>; writeErrors: Map<number, string> } {
    const writeErrors = new Map<number, string>();
    const writes = withWrites.filter((e) => e.writes !== undefined && e.writes.ops.length > 0);
    if (jobs.length === 0 && writes.length === 0) {
      const rdb = this.#openIfExists(runId);
      if (execsToEnd.length > 0 && rdb !== undefined) {
        rdb.transaction(() => {
          for (const id of execsToEnd) rdb.log.endAgent(id, this.#now());
        });
      }
      return { claims: [], writeErrors };
    }
    try {
      const claims = this.#batchNow(
        runId,
        {},
        'claim of a job',
        (rdb, _who, tracker, now, run) => {
          for (const e of writes) {
            const error = this.#carriedWrite(rdb, run, e.writes!, tracker, now);
            if (error !== undefined) writeErrors.set(e.id, error);
          }
          for (const id of execsToEnd) rdb.log.endAgent(id, now);
          return jobs.map((job) => {
            // A refusal (the test is no longer waiting for this launch) is an answer, and what was
            // found on the way (a dead exec reaped) stays done. A test that is not there refuses
            // this job only (nothing was written for it); any other fault undoes the whole claim.
            try {
              const result = claimJob(rdb, job.testId, job.launchId, exec!, ctx, tracker);
              return 'refused' in result ? { error: result.refused } : result;
            } catch (err) {
              if (isTrellisError(err)) return { error: err };
              throw err;
            }
          });
        },
        false,
      );
      return { claims, writeErrors };
    } catch (err) {
      // Nothing of it was written. A fault of the storage fails the request: the agent keeps the
      // ends and sends them with its next claim, which is given the same jobs again.
      if (!isTrellisError(err)) throw err;
      // The run cannot be opened (removed, damaged): none of its jobs is claimed, no write lands.
      for (const e of writes) writeErrors.set(e.id, err.message);
      return { claims: jobs.map(() => ({ error: err })), writeErrors };
    }
  }

  /**
   * One carried write inside a claim's transaction, as write() would make it (sign-off rights, the
   * run's lock, fencing), in a savepoint of its own so that one refused is undone alone. Returns
   * why it was refused, or undefined when it stands.
   */
  #carriedWrite(rdb: RunDb, run: RunRecord, writes: CarriedWrites, tracker: ChangeTracker, now: number): string | undefined {
    const options = writes.options ?? {};
    const who = options.who ?? '';
    const part = createTracker();
    try {
      if (writes.ops.some((op) => op.kind === 'approve')) checkSignOff(this.#access.current(), this.#userOf(options));
      const forced = this.#checkLock(run, options, `write of ${writes.ops.length} op(s)`);
      rdb.savepoint(() => {
        if (forced !== undefined) rdb.log.addEvent(now, null, 'forced', forced, who);
        applyOps(rdb, writes.ops, who, part, options.asAgent);
      });
    } catch (err) {
      // One that took the whole transaction with it (SQLite's own rollback) fails the whole claim.
      if (!rdb.inTransaction) throw err;
      return (err as Error).message;
    }
    mergeTracker(tracker, part);
    return undefined;
  }

  async endQueuedJob(id: number, name: string, session: string, note: string, execAgentId?: number): Promise<void> {
    return this.#guard(() => {
      const job = this.#main.transaction(() => {
        endJob(this.#main, id, name, session, note, this.#now());
        return this.#main.pool.get(id);
      });
      if (execAgentId === undefined || job === undefined) return;
      const rdb = this.#openIfExists(job.runId);
      rdb?.transaction(() => rdb.log.endAgent(execAgentId, this.#now()));
    });
  }

  async enqueueJobs(requests: JobRequest[], liveness: LivenessOptions, launch?: CarriedWrites): Promise<QueuedJob[]> {
    // An agent claims a test only once its row carries the job's launch id: the launch goes in first.
    if (launch) await this.write(launch.runId, launch.ops, launch.options);
    return this.#guard(() => {
      const ctx = this.#liveness(liveness);
      for (const runId of new Set(requests.map((r) => r.runId))) this.#open(runId);
      return this.#main.transaction(() => {
        const agents = this.#main.pool.listAgents();
        return requests.map((request) => {
          const job = this.#main.pool.enqueue(request, ctx.now);
          if (job.state === 'queued' && takersOf(job, agents, ctx).length === 0) {
            this.#main.pool.finish(job.id, 'failed', noTakerReason(job, agents, ctx), ctx.now);
            return this.#main.pool.get(job.id)!;
          }
          return job;
        });
      });
    });
  }

  async cancelQueuedJob(launchId: string): Promise<QueuedJob | undefined> {
    return this.#guard(() =>
      this.#main.transaction(() => {
        const job = this.#main.pool.byLaunch(launchId);
        if (job?.state === 'queued') this.#main.pool.finish(job.id, 'cancelled', 'cancelled before an agent took it', this.#now());
        return job === undefined ? undefined : this.#main.pool.get(job.id);
      }),
    );
  }

  async listQueue(runId: number, liveness: LivenessOptions): Promise<QueuedJob[]> {
    return this.#guard(() => {
      this.#sweepPool(this.#liveness(liveness));
      return this.#main.read(() => this.#main.pool.listOfRun(runId));
    });
  }

  async listHosts(liveness: LivenessOptions): Promise<HostView[]> {
    return this.#guard(() => {
      const ctx = this.#liveness(liveness);
      this.#sweepPool(ctx);
      return this.#main.read(() => hostViews(this.#main, ctx));
    });
  }

  async takePoolOrphans(_name: string, host: string): Promise<OrphanStep[]> {
    return this.#guard(() => this.#main.transaction(() => this.#main.pool.takeOrphans(host)));
  }

  /**
   * The pool's housekeeping: jobs whose agent is gone go back to the queue (not begun: as if never
   * taken; running: reaped with the pool's rules, which queue them again while they may), and
   * queued jobs no live agent can take fail.
   */
  #sweepPool(ctx: LivenessContext): void {
    const orphans = this.#main.read(() => orphanedJobs(this.#main, ctx));
    for (const [runId, jobs] of orphans) {
      const rdb = this.#openIfExists(runId);
      if (rdb === undefined) {
        this.#main.transaction(() => {
          for (const j of jobs) this.#main.pool.finish(j.id, 'ended', 'its run was removed', ctx.now);
        });
        continue;
      }
      this.#main.transaction(() => {
        for (const job of jobs) {
          const row = rdb.tests.get(job.testId);
          if (row === undefined || row.launchId !== job.launchId || FINAL_STATES.has(row.state) || row.state === 'WAITING') {
            this.#main.pool.finish(job.id, 'ended', 'its test was ended without it', ctx.now);
          } else if (!hasBegun(row, job)) {
            this.#main.pool.requeue(job, `agent ${job.agent ?? '?'} went away before starting it`, false);
          }
        }
      });
      this.#reapRun(runId, ctx);
    }
    this.#main.transaction(() => failUntakeable(this.#main, ctx));
  }

  /** Marks the run's tests whose agent is gone (with the pool's rules for jobs agents took). */
  #reapRun(runId: number, ctx: LivenessContext): TestRecord[] {
    const { run, rdb } = this.#open(runId);
    const now = this.#now();
    return rdb.transaction(() => {
      const tracker = createTracker();
      const hooks = reapHooksFor(this.#main, rdb, runId, ctx);
      const { reaped, changed } = reapDeadTests(rdb, ctx, '', tracker, hooks);
      if (changed || hasOutcomeChanges(tracker)) {
        this.#main.transaction(() => {
          indexOutcomes(this.#main.outcomes, run, tracker);
          if (changed) this.#refreshSummary(rdb, runId, now, '');
        });
      }
      return reaped;
    });
  }

  async close(): Promise<void> {
    // Reverse order of opening: run databases, newest first, then the index.
    this.#runDbs.closeAll();
    this.#mainDb.close();
  }

  /** The user a write is checked as: the one its options name (verified), else this process's with --direct. */
  #userOf(options: WriteOptions): string | undefined {
    return options.user ?? this.#localUser;
  }

  /** checkRunLock, and a forced change to a locked or closed run only by an admin. */
  #checkLock(run: RunRecord, options: WriteOptions, what: string): string | undefined {
    const forced = checkRunLock(run, options, what);
    if (forced !== undefined) {
      checkAdmin(
        this.#access.current(),
        this.#userOf(options),
        `force changes to a ${run.closedAt === undefined ? 'locked' : 'closed'} run`,
      );
    }
    return forced;
  }

  /**
   * One batch on a run: refused on a locked run unless forced (and then logged), applied in one
   * transaction with its parents rolled up, then the run's summary refreshed if it can differ.
   */
  #batch<T>(...args: BatchArgs<T>): Promise<T> {
    return this.#guard(() => this.#batchNow(...args));
  }

  /** #batch, inside a #guard already. */
  #batchNow<T>(...[runId, options, what, apply, lockApplies = true]: BatchArgs<T>): T {
    const { run, rdb } = this.#open(runId);
    const who = options.who ?? '';
    const forced = lockApplies ? this.#checkLock(run, options, what) : undefined;
    const now = this.#now();
    const tracker = createTracker();
    return rdb.transaction(() => {
      if (forced !== undefined) rdb.log.addEvent(now, null, 'forced', forced, who);
      const result = apply(rdb, who, tracker, now, run);
      rollUpParents(rdb, tracker, now, who);
      // Written while the run database is still locked, so concurrent batches cannot leave an
      // older summary behind a newer one; the history index goes in the same main.db transaction.
      // An item starting or ending can change the run's state with its test's roll-up unchanged.
      const refresh = tracker.toplevelChanged || this.#isStateStale(rdb, run);
      if (refresh || hasOutcomeChanges(tracker)) {
        this.#main.transaction(() => {
          indexOutcomes(this.#main.outcomes, run, tracker);
          if (refresh) this.#refreshSummary(rdb, runId, now, who);
        });
      }
      return result;
    });
  }

  /**
   * Recomputes the run's summary inside the caller's transaction on its database, and logs a
   * change of the run's state (a locked run keeps `locked`, so nothing is logged then).
   */
  #refreshSummary(rdb: RunDb, runId: number, now: number, who: string): void {
    const before = this.#main.getRun(runId);
    if (before === undefined) return;
    const summary = this.#summarize(rdb, before, now);
    this.#main.updateSummary(runId, summary);
    if (before.state !== 'locked' && before.state !== summary.state) rdb.log.addEvent(now, null, 'run', summary.state, who);
  }

  /** True when the run's stored state is not the one its tests and runner give (cheap: no write). */
  #isStateStale(rdb: RunDb, run: RunRecord): boolean {
    return run.state !== 'locked' && readRunState(rdb.tests, this.#isRunnerActive(rdb)) !== run.state;
  }

  #isRunnerActive(rdb: RunDb): boolean {
    return rdb.log.listOpenAgents('runner').length > 0;
  }

  /** The run's summary as its tests and runner make it now. */
  #summarize(rdb: RunDb, run: RunRecord, now: number): RunSummary {
    return summarizeRun(rdb.tests, run, now, this.#isRunnerActive(rdb));
  }

  /** The run (NO_RUN when there is none) and its database. */
  #open(runId: number): { run: RunRecord; rdb: RunDb } {
    const run = this.#main.getRun(runId);
    if (run === undefined) {
      throw new TrellisError('NO_RUN', `there is no run with id ${runId}`, 'list the runs with `trellis list runs`');
    }
    return { run, rdb: this.#runDb(run) };
  }

  /**
   * The database of the run, or undefined when the run is gone — then its cached connection is
   * closed: another process (a --direct `trellis remove`) may have removed it under us.
   */
  #openIfExists(runId: number): RunDb | undefined {
    const run = this.#main.getRun(runId);
    if (run !== undefined) return this.#runDb(run);
    this.#runDbs.drop(runId);
    return undefined;
  }

  /** What one call judges liveness by; a pid is looked at once per call, however many rows name it. */
  #liveness(liveness: LivenessOptions): LivenessContext {
    const seen = new Map<string, boolean>();
    const isPidAlive = (pid: number, procStart: number | null) => {
      const key = `${pid}:${procStart}`;
      let alive = seen.get(key);
      if (alive === undefined) {
        alive = this.#isPidAlive(pid, procStart);
        seen.set(key, alive);
      }
      return alive;
    };
    return { ...liveness, host: this.#host, isPidAlive, killGroup: this.#killGroup, runArea: this.#paths.root };
  }

  /**
   * The run's database. It is created only for a new run, or for a run that never registered a
   * test (a crash between the two steps of creating it, or a runs index from before run
   * databases): nothing can be lost then. Any other run's file must be there.
   */
  #runDb(run: RunRecord, created = false): RunDb {
    const create = created || (run.total === 0 && run.state === 'new');
    const meta = () => ({ runId: run.id, areaId: this.#main.readAreaId(), target: run.target, runname: run.runname });
    return this.#runDbs.get(run.id, meta, { create });
  }

  #updateAgent(runId: number, agentId: number, update: (rdb: RunDb) => boolean): void {
    const { rdb } = this.#open(runId);
    if (!rdb.transaction(() => update(rdb))) {
      throw new TrellisError('BAD_VALUE', `run ${runId} has no agent with id ${agentId}`, 'register the agent first');
    }
  }

  #detail(rdb: RunDb, test: TestRecord | undefined): TestDetail | undefined {
    if (test === undefined) return undefined;
    return { ...test, steps: rdb.details.listSteps(test.id), data: rdb.details.listData(test.id), rules: rdb.rules.list(test.id) };
  }

  /** Runs `fn`, turning SQLite and file-system failures into TrellisErrors. */
  async #guard<T>(fn: () => T): Promise<T> {
    try {
      this.#mainDb.check(() => {
        this.#runDbs.closeAll();
        this.#areaId = undefined;
      });
      return fn();
    } catch (err) {
      throw mapStorageError(err, this.#paths.dbDir);
    }
  }
}

/**
 * One batch on a run (DirectStore #batch): the run, the options it is written with, what it is (for
 * a locked run's refusal), what it writes (given the run's record too), and whether the run's lock
 * applies.
 */
type BatchArgs<T> = [
  runId: number,
  options: WriteOptions,
  what: string,
  apply: (rdb: RunDb, who: string, tracker: ChangeTracker, now: number, run: RunRecord) => T,
  lockApplies?: boolean,
];

/** The runner behind a claim, for people: `runner pid 123 on host h1`. */
function describeClaimHolder(c: ResourceClaim): string {
  return `runner pid ${c.pid} on host ${c.host}`;
}

/** What a refused claim waits for: `deploy held by deploy of run linux/r1 (runner pid 12 on host h1)`. */
export function describeBlockers(blockers: readonly ResourceClaim[]): string {
  return blockers.map((c) => `${c.resource} held by ${describeClaimant(c)} (${describeClaimHolder(c)})`).join('; ');
}

function sameParams(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}
