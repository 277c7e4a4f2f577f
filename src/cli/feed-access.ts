/**
 * The change feed for the live views (the dashboard, the web view): long polls through the
 * server, or polls of the databases with --direct.
 */
import { RemoteStore } from '../client/remote-store.js';
import { pollChanges } from '../store/poll-changes.js';
import type { Store } from '../store/store.js';
import type { FeedAccess } from '../view/live-source.js';

export function feedOf(store: Store): FeedAccess {
  if (store instanceof RemoteStore) {
    return { changes: (c) => store.changes(c), waitForChanges: (c, ms, signal) => store.waitForChanges(c, ms, signal) };
  }
  return { changes: (c) => store.changes(c), waitForChanges: (c, ms, signal) => pollChanges(store, c, ms, undefined, signal) };
}
