/**
 * The API's edge for names: the JSON schemas check shapes and sizes, these check the names a
 * client sends with the rules the CLI uses (model/names.ts), before the store sees them. A name
 * refused here is a BAD_VALUE (HTTP 400) that says which field and why.
 */
import type { StoreMethod } from '../model/protocol.js';
import { checkItemPath, checkJobName, checkLabel, checkRunName, checkTargetValue, checkTestName } from '../model/names.js';
import type { TestRegistration, WriteOp } from '../model/records.js';
import type { RunSpec } from '../store/store.js';
import { TrellisError } from '../util/errors.js';
import type { ExternalResult, OutcomeJob } from '../model/records.js';
import { resourceNameProblem, type ResourceRequest } from '../model/resources.js';
import { hasTerminalControls, termLine } from '../util/terminal-text.js';
import { agentNameProblem, type CarriedWrites, type JobEnd, type JobRequest, type PoolAgentSpec } from '../model/pool.js';

/** Refuses an agent name, tag or host requirement the pool's rules do not take. */
function checkAgentWord(word: string, where: string): void {
  const problem = agentNameProblem(word);
  if (problem !== undefined) {
    throw new TrellisError(
      'BAD_VALUE',
      `${where} '${termLine(word)}' ${problem}`,
      'name agents, tags and hosts with letters, digits, _, . and -',
    );
  }
}

type Body = Record<string, unknown>;

/** The names in write ops (a write of its own, or writes carried by another request). */
function checkOps(ops: readonly WriteOp[], where: string): void {
  ops.forEach((op, i) => {
    if (op.kind === 'step') checkLabel('step name', op.name, `${where}[${i}].name`);
    else if (op.kind === 'data') checkLabel('value name', op.name, `${where}[${i}].name`);
    else if (op.kind === 'rules') {
      checkLabel('step name', op.step, `${where}[${i}].step`);
      for (const [j, r] of op.rules.entries()) checkLabel('status', r.status, `${where}[${i}].rules[${j}].status`);
    }
    if (op.kind === 'resume') checkLabel('step name', op.fromStep, `${where}[${i}].fromStep`);
    if (op.kind === 'approve' && op.step !== '') checkLabel('step name', op.step, `${where}[${i}].step`);
    const status = op.kind === 'test' ? op.set.status : op.kind === 'step' || op.kind === 'data' ? op.status : undefined;
    if (status !== undefined && status !== '') checkLabel('status', status, `${where}[${i}].status`);
  });
}

/** The methods that bring names in, each with its check (the body already matches its schema). */
export const API_NAME_CHECKS: Partial<Record<StoreMethod, (body: Body) => void>> = {
  ensureRun(body) {
    const spec = body['spec'] as RunSpec;
    const values = Object.entries(spec.keys);
    for (const [key, value] of values) checkTargetValue(key, value, `ensureRun spec.keys.${key}`);
    if (values.length === 0) checkTargetValue('target', spec.target, 'ensureRun spec.target');
    else if (spec.target !== values.map(([, v]) => v).join('/')) {
      throw new TrellisError(
        'BAD_VALUE',
        `ensureRun: spec.target '${termLine(spec.target)}' is not the values of spec.keys joined by '/'`,
        'send the target as its key values joined by /, e.g. {"target": "linux/x86_64", "keys": {"OS": "linux", "ARCH": "x86_64"}}',
      );
    }
    checkRunName(spec.runname, 'ensureRun spec.runname');
  },
  setRunParams(body) {
    for (const [name, value] of Object.entries(body['params'] as Record<string, string>)) {
      if (hasTerminalControls(value)) {
        throw new TrellisError(
          'BAD_VALUE',
          `setRunParams params.${name}: the value contains a control character`,
          'send parameter values of printable characters',
        );
      }
    }
  },
  appendResult(body) {
    const r = body['result'] as ExternalResult;
    checkTestName(r.testname, 'appendResult result.testname');
    checkItemPath(r.itempath, 'appendResult result.itempath');
    for (const [i, v] of r.values.entries()) checkLabel('value name', v.name, `appendResult result.values[${i}].name`);
  },
  registerTests(body) {
    (body['regs'] as TestRegistration[]).forEach((r, i) => {
      checkTestName(r.testname, `registerTests regs[${i}].testname`);
      checkItemPath(r.itempath, `registerTests regs[${i}].itempath`);
    });
  },
  write(body) {
    checkOps(body['ops'] as WriteOp[], 'write ops');
  },
  claimResources(body) {
    (body['request'] as ResourceRequest).wants.forEach((w, i) => {
      const problem = resourceNameProblem(w.name);
      if (problem !== undefined) {
        throw new TrellisError(
          'BAD_VALUE',
          `claimResources request.wants[${i}].name '${termLine(w.name)}' ${problem}`,
          'name a resource as [resources] in trellis.config does',
        );
      }
    });
  },
  registerPoolAgent(body) {
    const spec = body['spec'] as PoolAgentSpec;
    checkAgentWord(spec.name, 'registerPoolAgent spec.name');
    for (const [i, t] of spec.tags.entries()) checkAgentWord(t, `registerPoolAgent spec.tags[${i}]`);
  },
  enqueueJobs(body) {
    for (const [j, req] of (body['requests'] as JobRequest[]).entries()) {
      for (const [i, t] of req.tags.entries()) checkAgentWord(t, `enqueueJobs requests[${j}].tags[${i}]`);
      for (const [i, h] of req.hosts.entries()) checkAgentWord(h, `enqueueJobs requests[${j}].hosts[${i}]`);
    }
    const launch = body['launch'] as CarriedWrites | undefined;
    if (launch) checkOps(launch.ops, 'enqueueJobs launch.ops');
  },
  claimQueuedJobs(body) {
    for (const [j, end] of ((body['ended'] as JobEnd[] | undefined) ?? []).entries()) {
      if (end.writes) checkOps(end.writes.ops, `claimQueuedJobs ended[${j}].writes.ops`);
    }
  },
  recordOutcome(body) {
    const job = body['job'] as OutcomeJob;
    checkJobName(job.testname, job.itempath ?? '');
  },
};
