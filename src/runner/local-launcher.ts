/**
 * The local launcher: runs each job's steps from the runner process itself (no extra Node process
 * per test), through JobRun.
 */
import type { JobStart, LaunchedJob, Launcher } from './launcher.js';
import { JobRun, type JobRunContext } from './job-run.js';

export class LocalLauncher implements Launcher {
  readonly kind = 'local';
  readonly #ctx: Omit<JobRunContext, 'role'>;

  constructor(ctx: Omit<JobRunContext, 'role'>) {
    this.#ctx = ctx;
  }

  launch(job: JobStart): LaunchedJob {
    return new JobRun(
      {
        testId: job.testId,
        testname: job.testname,
        itempath: job.itempath,
        def: job.def,
        workDir: job.workDir,
        env: job.env,
        preclean: job.preclean,
        reset: job.reset,
        startAt: job.startAt,
        exitCodes: job.exitCodes,
        inputs: job.inputs,
      },
      { ...this.#ctx, role: 'local' },
    );
  }

  async close(): Promise<void> {}
}
