/**
 * Keeps the agent pool current for an open hosts view: read at once, again every `everyMs`
 * (heartbeat ages move, and an agent that died turns offline without anyone writing), and at once
 * when the change feed says the pool changed (wake). One read at a time: a wake during a read reads
 * again after it, so a change is never hidden behind an answer read before it.
 */
import type { HostView } from '../model/pool.js';

export interface HostsReaderOptions {
  /** reads every registered agent (`Store.listHosts`) */
  list: () => Promise<HostView[]>;
  /** a read ended (the agents may have changed) */
  onRead: () => void;
  /** the longest time between reads while open (ms) */
  everyMs: number;
}

export class HostsReader {
  readonly #o: HostsReaderOptions;
  #hosts: HostView[] | undefined;
  #open = false;
  /** bumped by start and stop, so a read of an earlier opening is dropped */
  #generation = 0;
  #reading = false;
  #again = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: HostsReaderOptions) {
    this.#o = opts;
  }

  /** The agents as last read; undefined until the first read ends. */
  get hosts(): readonly HostView[] | undefined {
    return this.#hosts;
  }

  /** Starts reading (the view opened). */
  start(): void {
    this.stop();
    this.#open = true;
    this.#read();
  }

  /** Stops reading (the view closed); what was read stays for the next opening to show first. */
  stop(): void {
    this.#open = false;
    this.#generation++;
    this.#reading = false;
    this.#again = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The pool changed: read now (or right after the read under way). */
  wake(): void {
    if (!this.#open) return;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#read();
  }

  #read(): void {
    const generation = this.#generation;
    this.#reading = true;
    this.#timer = undefined;
    // A failed read (the server being replaced) keeps what is shown; the banner says why.
    void this.#o
      .list()
      .then(
        (hosts) => {
          if (generation === this.#generation) this.#hosts = hosts;
        },
        () => undefined,
      )
      .finally(() => {
        if (generation !== this.#generation) return;
        this.#reading = false;
        this.#o.onRead();
        if (this.#again) {
          this.#again = false;
          this.#read();
          return;
        }
        this.#timer = setTimeout(() => this.#read(), this.#o.everyMs);
        this.#timer.unref();
      });
  }
}
