/**
 * A job's in-test channel (in-test-channel.ts): opened before its steps run, closed (every request
 * answered) before the job is judged. Each request is read by its front end — Megatest's flags
 * here, Trellis' own helpers by the CLI's parser handed down — and carried out by the job's own
 * InTestService.
 */
import { isTrellisError } from '../util/errors.js';
import { ChannelFollower, type ChannelRequest } from './in-test-channel.js';
import { parseMegatestArgs, type InTestRequest } from './in-test-requests.js';
import { InTestService, type InTestAnswer } from './in-test-service.js';
import type { JobRunContext, JobRunSpec } from './job-run.js';

/** Opens the job's in-test channel: its requests are carried out by an InTestService of its own. */
export function openJobChannel(spec: JobRunSpec, ctx: JobRunContext): ChannelFollower {
  const { inTest } = ctx;
  const service = new InTestService({
    store: inTest.store,
    runId: inTest.runId,
    testId: spec.testId,
    testname: spec.testname,
    workDir: spec.workDir,
    runArea: inTest.runArea,
    writeOptions: inTest.writeOptions,
    now: ctx.now,
    settled: () => ctx.recorder.settled(),
    jobKey: `${spec.testId}-${Math.round(ctx.now() * 1000)}`,
  });
  const handle = async (req: ChannelRequest): Promise<InTestAnswer> => {
    let request: InTestRequest;
    try {
      request = req.front === 'megatest' ? parseMegatestArgs(req.argv, req.stdin) : inTest.parseHelper(req.argv);
    } catch (err) {
      if (!isTrellisError(err)) throw err;
      return { code: err.exitCode, stdout: '', stderr: `${req.front}: ${err.toLine()}\n` };
    }
    return service.handle(req.id, request, req.front);
  };
  const follower = new ChannelFollower(spec.workDir, handle, { host: ctx.host, pid: ctx.pid });
  follower.open();
  return follower;
}
