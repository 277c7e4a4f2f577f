/**
 * Facts about processes on this host, to tell a live runner from a dead one. A pid alone is not
 * enough: pids are reused, so an agent also records its start time from /proc and a live process
 * with the same pid but another start time counts as gone.
 */
import { readFileSync } from 'node:fs';

/** What Trellis reads of a /proc/PID/stat line. */
export interface ProcStat {
  pid: number;
  /** one-letter process state: R, S, D, Z (zombie), X (dead), … */
  state: string;
  /** field 5: the process group */
  pgrp: number;
  /** field 22: start time in clock ticks since boot */
  startTime: number;
}

/** Reads /proc/PID/stat; undefined when it cannot be read (no such process, not Linux). */
function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return parseProcStat(text);
}

/** Parses a /proc/PID/stat line; undefined when it is not one (cut short, say). */
export function parseProcStat(text: string): ProcStat | undefined {
  // Field 2 is the command name in parentheses and may itself hold spaces or ')': split after
  // the last ')', where field 3 (the state) starts.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number(text.slice(0, text.indexOf(' ')));
  const fields = text.slice(close + 2).split(' ');
  const pgrp = Number(fields[5 - 3]);
  const startTime = Number(fields[22 - 3]);
  const state = fields[0];
  if (state === undefined || ![pid, pgrp, startTime].every((n) => Number.isInteger(n) && n >= 0)) return undefined;
  return { pid, state, pgrp, startTime };
}

let procAvailable: boolean | undefined;
function hasProc(): boolean {
  procAvailable ??= readProcStat(process.pid) !== undefined;
  return procAvailable;
}

/** The start time of a process (field 22 of /proc/PID/stat), or null when it cannot be read. */
export function processStartTime(pid: number): number | null {
  return readProcStat(pid)?.startTime ?? null;
}

/**
 * True when process `pid` exists on this host (EPERM from kill(pid, 0) still means it exists)
 * and, when `procStart` is given and /proc is readable, started at that time. Zombies count as
 * gone: they no longer run anything.
 */
export function isPidAlive(pid: number, procStart: number | null): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = readProcStat(pid);
  // Without /proc (not Linux) kill() is all we know; with it, a missing entry means it just exited.
  if (stat === undefined) return !hasProc();
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return procStart === null || stat.startTime === procStart;
}

/**
 * Ends (SIGKILL) the process group `pid` of a step left behind by a dead process, unless `pid` now
 * names another process (same pid, another start time: the group is not ours). A leader that is
 * gone while its group lives on is still ours: Linux never reuses a pid that names a live group.
 */
export function killStepGroup(pid: number, procStart: number | null): void {
  if (!Number.isInteger(pid) || pid <= 1) return;
  const stat = readProcStat(pid);
  if (stat !== undefined && procStart !== null && stat.startTime !== procStart) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}
