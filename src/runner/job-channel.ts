/**
 * A job's in-test channel (in-test-channel.ts): attached before its steps run, detached (every
 * request answered) before the job is judged. Each request is read by its front end — Megatest's
 * flags here, Trellis' own helpers by the CLI's parser handed down — and carried out by the job's
 * own InTestService. The folder is this process's, one per run area, opened with its first job
 * and closed by endChannels() when the run or exec is done.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runAreaPaths } from '../config/paths.js';
import { isTrellisError } from '../util/errors.js';
import { isPidAlive } from '../util/process-info.js';
import { encodePathComponent } from '../util/sanitize.js';
import { ChannelFollower, type ChannelRequest } from './in-test-channel.js';
import { parseMegatestArgs, type InTestRequest } from './in-test-requests.js';
import { InTestService, type InTestAnswer } from './in-test-service.js';
import type { JobRunContext, JobRunSpec } from './job-run.js';

/** A job's part of its process's channel. */
export interface JobChannel {
  /** what its steps' environment adds: the folder and the job's key */
  env: { TRELLIS_CHANNEL: string; TRELLIS_CHANNEL_JOB: string };
  /** answers what the job asked; later calls are told its steps have ended */
  close(): Promise<void>;
}

/** This process's channel folders, by run area. */
const followers = new Map<string, ChannelFollower>();

/** Closes this process's channels once its jobs are done (a run or an exec at its end). */
export async function endChannels(): Promise<void> {
  const open = [...followers.values()];
  followers.clear();
  await Promise.all(open.map((f) => f.close()));
}

/**
 * The process's channel folder in `runArea`, opened with its first job. Folders that processes of
 * this host left (their owner gone, whether it ended or died) are removed on the way: a late call
 * into one finds no folder, and is told the steps it came from have ended.
 */
function followerOf(runArea: string, owner: { host: string; pid: number }): ChannelFollower {
  let follower = followers.get(runArea);
  if (follower === undefined) {
    const parent = runAreaPaths(runArea).channelsDir;
    clearDeadChannels(parent, owner.host);
    const dir = path.join(parent, `${encodePathComponent(owner.host)}-${owner.pid}-${randomBytes(4).toString('hex')}`);
    follower = new ChannelFollower(dir, owner);
    follower.open();
    followers.set(runArea, follower);
  }
  return follower;
}

/** Removes the channel folders of this host's processes that are gone. */
function clearDeadChannels(parent: string, host: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(parent, name);
    try {
      const [ownerHost, ownerPid] = fs.readFileSync(path.join(dir, 'owner'), 'utf8').trim().split(' ');
      if (ownerHost === host && /^[0-9]+$/.test(ownerPid ?? '') && !isPidAlive(Number(ownerPid), null))
        fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Not a channel folder of ours, or another process removed it first.
    }
  }
}

/** Opens the job's in-test channel: its requests are carried out by an InTestService of its own. */
export function openJobChannel(spec: JobRunSpec, ctx: JobRunContext): JobChannel {
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
  const follower = followerOf(inTest.runArea, { host: ctx.host, pid: ctx.pid });
  const key = follower.attach(handle);
  return { env: { TRELLIS_CHANNEL: follower.dir, TRELLIS_CHANNEL_JOB: key }, close: () => follower.detach(key) };
}
