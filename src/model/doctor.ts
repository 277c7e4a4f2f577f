/**
 * What `trellis doctor` says about a run area: one finding per thing it looked at, in the order it
 * looked. A problem is something that would make the area misbehave or look healthier than it is;
 * `--repair` fixes the ones it safely can (never deleting a result) and says what it did.
 */

/** The parts of a run area the doctor looks at, in order. */
const DOCTOR_PARTS = ['token', 'area-id', 'packets', 'lease', 'databases', 'folders'] as const;
export type DoctorPart = (typeof DOCTOR_PARTS)[number];

/** ok: checked and fine; note: worth knowing, nothing wrong; problem: needs attention. */
export type FindingLevel = 'ok' | 'note' | 'problem';

export interface Finding {
  part: DoctorPart;
  level: FindingLevel;
  /** what was found, naming the file or folder: one line */
  what: string;
  /** what to do about a problem that is still there */
  fix?: string;
  /** what --repair did about it (the problem is gone) */
  repaired?: string;
}

/** True when a finding still needs attention: a problem --repair did not fix. */
export function isOpenProblem(f: Finding): boolean {
  return f.level === 'problem' && f.repaired === undefined;
}

/** Shorthands for building findings. */
export const ok = (part: DoctorPart, what: string): Finding => ({ part, level: 'ok', what });
export const note = (part: DoctorPart, what: string, fix?: string): Finding =>
  fix === undefined ? { part, level: 'note', what } : { part, level: 'note', what, fix };
export const problem = (part: DoctorPart, what: string, fix: string): Finding => ({ part, level: 'problem', what, fix });
