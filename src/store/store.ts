/**
 * The data-access interface. Every read and write of run data goes through a Store: the direct
 * store opens the SQLite files in this process; a remote store (servers issue) sends the same calls
 * to the area's server. Every method is async and takes and returns plain JSON-able records, so
 * the remote implementation is a transport, not a rewrite.
 */
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
import type { RunState } from '../model/states.js';
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
import type { ResourceAnswer, ResourceClaim, ResourceRelease, ResourceRequest } from '../model/resources.js';
import type { ShowQuery, TestShow } from '../model/show-test.js';
import type { ExternalResult, HistoryQuery, OutcomeJob, OutcomeRecord, OutcomeSummary, OutcomeSummaryQuery } from '../model/records.js';

export interface RunSpec {
  target: string;
  keys: Record<string, string>;
  runname: string;
}

export interface AgentSpec {
  kind: AgentRecord['kind'];
  host: string;
  pid: number;
  procStart: number | null;
  /** an exec run by a pool agent (`trellis agent`): its name, recorded as the test's job */
  poolAgent?: string;
}

/** How a store decides that an agent (runner, exec) is gone. */
export interface LivenessOptions {
  now: number;
  /** seconds without a heartbeat after which an agent on another host is dead */
  deadtime: number;
}

/** What `claimJob` gives an exec: its agent record and the row as it now stands. */
export interface JobClaim {
  agent: AgentRecord;
  test: TestRecord;
}

/** A step's process group that a dead agent left behind on some host. */
export interface OrphanStep {
  pid: number;
  procStart: number | null;
}

export interface Store {
  /** The run area's id (created with main.db). */
  areaId(): Promise<string>;

  /** Returns the run, creating it (state `new`) on first use. */
  ensureRun(spec: RunSpec): Promise<RunRecord>;
  findRun(target: string, runname: string): Promise<RunRecord | undefined>;
  getRun(runId: number): Promise<RunRecord | undefined>;
  /** Newest first. */
  listRuns(query?: RunQuery): Promise<RunRecord[]>;
  /** listRuns with only what `trellis list runs` shows, column by column (RunColumns): newest first. */
  listRunColumns(query?: RunQuery): Promise<RunColumns>;
  /** Sets the run's state; `locked` records who locked it. Unlocking needs no force. */
  setRunState(runId: number, state: RunState, options?: WriteOptions): Promise<RunRecord>;
  /**
   * Closes the run (`trellis close`): locked, with the time it was closed; it then refuses results
   * unless forced, and `setRunState` to any other state opens it again. Closing a closed run keeps it.
   */
  closeRun(runId: number, options?: WriteOptions): Promise<RunRecord>;
  /**
   * Appends one result from outside the area (store/external-results.ts); returns the row. The
   * same result again changes nothing; a locked or closed run needs force.
   */
  appendResult(runId: number, result: ExternalResult, options?: WriteOptions): Promise<TestDetail>;
  /**
   * Records the run's parameters (`trellis run --param`, defaults filled in), replacing those of an
   * earlier `trellis run` of it; a change goes to the run's events log. A locked run needs force.
   */
  setRunParams(runId: number, params: Record<string, string>, options?: WriteOptions): Promise<RunRecord>;
  /** Removes the run's row and its database file (not its work folders); a locked run needs force. */
  removeRun(runId: number, options?: WriteOptions): Promise<void>;

  /**
   * Adds the tests and items that are missing, as NOT_STARTED/n/a; existing rows keep their state
   * and status but take the new rundir, priority and metadata. Returns every registered row.
   */
  registerTests(runId: number, regs: TestRegistration[], options?: WriteOptions): Promise<TestRecord[]>;
  /** Applies a batch in one transaction; ops already applied (by opId) are skipped. */
  write(runId: number, ops: WriteOp[], options?: WriteOptions): Promise<void>;
  listTests(runId: number, query?: TestQuery): Promise<TestRecord[]>;
  getTest(runId: number, testname: string, itempath: string): Promise<TestDetail | undefined>;
  /**
   * What `trellis show` needs in one call (store/show-test.ts): the run found by target and name,
   * its dead tests reaped first, the test with its steps, the resource claims, and the test's items
   * when asked for. Undefined when there is no such run.
   */
  showTest(query: ShowQuery, liveness: LivenessOptions): Promise<TestShow | undefined>;
  getTestById(runId: number, testId: number): Promise<TestDetail | undefined>;
  /** The rows listTests gives, each with its steps and data: a whole run's results in one call (reports). */
  listDetails(runId: number, query?: TestQuery): Promise<TestDetail[]>;
  /** Deletes rows (and their steps and data); a test's items go with it. */
  removeTests(runId: number, testIds: number[], options?: WriteOptions): Promise<void>;

  /**
   * Registers a runner for the run, refusing (RUN_BUSY) while another live runner holds it.
   * Runners on this host are alive while their pid is; others while their heartbeat is fresh.
   */
  claimRun(runId: number, agent: AgentSpec, liveness: LivenessOptions): Promise<AgentRecord>;
  /**
   * `trellis exec` takes a launched job: registers the exec agent and makes it the row's owner,
   * once. Refused with JOB_BUSY while a live exec holds the row, and JOB_GONE when the row no
   * longer waits for this launch (rerun, killed, ended, or its exec found dead).
   */
  claimJob(runId: number, testId: number, launchId: string, agent: AgentSpec, liveness: LivenessOptions): Promise<JobClaim>;
  /**
   * Steps that dead runners or execs left running on `host` (still recorded after their tests were
   * reaped elsewhere): returned once, for the caller on that host to end.
   */
  takeOrphans(runId: number, host: string): Promise<OrphanStep[]>;
  /** Registers an agent without the claim (exec processes, in-test helpers). */
  registerAgent(runId: number, agent: AgentSpec): Promise<AgentRecord>;
  /** Keeps the agent alive, and renews the resource claims it holds for the run. */
  heartbeat(runId: number, agentId: number, time: number): Promise<void>;
  endAgent(runId: number, agentId: number, time: number): Promise<void>;
  listAgents(runId: number): Promise<AgentRecord[]>;
  /**
   * Marks tests whose agent is gone (dead pid on this host, or stale heartbeat) INCOMPLETE/DEAD,
   * and returns them.
   */
  reapDead(runId: number, liveness: LivenessOptions): Promise<TestRecord[]>;

  /** Changes recorded after `sinceSeq`, oldest first. */
  events(runId: number, sinceSeq: number, limit?: number): Promise<EventRecord[]>;

  /**
   * The change feed, answered at once: runs changed since `cursor.runsSeq`, and the cells added,
   * changed or removed since `cursor.runs[id]` in each followed run. The dashboard's data source.
   */
  changes(cursor: FeedCursor): Promise<FeedBatch>;

  /**
   * History (main.db's index, never the run databases): one test's or item's outcomes across
   * runs and wrap/record jobs, newest first.
   */
  history(query: HistoryQuery): Promise<OutcomeRecord[]>;
  /** Per target and test: latest outcome, last success, mean duration of the successes before. */
  historySummary(query?: OutcomeSummaryQuery): Promise<OutcomeSummary[]>;
  /** Records a job run outside any run (`trellis wrap`, `trellis record`); a repeated key updates it. */
  recordOutcome(job: OutcomeJob): Promise<OutcomeRecord>;

  /**
   * Shared resources (main.db): takes one share of every resource the request names for its test,
   * all or none, after freeing the claims of dead runners; refused, the test is recorded as waiting
   * and the answer names the holders. Asked again for a test that holds them, it is granted again.
   */
  claimResources(request: ResourceRequest, liveness: LivenessOptions): Promise<ResourceAnswer>;
  /** Gives back one test's claims (held or waiting), or all of a runner's; returns what was given back. */
  releaseResources(release: ResourceRelease): Promise<ResourceClaim[]>;
  /** Every live claim (dead runners' claims are freed first), by resource: holders, then waiters. */
  listResourceClaims(liveness: LivenessOptions): Promise<ResourceClaim[]>;

  // ---- the agent pool (docs/agents.md) ----

  /** Registers a `trellis agent` under a new session; AGENT_BUSY while a live agent has the name. */
  registerPoolAgent(spec: PoolAgentSpec, load: number | null, liveness: LivenessOptions): Promise<PoolAgentRecord>;
  /** Keeps the agent alive; the answer says whether it should drain. AGENT_GONE when its session ended. */
  poolHeartbeat(beat: PoolHeartbeat): Promise<{ drain: boolean }>;
  /** The agent leaves the pool (it drained, or is on its way out). */
  leavePool(name: string, session: string): Promise<void>;
  /** Asks the agent to drain (`trellis agent stop NAME`): it finishes its jobs and takes no more. */
  drainPoolAgent(name: string, options?: WriteOptions): Promise<PoolAgentRecord>;
  /**
   * Takes up to `max` queued jobs the agent may run, each once, after handing back the jobs of
   * agents that are gone and failing the jobs no live agent can take. Jobs this session took that
   * are not in `have` (an answer lost with a server) come first and count against `max`. With
   * `exec`, each job's test is claimed for that exec as `claimJob` would (a job whose test is no
   * longer waiting for it is ended in the queue and not given). `ended`: the agent's words on jobs
   * that ended since its last call, applied first as `endQueuedJob` would (one request, not two),
   * each after the job's last writes it carries (`writes`).
   */
  claimQueuedJobs(
    name: string,
    session: string,
    max: number,
    have: number[],
    liveness: LivenessOptions,
    exec?: AgentSpec,
    ended?: JobEnd[],
  ): Promise<TakenJob[]>;
  /**
   * The agent's word that its job ended (or was refused), with a note; `execAgentId`: the exec
   * agent the job was claimed under, ended with it.
   */
  endQueuedJob(id: number, name: string, session: string, note: string, execAgentId?: number): Promise<void>;
  /**
   * Queues launched jobs for the agents (a runner's jobs that became ready together, one request);
   * each is failed at once when no live agent can take it. Returns them in the order asked.
   * `launch`: the runner's writes that launch them (their LAUNCHED marks with the launch ids),
   * applied first as `write` would; when they cannot be, nothing is queued and the call fails.
   */
  enqueueJobs(requests: JobRequest[], liveness: LivenessOptions, launch?: CarriedWrites): Promise<QueuedJob[]>;
  /** Takes a job out of the queue when no agent has taken it yet; returns it as it now stands. */
  cancelQueuedJob(launchId: string): Promise<QueuedJob | undefined>;
  /** One run's jobs in the queue, after the same housekeeping as claimQueuedJobs. */
  listQueue(runId: number, liveness: LivenessOptions): Promise<QueuedJob[]>;
  /** Every registered agent, with its status and what it runs. */
  listHosts(liveness: LivenessOptions): Promise<HostView[]>;
  /**
   * Steps an earlier agent of this name left running on `host` (it died with them, and its jobs
   * went to other agents): returned once, for the agent starting again there to end.
   */
  takePoolOrphans(name: string, host: string): Promise<OrphanStep[]>;

  close(): Promise<void>;
}

/**
 * A store that gives some answers as the JSON text the HTTP API sends: the direct store, where
 * SQLite writes the runs' listing. A server sends that text as it is; parsing it and writing it
 * again was half of its answer's time (about 15 ms over 10,000 runs).
 */
export interface JsonTextAnswers {
  /** listRunColumns' answer as JSON text */
  listRunColumnsJson(query?: RunQuery): Promise<string>;
}

/** True when `store` gives JSON text answers (JsonTextAnswers). */
export function givesJsonText(store: Store): store is Store & JsonTextAnswers {
  return typeof (store as Partial<JsonTextAnswers>).listRunColumnsJson === 'function';
}
