/**
 * The launcher seam (design §6): the runner owns scheduling, a launcher only starts, stops and
 * watches jobs that are ready. The scheduler never knows which launcher runs a job; the executor
 * hands each ready job to the launcher chosen for it and waits for its outcome.
 *
 * Launchers: `local` runs the steps in the runner's own process; `slurm`, `ssh` and any other
 * command (Megatest's `[jobtools] launcher`) start `trellis exec` elsewhere, which runs the steps
 * and reports through the run area's server; the runner learns the outcome from the store.
 */
import type { TestDefinition } from '../config/types.js';
import type { Item } from '../config/types.js';
import type { JobOutcome } from './job-run.js';
import type { StepInputs } from './step-refs.js';
import type { ExitCodeMap } from './step-verdict.js';

/** A ready job, as the executor hands it to a launcher. */
export interface JobStart {
  /** `test` or `test/itempath` */
  key: string;
  testId: number;
  testname: string;
  itempath: string;
  item: Item | undefined;
  def: TestDefinition;
  workDir: string;
  /** the test's whole environment (the runner's own, with the test's on top) */
  env: Record<string, string>;
  /** what the test's environment adds to or changes in the runner's: what travels to another host */
  envDelta: () => Record<string, string>;
  preclean: boolean;
  /** the row is not pristine (a rerun): clear its steps and data first */
  reset: boolean;
  /** index in stepsOf(def) of the first step to run (a resume, or going on after a sign-off); 0 for all */
  startAt: number;
  /** how the area maps exit codes (Megatest's rule for a megatest.config area) */
  exitCodes: ExitCodeMap;
  /** what fills in `{NAME}` and `{TEST:NAME}` in the steps: the run's parameters, the producers waited on */
  inputs: StepInputs;
}

/** A job a launcher started. */
export interface LaunchedJob {
  /** resolves once the job's end is recorded (or handed to the recorder, for the local launcher) */
  readonly done: Promise<JobOutcome>;
  /** TERM (or its launcher's cancel), then KILL after a grace period; ends KILLED with `status` */
  stop(status: string, reason: string): void;
  /** KILL at once (a second Ctrl-C) */
  kill(reason: string): void;
}

export interface Launcher {
  /** `local`, `slurm`, `ssh` or `command`: recorded on each test it starts */
  readonly kind: string;
  launch(job: JobStart): LaunchedJob;
  /** Releases what the launcher holds open (ssh connections, pollers) once no job runs. */
  close(): Promise<void>;
}
