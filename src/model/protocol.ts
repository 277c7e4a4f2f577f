/**
 * What servers and clients share (design §5): the heartbeat packet, the order clients choose
 * servers in, /health, and the HTTP form of the Store interface. Every Store method is
 * `POST /v1/store/<method>` with a JSON object of named parameters; the answer is
 * `{"result": …}` (no `result` for undefined) or `{"error": {"code", "message", "hint"}}`. The
 * JSON schemas here are the API's reference: a body that does not match gets 400 and names the
 * offending field.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { FeedBatch, FeedCursor } from './records.js';
import { RUN_STATES, TEST_STATES } from './states.js';
import { MAX_RESOURCE_NAME } from './resources.js';
import { MAX_AGENT_NAME, MAX_SLOTS, MAX_TAGS } from './pool.js';

// ---- packets ----

export const INVOCATIONS = ['dboard', 'runner', 'other', 'exec'] as const;
export type Invocation = (typeof INVOCATIONS)[number];

/** A server's heartbeat packet: `.meta/<sha1 of these bytes>.pkt`. */
export interface Packet {
  host: string;
  /** an IP address of the server's host that other hosts can reach */
  address: string;
  port: number;
  pid: number;
  invocation: Invocation;
  /** seconds since the epoch */
  started: number;
  version: string;
  areaId: string;
}

/** A packet as found on disk. */
export interface FoundPacket {
  file: string;
  sha1: string;
  packet: Packet;
  /** last touch, seconds since the epoch */
  touched: number;
}

/** A server touches its packet this often (seconds). */
export const TOUCH_INTERVAL = 10;
/** A packet not touched for this long (seconds) is stale: its server is ignored. */
export const STALE_AFTER = 30;
/** Packets are a few hundred bytes; anything bigger is not one. */
export const MAX_PACKET_BYTES = 4096;
/** Hosts' clocks differ a little; a start time this far (seconds) ahead is still believed. */
const CLOCK_SLACK = 5;
/** A packet's file name. */
export const PACKET_NAME = /^[0-9a-f]{40}\.pkt$/;

export const sha1 = (bytes: string | Uint8Array) => createHash('sha1').update(bytes).digest('hex');

/** The bytes of a packet and their SHA-1, which names the file. */
export function encodePacket(p: Packet): { text: string; sha1: string } {
  const ordered: Packet = {
    host: p.host,
    address: p.address,
    port: p.port,
    pid: p.pid,
    invocation: p.invocation,
    started: p.started,
    version: p.version,
    areaId: p.areaId,
  };
  const text = `${JSON.stringify(ordered)}\n`;
  return { text, sha1: sha1(text) };
}

/** Checks the shape of a parsed packet; returns it typed, or what is wrong. */
export function validatePacket(value: unknown): Packet | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const v = value as Record<string, unknown>;
  const str = (k: string, max: number) => typeof v[k] === 'string' && (v[k] as string).length > 0 && (v[k] as string).length <= max;
  const int = (k: string, lo: number, hi: number) => Number.isInteger(v[k]) && (v[k] as number) >= lo && (v[k] as number) <= hi;
  if (!str('host', 255)) return 'bad host';
  if (typeof v['address'] !== 'string' || isIP(v['address']) === 0) return 'bad address';
  if (!int('port', 1, 65535)) return 'bad port';
  if (!int('pid', 1, 2 ** 31)) return 'bad pid';
  if (!INVOCATIONS.includes(v['invocation'] as Invocation)) return 'bad invocation';
  if (typeof v['started'] !== 'number' || !Number.isFinite(v['started']) || v['started'] <= 0) return 'bad started';
  if (!str('version', 64)) return 'bad version';
  if (!str('areaId', 128)) return 'bad areaId';
  return v as unknown as Packet;
}

/**
 * The packets a client should try, best first (design §5): fresh ones only; invocation dboard →
 * runner → other → exec; then the shortest run so far; then SHA-1. A packet claiming to have
 * started in the future cannot be trusted to mean anything and goes last.
 */
export function choosePackets(found: readonly FoundPacket[], now: number): FoundPacket[] {
  const key = (f: FoundPacket) => ({
    future: f.packet.started > now + CLOCK_SLACK ? 1 : 0,
    tier: INVOCATIONS.indexOf(f.packet.invocation),
    uptime: now - f.packet.started,
  });
  return found
    .filter((f) => now - f.touched <= STALE_AFTER)
    .map((f) => ({ f, k: key(f) }))
    .sort((a, b) => a.k.future - b.k.future || a.k.tier - b.k.tier || a.k.uptime - b.k.uptime || (a.f.sha1 < b.f.sha1 ? -1 : 1))
    .map((x) => x.f);
}

// ---- the API ----

/** What GET /v1/health answers. */
export interface HealthInfo {
  areaId: string;
  host: string;
  pid: number;
  invocation: Invocation;
  started: number;
  version: string;
  /** seconds since the server started */
  uptime: number;
  /**
   * Answering a proof (`Authorization: Proof NONCE.MAC`): the server's proof that it knows the area
   * token too, bound to the nonce and the area id (util/token-file.ts). A client sends the token
   * itself only to a server that proved this.
   */
  proof?: string;
}

/** The Store methods the API carries (all but close). */
export const STORE_METHODS = [
  'areaId',
  'ensureRun',
  'findRun',
  'getRun',
  'listRuns',
  'listRunColumns',
  'setRunState',
  'closeRun',
  'appendResult',
  'setRunParams',
  'removeRun',
  'registerTests',
  'write',
  'listTests',
  'getTest',
  'getTestById',
  'showTest',
  'removeTests',
  'claimRun',
  'registerAgent',
  'heartbeat',
  'endAgent',
  'listAgents',
  'reapDead',
  'events',
  'changes',
  'listDetails',
  'claimJob',
  'takeOrphans',
  'history',
  'historySummary',
  'recordOutcome',
  'claimResources',
  'releaseResources',
  'listResourceClaims',
  'registerPoolAgent',
  'poolHeartbeat',
  'leavePool',
  'drainPoolAgent',
  'claimQueuedJobs',
  'endQueuedJob',
  'enqueueJobs',
  'cancelQueuedJob',
  'listQueue',
  'listHosts',
  'takePoolOrphans',
] as const;
export type StoreMethod = (typeof STORE_METHODS)[number];

/** The methods that may change what the change feed shows. */
export const WRITE_METHODS: ReadonlySet<StoreMethod> = new Set<StoreMethod>([
  'ensureRun',
  'setRunState',
  'closeRun',
  'appendResult',
  'setRunParams',
  'removeRun',
  'registerTests',
  'write',
  'removeTests',
  'reapDead',
  'showTest',
  'claimRun',
  'claimJob',
  'claimResources',
  'releaseResources',
  'listResourceClaims',
  'registerPoolAgent',
  'leavePool',
  'drainPoolAgent',
  'claimQueuedJobs',
  'endQueuedJob',
  'enqueueJobs',
  'cancelQueuedJob',
  'listQueue',
  'listHosts',
  'takePoolOrphans',
]);

/**
 * The writes a client signs (docs/security.md): all but the store's own housekeeping, which a
 * reader triggers and whose effect the store's liveness rules decide, not the caller (marking dead
 * tests, freeing dead holders' resources). `show` and `list tests` need no handshake for it.
 */
export const SIGNED_METHODS: ReadonlySet<StoreMethod> = new Set<StoreMethod>(
  [...WRITE_METHODS].filter((m) => !['reapDead', 'listResourceClaims', 'showTest', 'listQueue', 'listHosts'].includes(m)),
);

type Schema = Record<string, unknown>;

const runId: Schema = { type: 'integer', minimum: 1 };
const text = (max = 4096): Schema => ({ type: 'string', maxLength: max });
const name: Schema = { type: 'string', minLength: 1, maxLength: 1024 };
/**
 * A name that comes in to be stored: only its size is the schema's; what it may contain (and that
 * it is not empty) is checked by the name rules (server/api-names.ts), which say so in words.
 */
const newName: Schema = { type: 'string', maxLength: 1024 };
const time: Schema = { type: 'number', minimum: 0 };
const nullableTime: Schema = { type: ['number', 'null'], minimum: 0 };
const stringMap: Schema = { type: 'object', additionalProperties: text(), maxProperties: 256 };
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

/** Run parameters: names of letters, digits and _ (what [params] allows), values of up to 4096 characters. */
const runParams: Schema = {
  type: 'object',
  propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 256 },
  additionalProperties: text(),
  maxProperties: 256,
};
const writeOptions = obj({ force: { type: 'boolean' }, who: text(256), asAgent: { type: 'integer', minimum: 1 } });
const agentName: Schema = { type: 'string', minLength: 1, maxLength: MAX_AGENT_NAME };
const nameList: Schema = { type: 'array', items: agentName, maxItems: MAX_TAGS };
const session: Schema = { type: 'string', minLength: 1, maxLength: 64 };
const agentSpec = obj(
  {
    kind: { enum: ['runner', 'exec', 'helper'] },
    host: { type: 'string', minLength: 1, maxLength: 255 },
    pid: { type: 'integer', minimum: 1 },
    procStart: { type: ['number', 'null'] },
    poolAgent: agentName,
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
  launcher: text(64),
  jobId: text(255),
  launchId: text(128),
});
/** Most rules one step's summary may hold. */
export const MAX_RULES = 1000;
const count: Schema = { type: 'integer', minimum: 0 };
const ruleSummary = obj(
  {
    num: count,
    kind: text(32),
    description: text(),
    comparator: text(8),
    expected: text(256),
    count,
    ok: { type: 'boolean' },
    status: { type: 'string', minLength: 1, maxLength: 64 },
    // Five lines of at most 240 characters (and the mark of a cut) each.
    lines: { type: 'array', maxItems: 5, items: obj({ line: { type: 'integer', minimum: 1 }, text: text(1024) }, ['line', 'text']) },
    measured: { type: ['string', 'null'], maxLength: 1024 },
    pass: count,
    fail: count,
    expired: { type: 'boolean' },
  },
  ['num', 'kind', 'description', 'comparator', 'expected', 'count', 'ok', 'status', 'lines', 'measured', 'pass', 'fail', 'expired'],
);
const opBase = { opId: { type: 'string', minLength: 1, maxLength: 128 }, testId: { type: 'integer', minimum: 1 }, time };
const writeOp: Schema = {
  type: 'object',
  required: ['kind'],
  discriminator: { propertyName: 'kind' },
  oneOf: [
    obj({ kind: { const: 'test' }, ...opBase, set: testFields, ifState: { enum: [...TEST_STATES] } }, [
      'kind',
      'opId',
      'testId',
      'set',
      'time',
    ]),
    obj(
      {
        kind: { const: 'step' },
        ...opBase,
        name: newName,
        state: { enum: ['RUNNING', 'COMPLETED', 'KILLED', 'WAITING'] },
        status: { type: 'string', maxLength: 64 },
        exitCode: { type: ['integer', 'null'] },
        logfile: text(),
        comment: text(),
        pid: { type: ['integer', 'null'] },
        procStart: { type: ['number', 'null'] },
      },
      ['kind', 'opId', 'testId', 'name', 'state', 'status', 'time'],
    ),
    obj(
      {
        kind: { const: 'data' },
        ...opBase,
        name: newName,
        value: text(65536),
        expected: { type: ['string', 'null'] },
        tol: { type: ['string', 'null'] },
        units: { type: ['string', 'null'] },
        status: { type: 'string', maxLength: 64 },
        comment: text(),
      },
      ['kind', 'opId', 'testId', 'name', 'value', 'status', 'time'],
    ),
    obj({ kind: { const: 'rules' }, ...opBase, step: name, rules: { type: 'array', items: ruleSummary, maxItems: MAX_RULES } }, [
      'kind',
      'opId',
      'testId',
      'step',
      'rules',
      'time',
    ]),
    obj({ kind: { const: 'reset' }, ...opBase }, ['kind', 'opId', 'testId', 'time']),
    obj({ kind: { const: 'resume' }, ...opBase, fromStep: name }, ['kind', 'opId', 'testId', 'fromStep', 'time']),
    obj({ kind: { const: 'approve' }, ...opBase, step: text(256), verdict: { enum: ['approve', 'reject'] }, comment: text(4096) }, [
      'kind',
      'opId',
      'testId',
      'step',
      'verdict',
      'comment',
      'time',
    ]),
  ],
};
const registration = obj(
  {
    testname: newName,
    itempath: text(),
    priority: { type: 'number' },
    rundir: text(),
    itemVars: stringMap,
    owner: text(),
    description: text(),
    tags: text(),
  },
  ['testname', 'itempath', 'priority', 'rundir'],
);

/** Most runs one feed cursor may follow. */
export const MAX_FOLLOWED_RUNS = 1000;

const feedCursor = obj(
  {
    runsSeq: { type: 'integer', minimum: 0 },
    runs: {
      type: 'object',
      // run id (as a string) → last event seq seen
      propertyNames: { pattern: '^[1-9][0-9]{0,15}$' },
      additionalProperties: { type: 'integer', minimum: 0 },
      maxProperties: MAX_FOLLOWED_RUNS,
    },
    resourcesSeq: { type: 'integer', minimum: 0 },
    poolSeq: { type: 'integer', minimum: 0 },
    endedRows: { type: 'boolean' },
  },
  ['runsSeq', 'runs'],
);

/** The most rows one test query may name by id. */
export const MAX_QUERY_IDS = 10_000;

const testQuery = obj({
  pattern: text(),
  state: { type: 'array', items: text(64), maxItems: 64 },
  status: { type: 'array', items: text(64), maxItems: 64 },
  toplevelOnly: { type: 'boolean' },
  ids: { type: 'array', items: { type: 'integer', minimum: 1 }, maxItems: MAX_QUERY_IDS },
});

const resourceName: Schema = { type: 'string', minLength: 1, maxLength: MAX_RESOURCE_NAME };
const resourceHolder = obj(
  {
    runId,
    testId: { type: 'integer', minimum: 1 },
    target: name,
    runname: name,
    testname: name,
    itempath: text(),
    agentId: { type: 'integer', minimum: 1 },
    host: { type: 'string', minLength: 1, maxLength: 255 },
    pid: { type: 'integer', minimum: 1 },
    procStart: { type: ['number', 'null'] },
  },
  ['runId', 'testId', 'target', 'runname', 'testname', 'itempath', 'agentId', 'host', 'pid', 'procStart'],
);
/** Most resources one test may name. */
export const MAX_RESOURCES_PER_TEST = 64;

/** Most outcomes one history request may ask for. */
export const MAX_HISTORY = 100_000;

/** Most ops or registrations one request may carry; the remote store splits bigger batches. */
export const MAX_BATCH = 2000;
/** Writes to a run that ride on another request (CarriedWrites): an agent's claim, a runner's enqueueJobs. */
const carriedWrites = obj({ runId, ops: { type: 'array', items: writeOp, maxItems: MAX_BATCH }, options: writeOptions }, [
  'runId',
  'ops',
  'options',
]);

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
      spec: obj({ target: newName, keys: stringMap, runname: newName }, ['target', 'keys', 'runname']),
    },
    ['spec'],
  ),
  findRun: spec({ target: name, runname: name }, ['target', 'runname']),
  getRun: spec({ runId }, ['runId']),
  listRuns: spec({ query: obj({ runname: text(), target: text() }) }, []),
  listRunColumns: spec({ query: obj({ runname: text(), target: text() }) }, []),
  setRunState: spec({ runId, state: { enum: [...RUN_STATES] }, options: writeOptions }, ['runId', 'state']),
  setRunParams: spec({ runId, params: runParams, options: writeOptions }, ['runId', 'params']),
  closeRun: spec({ runId, options: writeOptions }, ['runId']),
  appendResult: spec(
    {
      runId,
      result: obj(
        {
          testname: newName,
          itempath: text(),
          state: { enum: ['RUNNING', 'COMPLETED', 'KILLED', 'INCOMPLETE'] },
          status: text(64),
          start: nullableTime,
          end: nullableTime,
          host: text(256),
          comment: text(4000),
          values: { type: 'array', items: obj({ name: newName, value: text() }, ['name', 'value']), maxItems: 256 },
          // A log of up to 4 MB travels in the request; a bigger one is cut by the client, head and tail.
          log: text(4 * 1024 * 1024),
          areaTest: { type: 'boolean' },
        },
        ['testname', 'itempath', 'state', 'status', 'start', 'end', 'host', 'comment', 'values'],
      ),
      options: writeOptions,
    },
    ['runId', 'result'],
  ),
  removeRun: spec({ runId, options: writeOptions }, ['runId']),
  registerTests: spec({ runId, regs: { type: 'array', items: registration, maxItems: MAX_BATCH }, options: writeOptions }, [
    'runId',
    'regs',
  ]),
  write: spec({ runId, ops: { type: 'array', items: writeOp, maxItems: MAX_BATCH }, options: writeOptions }, ['runId', 'ops']),
  listTests: spec({ runId, query: testQuery }, ['runId']),
  listDetails: spec({ runId, query: testQuery }, ['runId']),
  getTest: spec({ runId, testname: name, itempath: text() }, ['runId', 'testname', 'itempath']),
  getTestById: spec({ runId, testId: { type: 'integer', minimum: 1 } }, ['runId', 'testId']),
  showTest: spec(
    {
      query: obj({ target: name, runname: name, testname: name, itempath: text(), items: { type: 'boolean' } }, [
        'target',
        'runname',
        'testname',
        'itempath',
        'items',
      ]),
      liveness,
    },
    ['query', 'liveness'],
  ),
  removeTests: spec(
    { runId, testIds: { type: 'array', items: { type: 'integer', minimum: 1 }, maxItems: 100000 }, options: writeOptions },
    ['runId', 'testIds'],
  ),
  claimRun: spec({ runId, agent: agentSpec, liveness }, ['runId', 'agent', 'liveness']),
  registerAgent: spec({ runId, agent: agentSpec }, ['runId', 'agent']),
  claimJob: spec(
    {
      runId,
      testId: { type: 'integer', minimum: 1 },
      launchId: { type: 'string', minLength: 1, maxLength: 128 },
      agent: agentSpec,
      liveness,
    },
    ['runId', 'testId', 'launchId', 'agent', 'liveness'],
  ),
  takeOrphans: spec({ runId, host: { type: 'string', minLength: 1, maxLength: 255 } }, ['runId', 'host']),
  heartbeat: spec({ runId, agentId: { type: 'integer', minimum: 1 }, time }, ['runId', 'agentId', 'time']),
  endAgent: spec({ runId, agentId: { type: 'integer', minimum: 1 }, time }, ['runId', 'agentId', 'time']),
  listAgents: spec({ runId }, ['runId']),
  reapDead: spec({ runId, liveness }, ['runId', 'liveness']),
  events: spec({ runId, sinceSeq: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 10000 } }, [
    'runId',
    'sinceSeq',
  ]),
  changes: spec({ cursor: feedCursor }, ['cursor']),
  history: spec(
    {
      query: obj(
        {
          testname: name,
          itempath: text(),
          target: text(1024),
          successOnly: { type: 'boolean' },
          limit: { type: 'integer', minimum: 1, maximum: MAX_HISTORY },
        },
        ['testname'],
      ),
    },
    ['query'],
  ),
  historySummary: spec(
    { query: obj({ pattern: text(), target: text(1024), baseline: { type: 'integer', minimum: 1, maximum: 1000 } }) },
    [],
  ),
  recordOutcome: spec(
    {
      job: obj(
        {
          key: { type: 'string', minLength: 1, maxLength: 128 },
          kind: { enum: ['wrap', 'record'] },
          testname: newName,
          itempath: text(),
          target: text(1024),
          host: { type: 'string', minLength: 1, maxLength: 255 },
          state: { enum: ['RUNNING', 'COMPLETED', 'KILLED', 'WAITING'] },
          status: { type: 'string', minLength: 1, maxLength: 64 },
          start: time,
          end: nullableTime,
          comment: text(),
        },
        ['key', 'kind', 'testname', 'host', 'state', 'status', 'start', 'end'],
      ),
    },
    ['job'],
  ),
  claimResources: spec(
    {
      request: obj(
        {
          holder: resourceHolder,
          wants: {
            type: 'array',
            minItems: 1,
            maxItems: MAX_RESOURCES_PER_TEST,
            items: obj({ name: resourceName, count: { type: 'integer', minimum: 1 } }, ['name', 'count']),
          },
        },
        ['holder', 'wants'],
      ),
      liveness,
    },
    ['request', 'liveness'],
  ),
  releaseResources: spec(
    {
      release: obj({ runId, agentId: { type: 'integer', minimum: 1 }, testId: { type: 'integer', minimum: 1 } }, ['runId', 'agentId']),
    },
    ['release'],
  ),
  listResourceClaims: spec({ liveness }, ['liveness']),
  registerPoolAgent: spec(
    {
      spec: obj(
        {
          name: agentName,
          host: { type: 'string', minLength: 1, maxLength: 255 },
          user: { type: 'string', minLength: 1, maxLength: 64 },
          pid: { type: 'integer', minimum: 1 },
          procStart: { type: ['number', 'null'] },
          slots: { type: 'integer', minimum: 1, maximum: MAX_SLOTS },
          tags: nameList,
          version: { type: 'string', minLength: 1, maxLength: 64 },
        },
        ['name', 'host', 'user', 'pid', 'procStart', 'slots', 'tags', 'version'],
      ),
      load: { type: ['number', 'null'] },
      liveness,
    },
    ['spec', 'load', 'liveness'],
  ),
  poolHeartbeat: spec(
    { beat: obj({ name: agentName, session, time, load: { type: ['number', 'null'] } }, ['name', 'session', 'time', 'load']) },
    ['beat'],
  ),
  leavePool: spec({ name: agentName, session }, ['name', 'session']),
  drainPoolAgent: spec({ name: agentName, options: writeOptions }, ['name']),
  claimQueuedJobs: spec(
    {
      name: agentName,
      session,
      max: { type: 'integer', minimum: 0, maximum: MAX_SLOTS },
      have: { type: 'array', items: { type: 'integer', minimum: 1 }, maxItems: MAX_SLOTS },
      liveness,
      exec: agentSpec,
      ended: {
        type: 'array',
        maxItems: MAX_SLOTS,
        items: obj(
          {
            id: { type: 'integer', minimum: 1 },
            note: text(),
            execAgentId: { type: 'integer', minimum: 1 },
            writes: carriedWrites,
          },
          ['id', 'note'],
        ),
      },
    },
    ['name', 'session', 'max', 'have', 'liveness'],
  ),
  endQueuedJob: spec(
    { id: { type: 'integer', minimum: 1 }, name: agentName, session, note: text(), execAgentId: { type: 'integer', minimum: 1 } },
    ['id', 'name', 'session', 'note'],
  ),
  enqueueJobs: spec(
    {
      requests: {
        type: 'array',
        maxItems: MAX_BATCH,
        items: obj(
          {
            runId,
            testId: { type: 'integer', minimum: 1 },
            launchId: { type: 'string', minLength: 1, maxLength: 128 },
            specFile: { type: 'string', minLength: 1, maxLength: 4096 },
            spec: { type: 'object' },
            target: text(1024),
            runname: text(1024),
            label: text(),
            tags: nameList,
            hosts: nameList,
            requeues: { type: 'integer', minimum: 0, maximum: 100 },
            runnerAgentId: { type: 'integer', minimum: 1 },
            runLimit: { type: 'integer', minimum: 1 },
          },
          ['runId', 'testId', 'launchId', 'specFile', 'target', 'runname', 'label', 'tags', 'hosts', 'requeues', 'runnerAgentId'],
        ),
      },
      liveness,
      launch: carriedWrites,
    },
    ['requests', 'liveness'],
  ),
  cancelQueuedJob: spec({ launchId: { type: 'string', minLength: 1, maxLength: 128 } }, ['launchId']),
  listQueue: spec({ runId, liveness }, ['runId', 'liveness']),
  listHosts: spec({ liveness }, ['liveness']),
  takePoolOrphans: spec({ name: agentName, host: { type: 'string', minLength: 1, maxLength: 255 } }, ['name', 'host']),
};

/** Longest wait (ms) one `POST /v1/feed` may ask for: under common proxies' idle timeouts. */
export const FEED_MAX_WAIT_MS = 25_000;

/** The body of `POST /v1/feed`: the change feed, answered when something changed or after waitMs. */
export interface FeedRequest {
  cursor: FeedCursor;
  waitMs: number;
}

/** JSON schema of the `POST /v1/feed` body. */
export const FEED_BODY: Schema = obj({ cursor: feedCursor, waitMs: { type: 'integer', minimum: 0, maximum: FEED_MAX_WAIT_MS } }, [
  'cursor',
  'waitMs',
]);

/** True when a feed answer carries something to show (a moved cursor alone is not worth a wake-up). */
export function hasFeedChanges(batch: FeedBatch): boolean {
  return (
    batch.runs.length > 0 ||
    batch.removedRuns.length > 0 ||
    batch.cells.length > 0 ||
    batch.resourcesChanged === true ||
    batch.poolChanged === true
  );
}

/** The header that carries the area token. */
export const TOKEN_HEADER = 'authorization';
/** Its value for a token. */
export const bearer = (token: string) => `Bearer ${token}`;
/** Its value for a health check that proves the token without sending it. */
export const proofHeader = (nonce: string, mac: string) => `Proof ${nonce}.${mac}`;

/** The nonce and MAC of a `Proof` header, or undefined when it is not one. */
export function parseProofHeader(value: string): { nonce: string; mac: string } | undefined {
  const m = /^Proof ([0-9a-f]{32})\.([0-9a-f]{64})$/.exec(value);
  return m ? { nonce: m[1]!, mac: m[2]! } : undefined;
}
