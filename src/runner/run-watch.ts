/**
 * What a runner does on a clock: keep its heartbeat fresh (so others can tell it is alive) and
 * pick up kill requests that `trellis kill` left in the run's database. The timer is unref'd: it
 * never keeps the process alive on its own.
 */
import type { Store } from '../store/store.js';

/** Heartbeats are written at most this often (seconds). */
const HEARTBEAT_SECONDS = 10;
/** With jobs on other hosts, dead execs are looked for this often (seconds). */
const REAP_SECONDS = 5;

export class RunWatch {
  readonly #opts: RunWatchOptions;
  #timer: NodeJS.Timeout | undefined;
  #lastBeat = 0;
  #lastReap = 0;
  #busy = false;
  #seen = new Set<number>();

  constructor(opts: RunWatchOptions) {
    this.#opts = opts;
  }

  start(): void {
    this.#lastBeat = this.#opts.now();
    this.#timer = setInterval(() => void this.#tick(), this.#opts.everySeconds * 1000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #tick(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    const { store, runId, agentId, now } = this.#opts;
    try {
      if (now() - this.#lastBeat >= HEARTBEAT_SECONDS) {
        this.#lastBeat = now();
        await store.heartbeat(runId, agentId, this.#lastBeat);
      }
      const reap = this.#opts.reap;
      if (reap && now() - this.#lastReap >= REAP_SECONDS) {
        this.#lastReap = now();
        await store.reapDead(runId, { now: this.#lastReap, deadtime: reap.deadtime });
      }
      const asked = await store.listTests(runId, { state: ['KILLREQ'] });
      for (const t of asked) {
        if (this.#seen.has(t.id)) continue;
        this.#seen.add(t.id);
        this.#opts.onKillRequest(t.id);
      }
      await this.#opts.onTick?.();
    } catch {
      // A failed check is retried on the next tick; the recorder reports real write failures.
    } finally {
      this.#busy = false;
    }
  }
}

export interface RunWatchOptions {
  store: Store;
  runId: number;
  agentId: number;
  now: () => number;
  /** seconds between checks */
  everySeconds: number;
  onKillRequest: (testId: number) => void;
  /** one more check on each tick (the sign-offs of parked tests) */
  onTick?: () => Promise<void>;
  /** look for dead agents of the run every few seconds (jobs run by `trellis exec` elsewhere) */
  reap?: { deadtime: number } | undefined;
}
