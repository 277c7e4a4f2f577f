/**
 * Group commit for the server's `write` calls: the write requests that arrive in one turn of the
 * event loop for the same run (and the same options) go to the store as one batch, so one SQLite
 * transaction and one run-summary refresh serve them all. With 50 clients each sending one op at a
 * time this triples the rate (bench/server.mjs). If such a batch fails, it was rolled back as a
 * whole, and each request is applied again on its own, in order, so each gets the answer it would
 * have got alone; op ids make sure nothing is recorded twice.
 */
import type { WriteOp, WriteOptions } from '../model/records.js';
import { MAX_BATCH } from '../model/protocol.js';
import type { Store } from '../store/store.js';

interface Pending {
  ops: WriteOp[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Group {
  requests: Pending[];
  size: number;
}

/** The store, with `write` batched across concurrent callers; every other method as it was. */
export function coalesceWrites(store: Store): Store {
  const open = new Map<string, Group>();

  async function flush(runId: number, options: WriteOptions | undefined, group: Group): Promise<void> {
    if (group.requests.length === 1) {
      const [only] = group.requests as [Pending];
      await store.write(runId, only.ops, options).then(only.resolve, only.reject);
      return;
    }
    try {
      await store.write(
        runId,
        group.requests.flatMap((r) => r.ops),
        options,
      );
      for (const r of group.requests) r.resolve();
    } catch {
      for (const r of group.requests) await store.write(runId, r.ops, options).then(r.resolve, r.reject);
    }
  }

  const write = (runId: number, ops: WriteOp[], options?: WriteOptions): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const key = `${runId}\0${JSON.stringify(options ?? null)}`;
      let group = open.get(key);
      if (group === undefined || group.size + ops.length > MAX_BATCH) {
        const mine: Group = { requests: [], size: 0 };
        group = mine;
        open.set(key, mine);
        setImmediate(() => {
          if (open.get(key) === mine) open.delete(key);
          void flush(runId, options, mine);
        });
      }
      group.requests.push({ ops, resolve, reject });
      group.size += ops.length;
    });

  return new Proxy(store, {
    get(target, key) {
      if (key === 'write') return write;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
