/**
 * Changes people make to a run by hand: set state/status, remove, kill. Each one goes through
 * the store (so locks and the events log apply) and keeps the work folders inside the run area.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isInside } from '../config/paths.js';
import type { RunRecord, TestRecord, WriteOptions } from '../model/records.js';
import { parseTestPattern } from '../model/pattern.js';
import { isFinal, type TestState } from '../model/states.js';
import { isAgentAlive } from '../store/liveness.js';
import type { LivenessOptions, Store } from '../store/store.js';
import { isPidAlive } from '../util/process-info.js';
import { isDamagedRunDb, TrellisError } from '../util/errors.js';
import { randomUUID } from 'node:crypto';

/** Rows a change by pattern applies to: items rather than their rolled-up test. */
async function rowsToChange(store: Store, runId: number, pattern: string | undefined): Promise<TestRecord[]> {
  const all = await store.listTests(runId, {});
  const match = pattern ? parseTestPattern(pattern) : undefined;
  // A test with items takes its state from them, so change the items.
  const withItems = new Set(all.filter((r) => r.itempath !== '').map((r) => r.testname));
  return all.filter((r) => (!match || match.matchItem(r.testname, r.itempath)) && (r.itempath !== '' || !withItems.has(r.testname)));
}

/** Sets state and/or status of the matching tests; returns how many rows changed. */
export async function setStateStatus(
  store: Store,
  runId: number,
  opts: { pattern: string; state?: TestState; status?: string; now: number; write: WriteOptions },
): Promise<number> {
  const rows = await rowsToChange(store, runId, opts.pattern);
  const set = { ...(opts.state ? { state: opts.state } : {}), ...(opts.status ? { status: opts.status } : {}) };
  await store.write(
    runId,
    rows.map((r) => ({ kind: 'test' as const, opId: randomUUID(), testId: r.id, set, time: opts.now })),
    opts.write,
  );
  return rows.length;
}

/** The run's live runner, if any, by the store's own rule (pid and start time here, heartbeat elsewhere). */
async function findLiveRunner(store: Store, run: RunRecord, liveness: LivenessOptions, host: string) {
  const agents = await store.listAgents(run.id);
  return agents.find((a) => a.kind === 'runner' && isAgentAlive(a, { ...liveness, host, isPidAlive }));
}

/** Refuses (RUN_BUSY) while a live runner holds the run. */
export async function assertNoLiveRunner(store: Store, run: RunRecord, liveness: LivenessOptions, host: string): Promise<void> {
  const live = await findLiveRunner(store, run, liveness, host);
  if (live) {
    throw new TrellisError(
      'RUN_BUSY',
      `run ${run.target}/${run.runname} is being run by pid ${live.pid} on ${live.host}`,
      'wait for it to end, or stop it with `trellis kill` first',
    );
  }
}

/** Removes a whole run (database, row, work folders) or the tests matching `pattern`. */
export async function removeFromRun(
  store: Store,
  run: RunRecord,
  opts: { pattern?: string; runDir: string; runArea: string; liveness: LivenessOptions; host: string; write: WriteOptions },
): Promise<{ tests: number; folders: number }> {
  if (!opts.pattern) {
    // A run whose database is missing or damaged has no runner or tests to read: it goes as it is.
    let tests = 0;
    try {
      await assertNoLiveRunner(store, run, opts.liveness, opts.host);
      tests = (await store.listTests(run.id, {})).length;
    } catch (err) {
      if (!isDamagedRunDb(err)) throw err;
    }
    await store.removeRun(run.id, opts.write);
    const removed = removeFolder(opts.runDir, opts.runArea) ? 1 : 0;
    return { tests, folders: removed };
  }
  await assertNoLiveRunner(store, run, opts.liveness, opts.host);
  const pattern = parseTestPattern(opts.pattern);
  const all = await store.listTests(run.id, {});
  const matched = new Set(all.filter((r) => pattern.matchItem(r.testname, r.itempath)));
  // A test with items goes (with its folder) only when all its items go: `-p t/2` keeps t and t/1.
  const rows = [...matched].filter(
    (r) => r.itempath !== '' || all.every((i) => i.testname !== r.testname || i.itempath === '' || matched.has(i)),
  );
  // Rows first: a locked run refuses here, before any folder is gone.
  await store.removeTests(
    run.id,
    rows.map((r) => r.id),
    opts.write,
  );
  let folders = 0;
  for (const r of rows) if (r.rundir && removeFolder(r.rundir, opts.runArea)) folders++;
  return { tests: rows.length, folders };
}

/** Removes a folder, but only one inside the run area. */
function removeFolder(dir: string, runArea: string): boolean {
  if (!isInside(runArea, dir) || path.resolve(dir) === path.resolve(runArea)) return false;
  if (!fs.existsSync(dir)) return false;
  fs.rmSync(dir, { recursive: true, force: true });
  return true;
}

/** Asks the run's runner to stop the matching tests that have not ended; returns them. */
export async function requestKill(
  store: Store,
  run: RunRecord,
  opts: { pattern?: string; now: number; write: WriteOptions; liveness: LivenessOptions; host: string },
): Promise<TestRecord[]> {
  // Without a live runner nothing is running or queued: dead runners' tests were reaped already.
  if (!(await findLiveRunner(store, run, opts.liveness, opts.host))) return [];
  const rows = await rowsToChange(store, run.id, opts.pattern);
  const targets = rows.filter((r) => !isFinal(r.state, r.status));
  await store.write(
    run.id,
    targets.map((r) => ({ kind: 'test' as const, opId: randomUUID(), testId: r.id, set: { state: 'KILLREQ' as const }, time: opts.now })),
    opts.write,
  );
  return targets;
}
