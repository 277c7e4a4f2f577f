/**
 * The ready queue: jobs whose prerequisites are met, taken highest priority first (then in the
 * order they became ready), within a global limit and per-jobgroup limits. Pure bookkeeping: the
 * scheduler asks `next()` whenever a slot may have opened, so nothing ever polls.
 */

export interface QueuedJob {
  readonly key: string;
  readonly priority: number;
  readonly jobgroup: string | undefined;
}

interface Entry<J> {
  job: J;
  seq: number;
}

/** A binary heap ordered by priority (high first), then seq (low first). */
class Heap<J extends QueuedJob> {
  #items: Entry<J>[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): Entry<J> | undefined {
    return this.#items[0];
  }

  push(entry: Entry<J>): void {
    const items = this.#items;
    items.push(entry);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): Entry<J> | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < items.length && before(items[l]!, items[best]!)) best = l;
        if (r < items.length && before(items[r]!, items[best]!)) best = r;
        if (best === i) break;
        [items[i], items[best]] = [items[best]!, items[i]!];
        i = best;
      }
    }
    return top;
  }
}

function before<J extends QueuedJob>(a: Entry<J>, b: Entry<J>): boolean {
  if (a.job.priority !== b.job.priority) return a.job.priority > b.job.priority;
  return a.seq < b.seq;
}

/** Ready jobs, split by jobgroup so a full group never blocks others. */
export class JobQueue<J extends QueuedJob> {
  #heaps = new Map<string, Heap<J>>();
  #running = new Map<string, number>();
  #runningTotal = 0;
  #seq = 0;
  readonly #limit: number;
  readonly #groupLimits: ReadonlyMap<string, number>;

  constructor(limit: number, groupLimits: ReadonlyMap<string, number>) {
    this.#limit = Math.max(1, limit);
    this.#groupLimits = groupLimits;
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    let n = 0;
    for (const heap of this.#heaps.values()) n += heap.size;
    return n;
  }

  get running(): number {
    return this.#runningTotal;
  }

  push(job: J): void {
    const group = job.jobgroup ?? '';
    let heap = this.#heaps.get(group);
    if (!heap) {
      heap = new Heap<J>();
      this.#heaps.set(group, heap);
    }
    heap.push({ job, seq: this.#seq++ });
  }

  /** Takes the best job that fits now and counts it as running, or undefined. */
  next(): J | undefined {
    if (this.#runningTotal >= this.#limit) return undefined;
    let bestGroup: string | undefined;
    let best: Entry<J> | undefined;
    for (const [group, heap] of this.#heaps) {
      const head = heap.peek();
      if (!head || !this.#groupHasRoom(group)) continue;
      if (!best || before(head, best)) {
        best = head;
        bestGroup = group;
      }
    }
    if (bestGroup === undefined) return undefined;
    const job = this.#heaps.get(bestGroup)!.pop()!.job;
    this.#running.set(bestGroup, (this.#running.get(bestGroup) ?? 0) + 1);
    this.#runningTotal++;
    return job;
  }

  /** Frees the slot a job held. */
  release(job: J): void {
    const group = job.jobgroup ?? '';
    this.#running.set(group, (this.#running.get(group) ?? 1) - 1);
    this.#runningTotal--;
  }

  /** Drops every waiting job (on interrupt) and returns them. */
  drain(): J[] {
    const out: J[] = [];
    for (const heap of this.#heaps.values()) {
      for (let e = heap.pop(); e; e = heap.pop()) out.push(e.job);
    }
    return out;
  }

  #groupHasRoom(group: string): boolean {
    if (group === '') return true;
    const limit = this.#groupLimits.get(group);
    return limit === undefined || (this.#running.get(group) ?? 0) < limit;
  }
}
