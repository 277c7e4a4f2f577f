/**
 * The remote store: the Store interface over HTTP to the run area's server. A call that gets no
 * answer (the server died, or its host went away) is sent again through a server found — or
 * started — anew; every write carries ids, so a repeated call records nothing twice. Errors the
 * server answers with come back as the same TrellisError the direct store would have thrown.
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
import type { ExternalResult, HistoryQuery, OutcomeJob, OutcomeRecord, OutcomeSummary, OutcomeSummaryQuery } from '../model/records.js';
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
import { MAX_BATCH, SIGNED_METHODS, type FeedRequest, type StoreMethod } from '../model/protocol.js';
import type { AgentSpec, JobClaim, LivenessOptions, OrphanStep, RunSpec, Store } from '../store/store.js';
import { TrellisError } from '../util/errors.js';
import { runColumnsOf } from '../model/run-columns.js';
import { showTestBy, type ShowQuery, type TestShow } from '../model/show-test.js';
import { answerCode, decodeAnswer } from './answers.js';
import type { RequestSigner } from './signer.js';
import { connect, type Connection, type DiscoverOptions } from './discovery.js';
import { requestJson, TransportError } from './http.js';

/** How long a call keeps trying through server deaths before giving up (ms). */
const FAILOVER_MS = 60_000;
/** How long one request may take (ms); a busy database waits up to 10 s for its lock. */
const REQUEST_TIMEOUT_MS = 120_000;
/** A feed request may take this much longer than the wait it asked for (ms): the store's own work. */
const FEED_TIMEOUT_MARGIN_MS = 15_000;

/** The connection to the server went away ('lost') or came back ('restored'). */
export interface ConnectionEvent {
  state: 'lost' | 'restored';
  /** what happened, for people: the failed request's error, or the server answering again */
  message: string;
}

export interface RemoteStoreOptions extends DiscoverOptions {
  /** the connection discovery already made, if any */
  connection?: Connection;
  /**
   * Told once when a call first gets no answer, and once when a call succeeds after that (the
   * dashboard shows a "reconnecting" banner in between).
   */
  onConnection?: (event: ConnectionEvent) => void;
  /** signs writes with the user's key (client/signer.ts); none: writes go unsigned */
  signer?: RequestSigner;
}

export class RemoteStore implements Store {
  readonly #opts: RemoteStoreOptions;
  #conn: Promise<Connection> | undefined;
  #lost = false;
  /** the long polls in flight: close() ends them, or they would hold the process up to 25 s */
  readonly #feeds = new Set<AbortController>();

  constructor(opts: RemoteStoreOptions) {
    this.#opts = opts;
    if (opts.connection) this.#conn = Promise.resolve(opts.connection);
  }

  /** The server this store talks to now (connecting if need be). */
  connection(): Promise<Connection> {
    if (this.#conn === undefined) {
      const conn = connect(this.#opts);
      // A failed connect is forgotten, so the next call tries again.
      conn.catch(() => {
        if (this.#conn === conn) this.#conn = undefined;
      });
      this.#conn = conn;
    }
    return this.#conn;
  }

  /** Sends one request, failing over to another server while it gets no answer. */
  async #call<T>(
    path: string,
    what: string,
    params: Record<string, unknown>,
    timeoutMs: number,
    signal?: AbortSignal,
    signed = false,
  ): Promise<T> {
    const deadline = Date.now() + FAILOVER_MS;
    let signIns = 0;
    for (;;) {
      const conn = await this.connection();
      // A connection comes from discovery, which health-checked it: the server answers again. Said
      // now, not when the call returns, which for a long poll on a quiet run is seconds later.
      this.#noteRestored(conn);
      try {
        const session = signed && this.#opts.signer ? await this.#opts.signer.session(conn) : undefined;
        const answer = await requestJson(
          conn.endpoint,
          'POST',
          path,
          params,
          timeoutMs,
          signal,
          undefined,
          session && ((payload) => session.headers('POST', path, payload)),
        );
        if (answer.status === 401 && answerCode(answer.body) === 'SESSION_UNKNOWN' && signIns++ < 2) {
          // The server restarted or ended the session: sign in again.
          this.#opts.signer!.forget(conn);
          continue;
        }
        return decodeAnswer<T>(answer.status, answer.body, what);
      } catch (err) {
        // Abandoned by this side: nothing was lost, and nothing to retry.
        if (signal?.aborted) throw err;
        if (err instanceof TransportError) this.#noteLost(err);
        if (!(err instanceof TransportError) || Date.now() >= deadline) {
          if (err instanceof TransportError) {
            throw new TrellisError(
              'NO_SERVER',
              `lost the server for ${this.#opts.runArea}: ${err.message}`,
              'see `trellis server list`; with --direct a command bypasses the server',
              { cause: err },
            );
          }
          throw err;
        }
        this.#opts.debug(`${what}: ${err.message}; finding another server`);
        if (this.#conn !== undefined && (await this.#conn.catch(() => undefined)) === conn) this.#conn = undefined;
      }
    }
  }

  async #result<T>(method: StoreMethod, params: Record<string, unknown>): Promise<T> {
    return this.#call<T>(`/v1/store/${method}`, method, params, REQUEST_TIMEOUT_MS, undefined, SIGNED_METHODS.has(method));
  }

  #noteLost(err: TransportError): void {
    if (this.#lost) return;
    this.#lost = true;
    this.#opts.onConnection?.({ state: 'lost', message: `lost the server for ${this.#opts.runArea}: ${err.message}` });
  }

  #noteRestored(conn: Connection): void {
    if (!this.#lost) return;
    this.#lost = false;
    const p = conn.found.packet;
    this.#opts.onConnection?.({ state: 'restored', message: `connected to the server pid ${p.pid} on ${p.host} (${p.address}:${p.port})` });
  }

  /**
   * The change feed's long poll (POST /v1/feed): answers as soon as something changed after
   * `cursor`, or with the empty batch after `waitMs` (at most FEED_MAX_WAIT_MS). Fails over like
   * every call; a server that stops answers its waiting requests at once, and close() ends them
   * with the empty batch, as does aborting `signal` (a reader that moved on to another cursor).
   */
  async waitForChanges(cursor: FeedCursor, waitMs: number, signal?: AbortSignal): Promise<FeedBatch> {
    const body: FeedRequest = { cursor, waitMs };
    const abandon = new AbortController();
    const onAbort = () => abandon.abort();
    if (signal?.aborted) abandon.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#feeds.add(abandon);
    try {
      return await this.#call<FeedBatch>('/v1/feed', 'feed', { ...body }, waitMs + FEED_TIMEOUT_MARGIN_MS, abandon.signal);
    } catch (err) {
      // Ended by close(): the caller stops watching, and "nothing changed" is a true answer.
      if (abandon.signal.aborted) return { cursor, runs: [], removedRuns: [], cells: [] };
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#feeds.delete(abandon);
    }
  }

  async areaId(): Promise<string> {
    return this.#result('areaId', {});
  }
  async ensureRun(spec: RunSpec): Promise<RunRecord> {
    return this.#result('ensureRun', { spec });
  }
  async findRun(target: string, runname: string): Promise<RunRecord | undefined> {
    return this.#result('findRun', { target, runname });
  }
  async getRun(runId: number): Promise<RunRecord | undefined> {
    return this.#result('getRun', { runId });
  }
  async listRuns(query?: RunQuery): Promise<RunRecord[]> {
    return this.#result('listRuns', query ? { query } : {});
  }
  async listRunColumns(query?: RunQuery): Promise<RunColumns> {
    try {
      return await this.#result('listRunColumns', query ? { query } : {});
    } catch (err) {
      // A server of a Trellis before listRunColumns (one left running across an upgrade): the
      // listing it has, in the new shape.
      if (!isNoEndpoint(err)) throw err;
      return runColumnsOf(await this.listRuns(query));
    }
  }
  async setRunState(runId: number, state: RunState, options?: WriteOptions): Promise<RunRecord> {
    return this.#result('setRunState', withOptions({ runId, state }, options));
  }
  async closeRun(runId: number, options?: WriteOptions): Promise<RunRecord> {
    return this.#result('closeRun', withOptions({ runId }, options));
  }
  async appendResult(runId: number, result: ExternalResult, options?: WriteOptions): Promise<TestDetail> {
    return this.#result('appendResult', withOptions({ runId, result }, options));
  }
  async setRunParams(runId: number, params: Record<string, string>, options?: WriteOptions): Promise<RunRecord> {
    return this.#result('setRunParams', withOptions({ runId, params }, options));
  }
  async removeRun(runId: number, options?: WriteOptions): Promise<void> {
    try {
      await this.#result('removeRun', withOptions({ runId }, options));
    } catch (err) {
      // Sent again after a server died: the first one may have removed it already.
      if (!(err instanceof TrellisError && err.code === 'NO_RUN' && (await this.getRun(runId)) === undefined)) throw err;
    }
  }
  async registerTests(runId: number, regs: TestRegistration[], options?: WriteOptions): Promise<TestRecord[]> {
    const rows: TestRecord[] = [];
    for (const part of chunks(regs))
      rows.push(...(await this.#result<TestRecord[]>('registerTests', withOptions({ runId, regs: part }, options))));
    return rows;
  }
  async write(runId: number, ops: WriteOp[], options?: WriteOptions): Promise<void> {
    for (const part of chunks(ops)) await this.#result('write', withOptions({ runId, ops: part }, options));
  }
  async listTests(runId: number, query?: TestQuery): Promise<TestRecord[]> {
    return this.#result('listTests', query ? { runId, query } : { runId });
  }
  async getTest(runId: number, testname: string, itempath: string): Promise<TestDetail | undefined> {
    return this.#result('getTest', { runId, testname, itempath });
  }
  async showTest(query: ShowQuery, liveness: LivenessOptions): Promise<TestShow | undefined> {
    try {
      return await this.#result('showTest', { query, liveness });
    } catch (err) {
      // A server of a Trellis before showTest: the same answer from the calls it has.
      if (!isNoEndpoint(err)) throw err;
      return showTestBy(this, query, liveness);
    }
  }
  async getTestById(runId: number, testId: number): Promise<TestDetail | undefined> {
    return this.#result('getTestById', { runId, testId });
  }
  async listDetails(runId: number, query?: TestQuery): Promise<TestDetail[]> {
    return this.#result('listDetails', query ? { runId, query } : { runId });
  }
  async removeTests(runId: number, testIds: number[], options?: WriteOptions): Promise<void> {
    await this.#result('removeTests', withOptions({ runId, testIds }, options));
  }
  async claimRun(runId: number, agent: AgentSpec, liveness: LivenessOptions): Promise<AgentRecord> {
    return this.#result('claimRun', { runId, agent, liveness });
  }
  async claimJob(runId: number, testId: number, launchId: string, agent: AgentSpec, liveness: LivenessOptions): Promise<JobClaim> {
    return this.#result('claimJob', { runId, testId, launchId, agent, liveness });
  }
  async takeOrphans(runId: number, host: string): Promise<OrphanStep[]> {
    return this.#result('takeOrphans', { runId, host });
  }
  async registerAgent(runId: number, agent: AgentSpec): Promise<AgentRecord> {
    return this.#result('registerAgent', { runId, agent });
  }
  async heartbeat(runId: number, agentId: number, time: number): Promise<void> {
    await this.#result('heartbeat', { runId, agentId, time });
  }
  async endAgent(runId: number, agentId: number, time: number): Promise<void> {
    await this.#result('endAgent', { runId, agentId, time });
  }
  async listAgents(runId: number): Promise<AgentRecord[]> {
    return this.#result('listAgents', { runId });
  }
  async reapDead(runId: number, liveness: LivenessOptions): Promise<TestRecord[]> {
    return this.#result('reapDead', { runId, liveness });
  }
  async events(runId: number, sinceSeq: number, limit?: number): Promise<EventRecord[]> {
    return this.#result('events', limit === undefined ? { runId, sinceSeq } : { runId, sinceSeq, limit });
  }
  async changes(cursor: FeedCursor): Promise<FeedBatch> {
    return this.#result('changes', { cursor });
  }
  async history(query: HistoryQuery): Promise<OutcomeRecord[]> {
    return this.#result('history', { query });
  }
  async historySummary(query?: OutcomeSummaryQuery): Promise<OutcomeSummary[]> {
    return this.#result('historySummary', query ? { query } : {});
  }
  /** Safe to send again after a server died: the job's key makes the second call an update. */
  async recordOutcome(job: OutcomeJob): Promise<OutcomeRecord> {
    return this.#result('recordOutcome', { job });
  }
  /** Safe to send again: a test that holds its shares is granted them again. */
  async claimResources(request: ResourceRequest, liveness: LivenessOptions): Promise<ResourceAnswer> {
    return this.#result('claimResources', { request, liveness });
  }
  /** Safe to send again: what was given back is not there to give back twice. */
  async releaseResources(release: ResourceRelease): Promise<ResourceClaim[]> {
    return this.#result('releaseResources', { release });
  }
  async listResourceClaims(liveness: LivenessOptions): Promise<ResourceClaim[]> {
    return this.#result('listResourceClaims', { liveness });
  }
  async registerPoolAgent(spec: PoolAgentSpec, load: number | null, liveness: LivenessOptions): Promise<PoolAgentRecord> {
    return this.#result('registerPoolAgent', { spec, load, liveness });
  }
  async poolHeartbeat(beat: PoolHeartbeat): Promise<{ drain: boolean }> {
    return this.#result('poolHeartbeat', { beat });
  }
  async leavePool(name: string, session: string): Promise<void> {
    return this.#result('leavePool', { name, session });
  }
  async drainPoolAgent(name: string, options?: WriteOptions): Promise<PoolAgentRecord> {
    return this.#result('drainPoolAgent', withOptions({ name }, options));
  }
  /** Safe to send again: the jobs a lost answer gave come back with the next call (`have`). */
  async claimQueuedJobs(
    name: string,
    session: string,
    max: number,
    have: number[],
    liveness: LivenessOptions,
    exec?: AgentSpec,
    ended?: JobEnd[],
  ): Promise<TakenJob[]> {
    return this.#result('claimQueuedJobs', {
      name,
      session,
      max,
      have,
      liveness,
      ...(exec ? { exec } : {}),
      ...(ended && ended.length > 0 ? { ended } : {}),
    });
  }
  async endQueuedJob(id: number, name: string, session: string, note: string, execAgentId?: number): Promise<void> {
    return this.#result('endQueuedJob', { id, name, session, note, ...(execAgentId !== undefined ? { execAgentId } : {}) });
  }
  /** Safe to send again: a launch is queued once, and its writes are applied once (their op ids). */
  async enqueueJobs(requests: JobRequest[], liveness: LivenessOptions, launch?: CarriedWrites): Promise<QueuedJob[]> {
    return this.#result('enqueueJobs', { requests, liveness, ...(launch ? { launch } : {}) });
  }
  async cancelQueuedJob(launchId: string): Promise<QueuedJob | undefined> {
    return this.#result('cancelQueuedJob', { launchId });
  }
  async listQueue(runId: number, liveness: LivenessOptions): Promise<QueuedJob[]> {
    return this.#result('listQueue', { runId, liveness });
  }
  async listHosts(liveness: LivenessOptions): Promise<HostView[]> {
    return this.#result('listHosts', { liveness });
  }
  async takePoolOrphans(name: string, host: string): Promise<OrphanStep[]> {
    return this.#result('takePoolOrphans', { name, host });
  }
  /** Forgets the server and ends the long polls in flight (they answer "nothing changed"). */
  async close(): Promise<void> {
    for (const feed of this.#feeds) feed.abort();
    this.#conn = undefined;
  }
}

/** A server's 404 for a method it does not have (a server of an older Trellis). */
function isNoEndpoint(err: unknown): boolean {
  return err instanceof TrellisError && err.code === 'BAD_REQUEST' && err.message.includes('no such endpoint');
}

function withOptions(params: Record<string, unknown>, options: WriteOptions | undefined): Record<string, unknown> {
  return options === undefined ? params : { ...params, options };
}

function chunks<T>(list: T[]): T[][] {
  if (list.length <= MAX_BATCH) return [list];
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += MAX_BATCH) out.push(list.slice(i, i + MAX_BATCH));
  return out;
}
