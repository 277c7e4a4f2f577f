/**
 * The agents launcher (`--launcher agents`, docs/agents.md): a ready job goes to the queue in the
 * run area's store instead of being started here, and a `trellis agent` that may run it takes it
 * and runs it through exec's job runner. The runner still owns scheduling: only jobs whose turn has
 * come are queued. What a job needs of its agent: the test's `[requirements] tags` and `hosts`,
 * and the run's `--on` words (an agent's name or host, else a tag). A job no live agent can take
 * fails at once with a line that says why.
 */
import type { JobRequest, QueuedJob } from '../model/pool.js';
import { displayName } from '../model/display-name.js';
import type { Store } from '../store/store.js';
import { perTurn } from '../util/per-turn.js';
import type { JobSpec } from './job-spec.js';
import type { JobStart } from './launcher.js';
import type { Recorder } from './recorder.js';
import type { EngineEnd, RemoteEngine, Submission } from './remote-job.js';

export interface AgentEngineOptions {
  store: Store;
  /** the runner's recorder: a job's LAUNCHED mark goes with its enqueueJobs call (RemoteEngine.carriesLaunch) */
  recorder: Recorder;
  runId: number;
  target: string;
  runname: string;
  /** the runner's agent id in the run's database */
  runnerAgentId: number;
  deadtime: number;
  now: () => number;
  /** `[agents] requeue`: how often a job goes back to the queue when its agent dies under it */
  requeues: number;
  /** `trellis run --on`: agent names or hosts, or tags */
  on: readonly string[];
  warn: (message: string) => void;
  /** how often the queue is looked at for jobs that failed or ended without a word (ms) */
  pollMs?: number;
  /** the run's limit, for the queue to keep (JobRequest.runLimit) */
  runLimit?: number;
}

interface Pending {
  settle: (end: EngineEnd) => void;
  label: string;
}

export class AgentEngine implements RemoteEngine {
  readonly kind = 'agents';
  readonly carriesLaunch = true;
  readonly carriesSpec = true;
  readonly #opts: AgentEngineOptions;
  readonly #pending = new Map<string, Pending>();
  /** queues a job with the others submitted in the same turn (jobs that became ready together) */
  readonly #enqueue: (request: JobRequest) => Promise<QueuedJob>;
  #on: { tags: string[]; hosts: string[] } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling = false;
  #closed = false;

  constructor(opts: AgentEngineOptions) {
    this.#opts = opts;
    // The jobs' launch writes (their LAUNCHED marks, a rerun's reset) go in the same request, before
    // the jobs are queued: one request where there were two, and no round trip before the queue.
    this.#enqueue = perTurn(async (requests) => {
      const launch = await opts.recorder.takeOps(new Set(requests.map((r) => r.testId)));
      try {
        return await opts.store.enqueueJobs(requests, { now: opts.now(), deadtime: opts.deadtime }, launch?.writes);
      } finally {
        // Failed too: each job then ends with why (RemoteJob), recorded after this.
        launch?.settle();
      }
    });
  }

  async submit(job: JobStart, spec: JobSpec, specFile: string): Promise<Submission> {
    const o = this.#opts;
    const on = await this.#onWords();
    const request: JobRequest = {
      runId: o.runId,
      testId: job.testId,
      launchId: spec.launchId,
      specFile,
      spec,
      target: o.target,
      runname: o.runname,
      label: displayName(job),
      tags: unique([...job.def.placement.tags, ...on.tags]),
      hosts: job.def.placement.hosts.length > 0 ? [...job.def.placement.hosts] : on.hosts,
      requeues: o.requeues,
      runnerAgentId: o.runnerAgentId,
      ...(o.runLimit === undefined ? {} : { runLimit: o.runLimit }),
    };
    const queued = await this.#enqueue(request);
    let settle!: (end: EngineEnd) => void;
    const ended = new Promise<EngineEnd>((resolve) => (settle = resolve));
    const pending: Pending = { settle, label: request.label };
    if (!this.#settleIfOver(queued, pending)) {
      this.#pending.set(spec.launchId, pending);
      this.#startPolling();
    }
    return {
      // The agent that takes it records its name as the job (store claimJob).
      jobId: '',
      host: '',
      ended,
      cancel: () => {
        void o.store.cancelQueuedJob(spec.launchId).then(
          (j) => {
            if (j) this.#settleIfOver(j, this.#pending.get(spec.launchId));
          },
          () => undefined,
        );
      },
    };
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** `--on` words: a registered agent's name or host places the job there; any other word is a tag. */
  async #onWords(): Promise<{ tags: string[]; hosts: string[] }> {
    if (this.#on) return this.#on;
    const o = this.#opts;
    const hosts = o.on.length === 0 ? [] : await o.store.listHosts({ now: o.now(), deadtime: o.deadtime });
    const places = new Set(hosts.flatMap((h) => [h.name, h.host]));
    const on = { tags: o.on.filter((w) => !places.has(w)), hosts: o.on.filter((w) => places.has(w)) };
    this.#on = on;
    return on;
  }

  /** Settles a job the queue is done with; true when it was. */
  #settleIfOver(job: QueuedJob, pending: Pending | undefined): boolean {
    if (job.state === 'queued' || job.state === 'claimed') return false;
    this.#pending.delete(job.launchId);
    if (pending === undefined) return true;
    const reason =
      job.state === 'failed'
        ? job.note
        : job.state === 'cancelled'
          ? 'cancelled before an agent took it'
          : `agent ${job.agent ?? '?'} ended the job${job.note ? `: ${job.note}` : ''}`;
    pending.settle({ reason, final: true });
    return true;
  }

  #startPolling(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => void this.#poll(), this.#opts.pollMs ?? 1000);
    this.#timer.unref();
  }

  /** Looks at the run's queue: jobs that failed (no agent can take them, their agent died) or ended. */
  async #poll(): Promise<void> {
    this.#timer = undefined;
    if (this.#polling || this.#closed || this.#pending.size === 0) return;
    this.#polling = true;
    try {
      const o = this.#opts;
      const jobs = await o.store.listQueue(o.runId, { now: o.now(), deadtime: o.deadtime });
      for (const job of jobs) this.#settleIfOver(job, this.#pending.get(job.launchId));
    } catch {
      // The server is being replaced: the next look finds the new one.
    } finally {
      this.#polling = false;
      if (this.#pending.size > 0) this.#startPolling();
    }
  }
}

function unique(words: string[]): string[] {
  return [...new Set(words)];
}
