/**
 * The HTTP form of the Store interface, shared by the server (which validates and dispatches) and
 * the remote store (which sends). Every Store method is `POST /v1/store/<method>` with a JSON
 * object of named parameters; the answer is `{"result": …}` (no `result` for undefined) or
 * `{"error": {"code", "message", "hint"}}`. The JSON schemas here are the API's reference: a body
 * that does not match gets 400 and names the offending field.
 */
import { RUN_STATES, TEST_STATES } from '../model/states.js';
import type { Store } from '../store/store.js';

export type StoreMethod = Exclude<keyof Store, 'close'>;

type Schema = Record<string, unknown>;

const runId: Schema = { type: 'integer', minimum: 1 };
const text = (max = 4096): Schema => ({ type: 'string', maxLength: max });
const name: Schema = { type: 'string', minLength: 1, maxLength: 1024 };
const time: Schema = { type: 'number', minimum: 0 };
const nullableTime: Schema = { type: ['number', 'null'], minimum: 0 };
const stringMap: Schema = { type: 'object', additionalProperties: text(), maxProperties: 256 };
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

const writeOptions = obj({ force: { type: 'boolean' }, who: text(256) });
const agentSpec = obj(
  {
    kind: { enum: ['runner', 'exec', 'helper'] },
    host: { type: 'string', minLength: 1, maxLength: 255 },
    pid: { type: 'integer', minimum: 1 },
    procStart: { type: ['number', 'null'] },
  },
  ['kind', 'host', 'pid', 'procStart'],
);
const liveness = obj({ now: time, deadtime: time }, ['now', 'deadtime']);
const testFields = obj({
  state: { enum: [...TEST_STATES] },
  status: { type: 'string', minLength: 1, maxLength: 64 },
  comment: text(),
  host: text(255),
  pid: { type: ['integer', 'null'] },
  start: nullableTime,
  end: nullableTime,
  agentId: { type: ['integer', 'null'] },
  rundir: text(),
});
const opBase = { opId: { type: 'string', minLength: 1, maxLength: 128 }, testId: { type: 'integer', minimum: 1 }, time };
const writeOp: Schema = {
  type: 'object',
  required: ['kind'],
  discriminator: { propertyName: 'kind' },
  oneOf: [
    obj({ kind: { const: 'test' }, ...opBase, set: testFields }, ['kind', 'opId', 'testId', 'set', 'time']),
    obj(
      {
        kind: { const: 'step' }, ...opBase, name, state: { enum: ['RUNNING', 'COMPLETED', 'KILLED'] },
        status: { type: 'string', maxLength: 64 }, exitCode: { type: ['integer', 'null'] }, logfile: text(), comment: text(),
      },
      ['kind', 'opId', 'testId', 'name', 'state', 'status', 'time'],
    ),
    obj(
      {
        kind: { const: 'data' }, ...opBase, name, value: text(65536), expected: { type: ['string', 'null'] },
        tol: { type: ['string', 'null'] }, units: { type: ['string', 'null'] }, status: { type: 'string', maxLength: 64 }, comment: text(),
      },
      ['kind', 'opId', 'testId', 'name', 'value', 'status', 'time'],
    ),
    obj({ kind: { const: 'reset' }, ...opBase }, ['kind', 'opId', 'testId', 'time']),
  ],
};
const registration = obj(
  {
    testname: name, itempath: text(), priority: { type: 'number' }, rundir: text(),
    itemVars: stringMap, owner: text(), description: text(), tags: text(),
  },
  ['testname', 'itempath', 'priority', 'rundir'],
);

/** Most ops or registrations one request may carry; the remote store splits bigger batches. */
export const MAX_BATCH = 2000;

export interface MethodSpec {
  /** parameter names, in the order the Store method takes them */
  params: readonly string[];
  /** JSON schema of the request body */
  body: Schema;
}

const spec = (params: Record<string, Schema>, required: string[]): MethodSpec => ({
  params: Object.keys(params),
  body: obj(params, required),
});

/** Every Store method's HTTP parameters. */
export const STORE_API: Record<StoreMethod, MethodSpec> = {
  areaId: spec({}, []),
  ensureRun: spec(
    {
      spec: obj({ target: name, keys: stringMap, runname: name }, ['target', 'keys', 'runname']),
    },
    ['spec'],
  ),
  findRun: spec({ target: name, runname: name }, ['target', 'runname']),
  getRun: spec({ runId }, ['runId']),
  listRuns: spec({ query: obj({ runname: text(), target: text() }) }, []),
  setRunState: spec({ runId, state: { enum: [...RUN_STATES] }, options: writeOptions }, ['runId', 'state']),
  removeRun: spec({ runId, options: writeOptions }, ['runId']),
  registerTests: spec(
    { runId, regs: { type: 'array', items: registration, maxItems: MAX_BATCH }, options: writeOptions },
    ['runId', 'regs'],
  ),
  write: spec({ runId, ops: { type: 'array', items: writeOp, maxItems: MAX_BATCH }, options: writeOptions }, ['runId', 'ops']),
  listTests: spec(
    {
      runId,
      query: obj({
        pattern: text(),
        state: { type: 'array', items: text(64), maxItems: 64 },
        status: { type: 'array', items: text(64), maxItems: 64 },
        toplevelOnly: { type: 'boolean' },
      }),
    },
    ['runId'],
  ),
  getTest: spec({ runId, testname: name, itempath: text() }, ['runId', 'testname', 'itempath']),
  getTestById: spec({ runId, testId: { type: 'integer', minimum: 1 } }, ['runId', 'testId']),
  removeTests: spec(
    { runId, testIds: { type: 'array', items: { type: 'integer', minimum: 1 }, maxItems: 100000 }, options: writeOptions },
    ['runId', 'testIds'],
  ),
  claimRun: spec({ runId, agent: agentSpec, liveness }, ['runId', 'agent', 'liveness']),
  registerAgent: spec({ runId, agent: agentSpec }, ['runId', 'agent']),
  heartbeat: spec({ runId, agentId: { type: 'integer', minimum: 1 }, time }, ['runId', 'agentId', 'time']),
  endAgent: spec({ runId, agentId: { type: 'integer', minimum: 1 }, time }, ['runId', 'agentId', 'time']),
  listAgents: spec({ runId }, ['runId']),
  reapDead: spec({ runId, liveness }, ['runId', 'liveness']),
  events: spec(
    { runId, sinceSeq: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 10000 } },
    ['runId', 'sinceSeq'],
  ),
};

/** The header that carries the area token. */
export const TOKEN_HEADER = 'authorization';
/** Its value for a token. */
export const bearer = (token: string) => `Bearer ${token}`;
