/**
 * A step's status once its process has ended: from its exit code, and from its log when it has log
 * rules (docs/log-rules.md). Two areas, two rules:
 *
 * - an area read from megatest.config behaves as Megatest: without log rules a step passes only on
 *   exit 0 (exit 2 is a fail, not a warning); with log rules the rules decide alone (Megatest runs
 *   the step through logpro, whose exit code replaces the step's);
 * - Trellis' own areas map the exit code as design §6 says, and with log rules the step gets the
 *   worse of that and the rules' status, so neither a failing command nor a bad log passes.
 *
 * Judging writes logpro's `STEP.dat` beside the log.
 */
import type { RuleSet } from '../logrules/index.js';
import { judgeLogFile, ruleValues, summarizeRules, writeDatFile, type RuleValue } from '../logrules/index.js';
import type { RuleSummary } from '../model/records.js';
import { statusFromExit, worseStatus } from '../model/states.js';
import type { ExitCodeMap } from '../store/job-files.js';
import { isTrellisError } from '../util/errors.js';

export type { ExitCodeMap } from '../store/job-files.js';

/** How an area maps exit codes: Megatest's for an area read from megatest.config, else Trellis'. */
export function exitCodesOf(areaConfigFile: string): ExitCodeMap {
  return /(^|[\\/])megatest\.config$/.test(areaConfigFile) ? 'megatest' : 'trellis';
}

/** A step's status from its exit alone. */
export function exitStatus(code: number | null, signal: string | null, map: ExitCodeMap): string {
  if (map === 'megatest') return signal === null && code === 0 ? 'PASS' : 'FAIL';
  return statusFromExit(code, signal);
}

/** What became of one step. */
export interface StepVerdict {
  status: string;
  /** why it did not pass ('' when it did) */
  comment: string;
  /** what each rule found, when the step has rules and its log could be read */
  rules?: RuleSummary[];
  /** the value rules, as values of the test */
  values?: RuleValue[];
}

export interface StepEnd {
  step: string;
  logfile: string;
  code: number | null;
  signal: string | null;
  rules: RuleSet | undefined;
  map: ExitCodeMap;
  /** seconds since the epoch, for the rules' expires: dates */
  now: number;
  /** stops the judging pass (the job was stopped); the promise then rejects */
  abort?: AbortSignal;
}

/** Judges a step that ended by itself. */
export async function judgeStep(end: StepEnd): Promise<StepVerdict> {
  const byExit = exitStatus(end.code, end.signal, end.map);
  const how = end.signal ? `was killed by ${end.signal}` : `exited ${end.code}`;
  const exitComment = byExit === 'PASS' ? '' : `step ${end.step} ${how}`;
  if (end.rules === undefined) return { status: byExit, comment: exitComment };
  let judged: Awaited<ReturnType<typeof judgeLogFile>>;
  try {
    judged = await judgeLogFile(end.logfile, end.rules, { now: end.now, ...(end.abort ? { signal: end.abort } : {}) });
  } catch (err) {
    if (end.abort?.aborted || !isTrellisError(err)) throw err;
    return { status: 'FAIL', comment: `step ${end.step}: ${err.message}` };
  }
  writeDatFile(end.logfile, judged);
  const byLog = judged.status;
  const logComment = byLog === 'PASS' ? '' : `step ${end.step}: ${judged.reason}`;
  const verdict = { rules: summarizeRules(judged), values: ruleValues(end.step, judged) };
  if (end.map === 'megatest') return { status: byLog, comment: logComment, ...verdict };
  const status = worseStatus(byExit, byLog);
  const comment = [exitComment, byLog === 'PASS' ? '' : exitComment ? `log: ${judged.reason}` : logComment]
    .filter((c) => c !== '')
    .join('; ');
  return { status, comment, ...verdict };
}
