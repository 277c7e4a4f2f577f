/**
 * What a job leaves in its work folder besides its logs (design §6): the job spec the runner
 * wrote (`trellis exec` runs from it; its step list tells how far a job got) and one exit-status
 * file per step, written before anything reports it (by the helper that started the step,
 * runner/spawner.ts, or by the step's shell). When the process that
 * should have reported a test dies, these files are what the reaper recovers a finished result
 * from instead of calling it DEAD, and a running step's process group file is how it ends a step
 * whose pid never reached the database. The runner writes them; the store only reads them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseProcStat } from '../util/process-info.js';
import { encodePathComponent } from '../util/sanitize.js';

/** The job spec of a test's (or item's) work folder. */
export function jobSpecFile(workDir: string): string {
  return path.join(workDir, '.trellis-job.json');
}

/** A step's log. */
export function stepLogFile(workDir: string, step: string): string {
  return path.join(workDir, `${encodePathComponent(step)}.log`);
}

/** A step's exit status: the exit code, written there when the step's command ends on its own. */
export function stepExitFile(workDir: string, step: string): string {
  return path.join(workDir, `${encodePathComponent(step)}.exit`);
}

/**
 * A step's process group: its shell (the group's leader) writes its own /proc stat line there, or
 * just its pid without /proc, before the command starts.
 */
export function stepGroupFile(workDir: string, step: string): string {
  return path.join(workDir, `${encodePathComponent(step)}.group`);
}

/**
 * The process group a step's shell left, with its leader's start time when /proc gave one (so a
 * reused pid is not taken for it); undefined when there is none or it is not whole.
 */
export function readStepGroup(workDir: string, step: string): { pid: number; procStart: number | null } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(stepGroupFile(workDir, step), 'utf8').trim();
  } catch {
    return undefined;
  }
  if (/^[0-9]{1,10}$/.test(text)) return { pid: Number(text), procStart: null };
  const stat = parseProcStat(text);
  // The shell leads its group: a line that says otherwise names no group of ours.
  if (stat === undefined || stat.pgrp !== stat.pid) return undefined;
  return { pid: stat.pid, procStart: stat.startTime };
}

/** The exit code a step's shell left, or undefined when there is none (yet) or it is not a number. */
export function readStepExit(workDir: string, step: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(stepExitFile(workDir, step), 'utf8');
  } catch {
    return undefined;
  }
  const trimmed = text.trim();
  // An empty file is one being written: the same as none.
  if (!/^[0-9]{1,3}$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

/** Writes a step's exit code unless its shell already did (a command that replaced the shell). */
export function writeStepExit(workDir: string, step: string, code: number): void {
  const file = stepExitFile(workDir, step);
  if (readStepExit(workDir, step) !== undefined) return;
  fs.writeFileSync(file, `${code}\n`);
}

/**
 * A judged step's status: written once its log has been judged by its rules, before the step is
 * reported, so a reaper recovers the verdict of the rules rather than the bare exit code.
 */
export function stepVerdictFile(workDir: string, step: string): string {
  return path.join(workDir, `${encodePathComponent(step)}.verdict`);
}

/** Writes a judged step's status. */
export function writeStepVerdict(workDir: string, step: string, status: string): void {
  fs.writeFileSync(stepVerdictFile(workDir, step), `${status}\n`);
}

/** The status a judged step left, or undefined when it has none. */
export function readStepVerdict(workDir: string, step: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(stepVerdictFile(workDir, step), 'utf8');
  } catch {
    return undefined;
  }
  const trimmed = text.trim();
  return /^[A-Z_]{1,16}$/.test(trimmed) ? trimmed : undefined;
}

/** Forgets the exit, verdict and group files of the steps named (a rerun in the same folder). */
export function removeStepExits(workDir: string, steps: readonly string[]): void {
  for (const step of steps) {
    fs.rmSync(stepExitFile(workDir, step), { force: true });
    fs.rmSync(stepGroupFile(workDir, step), { force: true });
    fs.rmSync(stepVerdictFile(workDir, step), { force: true });
  }
}

/** What a job's spec says of its steps, for a reaper. */
export interface JobSteps {
  /** the step names, in order */
  steps: string[];
  exitCodes: ExitCodeMap;
  /** steps whose log is judged by rules: their status is their verdict, not their exit code */
  judged: ReadonlySet<string>;
}

/**
 * The step names of the job spec in `workDir` in order, how the job maps exit codes and which
 * steps have log rules; undefined when there is no readable spec (a job launched before specs
 * existed, or a folder cleaned away).
 */
export function readJobSteps(workDir: string): JobSteps | undefined {
  let value: unknown;
  try {
    const text = fs.readFileSync(jobSpecFile(workDir), 'utf8');
    if (text.length > 16 * 1024 * 1024) return undefined;
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const def = (value as { def?: { steps?: unknown; logRules?: unknown } }).def;
  if (!def || !Array.isArray(def.steps)) return undefined;
  const steps: string[] = [];
  const judged = new Set<string>();
  for (const s of def.steps as unknown[]) {
    const name = (s as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || name === '') return undefined;
    steps.push(name);
    // The runner's own job file marks each step; a remote spec carries the rules themselves.
    if ((s as { rules?: unknown }).rules === true) judged.add(name);
  }
  if (typeof def.logRules === 'object' && def.logRules !== null) for (const name of Object.keys(def.logRules)) judged.add(name);
  const exitCodes = (value as { exitCodes?: unknown }).exitCodes === 'megatest' ? 'megatest' : 'trellis';
  return { steps, exitCodes, judged };
}

/** How a step's exit code becomes a status: Trellis' map (design §6), or Megatest's (0 passes, else fails). */
export type ExitCodeMap = 'trellis' | 'megatest';
