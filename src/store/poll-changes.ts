/**
 * The change feed's wait without a server: a `--direct` reader has no one to wake it, so it asks
 * the store again every interval. The remote store has the real long poll (waitForChanges).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { hasFeedChanges } from '../model/protocol.js';
import type { FeedBatch, FeedCursor } from '../model/records.js';
import type { Store } from './store.js';

/** How often pollChanges asks the store (ms): what the server's own recheck uses too. */
export const POLL_INTERVAL_MS = 250;

/**
 * Asks `store.changes(cursor)` every `intervalMs` until it has something, `waitMs` has passed, or
 * `signal` is aborted; resolves with the last batch read (the empty one when nothing changed).
 */
export async function pollChanges(
  store: Pick<Store, 'changes'>,
  cursor: FeedCursor,
  waitMs: number,
  intervalMs = POLL_INTERVAL_MS,
  signal?: AbortSignal,
): Promise<FeedBatch> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const batch = await store.changes(cursor);
    const left = deadline - Date.now();
    if (hasFeedChanges(batch) || left <= 0 || signal?.aborted) return batch;
    try {
      await sleep(Math.min(intervalMs, left), undefined, { signal });
    } catch (err) {
      // Aborted: the caller stops watching; what was read last is still a valid answer.
      if (signal?.aborted) return batch;
      throw err;
    }
  }
}
