/**
 * `trellis exec` taking a launched job (design §6): a job runs once. The runner marks the row
 * LAUNCHED with a launch id and writes the job spec; the first exec of that launch registers and
 * becomes the row's owner; a second exec (a launcher that ran it twice, a requeued batch job, a
 * user retrying by hand) is refused while the first lives, and so is an exec of an older launch
 * (the test was rerun, killed or reaped since). Runs inside the caller's transaction.
 */
import type { RunDb } from '../db/run-db.js';
import type { AgentRecord, TestRecord } from '../model/records.js';
import { displayName } from '../model/display-name.js';
import { TrellisError } from '../util/errors.js';
import { describeAgent, formatTime, isAgentAlive, reapDeadTests, type LivenessContext } from './liveness.js';
import type { AgentSpec } from './store.js';
import { saveTest, type ChangeTracker } from './test-changes.js';

/**
 * Claims test `testId` for the exec `agent` under `launchId`: the agent and the row as claimed, or
 * the refusal to throw once the transaction is committed (a dead exec found on the way is reaped,
 * and that must stay done).
 */
export function claimJob(
  rdb: RunDb,
  testId: number,
  launchId: string,
  agent: AgentSpec,
  ctx: LivenessContext,
  tracker: ChangeTracker,
): { agent: AgentRecord; test: TestRecord } | { refused: TrellisError } {
  try {
    return claimOrThrow(rdb, testId, launchId, agent, ctx, tracker);
  } catch (err) {
    if (err instanceof TrellisError && (err.code === 'JOB_GONE' || err.code === 'JOB_BUSY')) return { refused: err };
    throw err;
  }
}

function claimOrThrow(
  rdb: RunDb,
  testId: number,
  launchId: string,
  agent: AgentSpec,
  ctx: LivenessContext,
  tracker: ChangeTracker,
): { agent: AgentRecord; test: TestRecord } {
  let test = requireRow(rdb, testId);
  const name = displayName(test);
  const owner = test.agentId === null ? undefined : rdb.log.getAgent(test.agentId);
  // The same process asking again (its answer was lost with a server): it has the job already.
  // Not once the job is over: an agent's one process runs many jobs, and a job runs once.
  const same =
    owner && owner.kind === 'exec' && owner.host === agent.host && owner.pid === agent.pid && owner.procStart === agent.procStart;
  if (same && test.launchId === launchId && ['LAUNCHED', 'RUNNING', 'KILLREQ'].includes(test.state)) {
    return { agent: owner, test };
  }
  if (test.launchId !== launchId) {
    throw new TrellisError(
      'JOB_GONE',
      `${name} is no longer launched as ${launchId} (it is ${test.state}/${test.status}${test.launchId ? `, launch ${test.launchId}` : ''})`,
      'nothing to do: the test was rerun, killed or ended since this job was submitted',
    );
  }
  if (test.state === 'RUNNING' || (test.state === 'KILLREQ' && owner?.kind === 'exec')) {
    if (owner && isAgentAlive(owner, ctx)) {
      throw new TrellisError(
        'JOB_BUSY',
        `${name} is being run by ${describeAgent(owner)} since ${formatTime(owner.started)}`,
        'nothing to do: a job runs once; stop it with `trellis kill` if it must go',
      );
    }
    // Its exec died: the reaper records what it left, and this launch is over.
    reapDeadTests(rdb, ctx, '', tracker);
    test = requireRow(rdb, testId);
    throw new TrellisError('JOB_GONE', `${name} was found dead and is now ${test.state}/${test.status}`, 'rerun it with `trellis run`');
  }
  if (test.state !== 'LAUNCHED') {
    throw new TrellisError(
      'JOB_GONE',
      `${name} is ${test.state}/${test.status}, not waiting for this job to start`,
      'nothing to do: it was killed or ended before this job began',
    );
  }
  const rec = rdb.log.insertAgent(agent, ctx.now);
  rdb.log.addEvent(ctx.now, test.id, 'agent', `${describeAgent(rec)} took ${name}`, '');
  const after: TestRecord = {
    ...test,
    agentId: rec.id,
    host: agent.host,
    pid: agent.pid,
    ...(agent.poolAgent !== undefined ? { jobId: agent.poolAgent } : {}),
    updated: Math.max(test.updated, ctx.now),
  };
  saveTest(rdb, test, after, ctx.now, '', tracker);
  return { agent: rec, test: after };
}

function requireRow(rdb: RunDb, testId: number): TestRecord {
  const test = rdb.tests.get(testId);
  if (test === undefined) {
    throw new TrellisError('NO_TEST', `run ${rdb.runId} has no test with id ${testId}`, 'the job spec names a test that was removed');
  }
  return test;
}
