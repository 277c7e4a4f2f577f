/**
 * A runner's launch journal: one line per test it launched, appended to a file of its own in
 * `.meta/launches/` before the test's first step starts. LAUNCHED travels to the store in the
 * runner's next batch, a round trip a test would otherwise wait for before its first step; the
 * journal is what makes the wait unneeded. A runner killed (-9) before that batch landed leaves
 * its line on disk (the kernel keeps an append of a process that dies), and the reaper that finds
 * the runner dead records each such launch as if it had landed — LAUNCHED by that runner — so the
 * test's steps are recovered from their exit files or ended and marked DEAD, like those of any
 * test whose runner died: a step that ran to its end is never run again, and none runs on unknown.
 * The runner removes its journal once its last batch is in the store.
 *
 * The file is `<run id>-<agent id>`, its lines `{"test":ID,"at":SECONDS,"dir":WORKDIR}`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunDb } from '../db/run-db.js';
import { runAreaPaths } from '../config/paths.js';
import type { AgentRecord, TestRecord } from '../model/records.js';
import { ACTIVE_STATES } from '../model/states.js';
import { resetFields, saveTest, type ChangeTracker } from './test-changes.js';

/** The journal of one runner of one run. */
export function launchJournalFile(launchesDir: string, runId: number, agentId: number): string {
  return path.join(launchesDir, `${runId}-${agentId}`);
}

/** The writing end, held by a runner. */
export class LaunchJournal {
  readonly file: string;
  #fd: number | undefined;
  #broken = false;

  constructor(launchesDir: string, runId: number, agentId: number) {
    this.file = launchJournalFile(launchesDir, runId, agentId);
  }

  /**
   * Notes the launch of a test (its work folder made) before its first step starts; false when it
   * cannot be noted (the folder is not writable, the disk is full): the caller then waits for its
   * LAUNCHED to land instead.
   */
  note(testId: number, at: number, workDir: string): boolean {
    if (this.#broken) return false;
    try {
      if (this.#fd === undefined) {
        fs.mkdirSync(path.dirname(this.file), { recursive: true });
        this.#fd = fs.openSync(this.file, 'a');
      }
      fs.writeSync(this.#fd, `${JSON.stringify({ test: testId, at, dir: workDir })}\n`);
      return true;
    } catch {
      this.#broken = true;
      return false;
    }
  }

  /** Closes the file; removes it when every launch noted is in the store (`landed`). */
  close(landed: boolean): void {
    if (this.#fd === undefined) return;
    try {
      fs.closeSync(this.#fd);
    } catch {
      // closed already
    }
    this.#fd = undefined;
    if (landed) fs.rmSync(this.file, { force: true });
  }
}

/** Removes every journal of a run (the run is removed). */
export function removeLaunchJournals(launchesDir: string, runId: number): void {
  let names: string[];
  try {
    names = fs.readdirSync(launchesDir);
  } catch {
    return;
  }
  for (const name of names) if (name.startsWith(`${runId}-`)) fs.rmSync(path.join(launchesDir, name), { force: true });
}

/** One line of a journal. */
interface Launch {
  test: number;
  at: number;
  dir: string;
}

/**
 * Records the launches that dead runners of this run journaled and the store never got, as
 * LAUNCHED by that runner (the reaper then treats them as it treats any test of a dead runner),
 * and removes their journals. A launch whose row moved on since (another runner has it, or it
 * changed after the launch) is left alone. `alive` tells a live runner, whose journal is its own.
 * Runs inside the reaper's transaction.
 */
export function applyLaunchJournals(
  rdb: RunDb,
  runArea: string,
  agents: ReadonlyMap<number, AgentRecord>,
  alive: (agent: AgentRecord) => boolean,
  who: string,
  tracker: ChangeTracker,
): void {
  const dir = runAreaPaths(runArea).launchesDir;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  const prefix = `${rdb.runId}-`;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const agent = agents.get(Number(name.slice(prefix.length)));
    if (agent === undefined || agent.kind !== 'runner' || alive(agent)) continue;
    const file = path.join(dir, name);
    for (const launch of readLaunches(file, runArea)) recordLaunch(rdb, agent, launch, who, tracker);
    fs.rmSync(file, { force: true });
  }
}

/** The journal's well-formed lines whose folder lies in the run area (a torn last line is skipped). */
function readLaunches(file: string, runArea: string): Launch[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const root = path.resolve(runArea) + path.sep;
  const launches: Launch[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let value: Partial<Launch>;
    try {
      value = JSON.parse(line) as Partial<Launch>;
    } catch {
      continue;
    }
    const { test, at, dir } = value;
    if (!Number.isSafeInteger(test) || typeof at !== 'number' || typeof dir !== 'string') continue;
    if (!path.resolve(dir).startsWith(root)) continue;
    launches.push({ test: test!, at, dir });
  }
  return launches;
}

function recordLaunch(rdb: RunDb, agent: AgentRecord, launch: Launch, who: string, tracker: ChangeTracker): void {
  const row = rdb.tests.get(launch.test);
  // Landed (the row is the runner's), or moved on since: nothing was lost.
  if (row === undefined || row.agentId === agent.id || ACTIVE_STATES.has(row.state) || row.state === 'WAITING') return;
  if (row.updated > launch.at) return;
  // A rerun's reset travels with its LAUNCHED: what the row holds of the attempt before goes too.
  rdb.details.deleteFor(row.id);
  rdb.rules.deleteFor(row.id);
  const launched: TestRecord = {
    ...resetFields(row, launch.at),
    state: 'LAUNCHED',
    host: agent.host,
    pid: agent.pid,
    agentId: agent.id,
    start: launch.at,
    rundir: launch.dir,
    launcher: 'local',
  };
  saveTest(rdb, row, launched, launch.at, who, tracker);
  rdb.log.addEvent(
    launch.at,
    row.id,
    'agent',
    `launched by ${agent.kind} pid ${agent.pid} on host ${agent.host} (from its launch journal)`,
    who,
  );
}
