/**
 * The packet and the order clients choose servers in (design §5): encodePacket, validatePacket
 * and choosePackets, as tables; the API's schemas and the change feed's rules.
 */
import t from 'tap';
import {
  choosePackets,
  encodePacket,
  FEED_BODY,
  FEED_MAX_WAIT_MS,
  hasFeedChanges,
  INVOCATIONS,
  MAX_BATCH,
  PACKET_NAME,
  sha1,
  STALE_AFTER,
  STORE_API,
  STORE_METHODS,
  validatePacket,
  bearer,
  type FoundPacket,
  type Invocation,
  type Packet,
} from '../../src/model/protocol.js';
import type { FeedBatch, RunRecord } from '../../src/model/records.js';

const NOW = 1_800_000_000;

const base: Packet = {
  host: 'h1',
  address: '127.0.0.1',
  port: 40000,
  pid: 1234,
  invocation: 'other',
  started: NOW - 100,
  version: '0.1.0',
  areaId: 'a'.repeat(32),
};

/** A packet as found on disk, touched `age` seconds ago. */
function found(over: Partial<Packet>, age = 1): FoundPacket {
  const packet = { ...base, ...over };
  const { sha1: s } = encodePacket(packet);
  return { file: `/meta/${s}.pkt`, sha1: s, packet, touched: NOW - age };
}

const pids = (list: FoundPacket[]) => list.map((f) => f.packet.pid);

t.test('encodePacket: one JSON line, fields in the documented order, named by its SHA-1', async (t) => {
  const { text, sha1: s } = encodePacket(base);
  t.ok(text.endsWith('\n'), 'ends with a newline');
  t.equal(text.split('\n').length, 2, 'one line');
  t.same(Object.keys(JSON.parse(text) as object), ['host', 'address', 'port', 'pid', 'invocation', 'started', 'version', 'areaId']);
  t.equal(s, sha1(text), 'the name is the SHA-1 of the exact bytes');
  t.match(`${s}.pkt`, PACKET_NAME);
  t.same(validatePacket(JSON.parse(text)), base, 'round-trips through validatePacket');

  const shuffled = {
    areaId: base.areaId,
    version: base.version,
    started: base.started,
    invocation: base.invocation,
    pid: base.pid,
    port: base.port,
    address: base.address,
    host: base.host,
  };
  t.equal(encodePacket(shuffled).text, text, 'key order of the input does not matter');
  const extra = { ...base, secret: 'x' } as Packet;
  t.equal(encodePacket(extra).text, text, 'unknown fields are not written');
  t.not(encodePacket({ ...base, port: 40001 }).sha1, s, 'another port, another name');
});

t.test('validatePacket accepts every invocation and IPv6 addresses', async (t) => {
  for (const invocation of INVOCATIONS) t.same(validatePacket({ ...base, invocation }), { ...base, invocation }, invocation);
  t.same(validatePacket({ ...base, address: '::1' }), { ...base, address: '::1' });
  t.same(validatePacket({ ...base, started: 1.5 }), { ...base, started: 1.5 }, 'fractional start time');
  t.same(validatePacket({ ...base, port: 65535, pid: 1 }), { ...base, port: 65535, pid: 1 }, 'bounds');
});

t.test('validatePacket rejects bad field types and values', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['null', null, /not a JSON object/],
    ['array', [base], /not a JSON object/],
    ['string', 'packet', /not a JSON object/],
    ['number', 42, /not a JSON object/],
    ['missing host', { ...base, host: undefined }, /host/],
    ['empty host', { ...base, host: '' }, /host/],
    ['numeric host', { ...base, host: 7 }, /host/],
    ['huge host', { ...base, host: 'h'.repeat(256) }, /host/],
    ['host name as address', { ...base, address: 'localhost' }, /address/],
    ['address number', { ...base, address: 2130706433 }, /address/],
    ['address with port', { ...base, address: '127.0.0.1:80' }, /address/],
    ['port string', { ...base, port: '40000' }, /port/],
    ['port 0', { ...base, port: 0 }, /port/],
    ['port too big', { ...base, port: 65536 }, /port/],
    ['port fraction', { ...base, port: 4000.5 }, /port/],
    ['port negative', { ...base, port: -1 }, /port/],
    ['pid string', { ...base, pid: '1234' }, /pid/],
    ['pid 0', { ...base, pid: 0 }, /pid/],
    ['pid negative', { ...base, pid: -5 }, /pid/],
    ['pid fraction', { ...base, pid: 1.5 }, /pid/],
    ['pid too big', { ...base, pid: 2 ** 32 }, /pid/],
    ['unknown invocation', { ...base, invocation: 'root' }, /invocation/],
    ['invocation case', { ...base, invocation: 'DBOARD' }, /invocation/],
    ['invocation number', { ...base, invocation: 0 }, /invocation/],
    ['started string', { ...base, started: '1700000000' }, /started/],
    ['started 0', { ...base, started: 0 }, /started/],
    ['started negative', { ...base, started: -1 }, /started/],
    ['started null', { ...base, started: null }, /started/],
    ['version number', { ...base, version: 1 }, /version/],
    ['empty version', { ...base, version: '' }, /version/],
    ['huge version', { ...base, version: 'v'.repeat(65) }, /version/],
    ['areaId number', { ...base, areaId: 5 }, /areaId/],
    ['empty areaId', { ...base, areaId: '' }, /areaId/],
    ['missing areaId', { ...base, areaId: undefined }, /areaId/],
  ];
  for (const [what, value, pattern] of cases) {
    // JSON round trip: what a reader would really get (undefined fields vanish)
    const parsed: unknown = JSON.parse(JSON.stringify(value));
    const result = validatePacket(parsed);
    t.type(result, 'string', `${what}: rejected`);
    t.match(result, pattern, `${what}: says which field`);
  }
  // Infinity does not survive JSON, but validatePacket sees values from elsewhere too
  t.match(validatePacket({ ...base, started: Infinity }), /started/, 'infinite start');
  t.match(validatePacket({ ...base, started: NaN }), /started/, 'NaN start');
});

t.test('choosePackets: invocation dboard → runner → other → exec', async (t) => {
  const order: Invocation[] = ['exec', 'other', 'dboard', 'runner'];
  const list = order.map((invocation, i) => found({ invocation, pid: 100 + i }));
  t.same(
    choosePackets(list, NOW).map((f) => f.packet.invocation),
    ['dboard', 'runner', 'other', 'exec'],
  );
  t.same(
    choosePackets([...list].reverse(), NOW).map((f) => f.packet.invocation),
    ['dboard', 'runner', 'other', 'exec'],
    'input order does not matter',
  );
  // invocation beats uptime: an old dboard before a young exec
  const r = choosePackets(
    [found({ invocation: 'exec', pid: 1, started: NOW - 1 }), found({ invocation: 'dboard', pid: 2, started: NOW - 100000 })],
    NOW,
  );
  t.same(pids(r), [2, 1], 'invocation before uptime');
});

t.test('choosePackets: within an invocation, the shortest uptime first', async (t) => {
  const list = [
    found({ pid: 1, started: NOW - 500 }),
    found({ pid: 2, started: NOW - 5 }),
    found({ pid: 3, started: NOW - 50 }),
    found({ pid: 4, started: NOW + 2 }), // a little ahead: clock slack, still believed (and youngest)
  ];
  t.same(pids(choosePackets(list, NOW)), [4, 2, 3, 1]);
});

t.test('choosePackets: equal keys are ordered by SHA-1', async (t) => {
  const list = [10, 11, 12, 13, 14, 15].map((pid) => found({ pid }));
  const bySha = [...list].sort((a, b) => (a.sha1 < b.sha1 ? -1 : 1)).map((f) => f.packet.pid);
  t.same(pids(choosePackets(list, NOW)), bySha);
  t.same(pids(choosePackets([...list].reverse(), NOW)), bySha, 'deterministic whatever the input order');
  t.not(bySha.join(), [10, 11, 12, 13, 14, 15].join(), 'the table really exercises the tie-break');
});

t.test('choosePackets: stale packets are dropped', async (t) => {
  const list = [
    found({ pid: 1, invocation: 'dboard' }, STALE_AFTER + 1),
    found({ pid: 2 }, STALE_AFTER),
    found({ pid: 3, invocation: 'exec' }, 0),
    found({ pid: 4, invocation: 'runner' }, 3600),
    found({ pid: 5 }, -2), // touched "in the future" (clock skew): fresh
  ];
  t.same(pids(choosePackets(list, NOW)).sort(), [2, 3, 5], 'touched within 30 s only');
  t.same(choosePackets([found({}, 31)], NOW), [], 'only stale: none');
  t.same(choosePackets([], NOW), []);
});

t.test('choosePackets: a future start time never wins', async (t) => {
  const future = found({ pid: 666, invocation: 'dboard', started: NOW + 3600 });
  const cases: Array<[string, FoundPacket[]]> = [
    ['against an exec packet', [found({ pid: 1, invocation: 'exec', started: NOW - 100000 })]],
    ['against an other packet', [found({ pid: 1, invocation: 'other' })]],
    ['against a dboard packet', [found({ pid: 1, invocation: 'dboard' })]],
    ['against several', [found({ pid: 1, invocation: 'exec' }), found({ pid: 2, invocation: 'runner' })]],
  ];
  for (const [what, others] of cases) {
    const r = choosePackets([future, ...others], NOW);
    t.equal(r[r.length - 1]?.packet.pid, 666, `${what}: last`);
    t.equal(r.length, others.length + 1, `${what}: still tried, last`);
  }
  const justAhead = found({ pid: 7, invocation: 'exec', started: NOW + 6 });
  t.same(
    pids(choosePackets([justAhead, found({ pid: 8, invocation: 'exec', started: NOW - 1e6 })], NOW)),
    [8, 7],
    'more than 5 s ahead is the future',
  );
  const far = found({ pid: 9, started: 1e12 });
  t.same(pids(choosePackets([far, future], NOW)), [666, 9], 'among future packets the usual order applies');
});

t.test('the API: schemas for every method, token header', async (t) => {
  for (const m of STORE_METHODS) {
    t.equal(STORE_API[m].body['type'], 'object', `${m}: an object body`);
    t.equal(STORE_API[m].body['additionalProperties'], false, `${m}: unknown fields refused`);
  }
  t.equal(MAX_BATCH, 2000);
  t.equal(bearer('abc'), 'Bearer abc');
});

t.test('the change feed: a method, a long-poll body, and what counts as a change', async (t) => {
  t.ok(STORE_METHODS.includes('changes'), 'changes is a store method');
  t.same(STORE_API.changes.params, ['cursor']);
  t.equal(FEED_MAX_WAIT_MS, 25_000);
  t.match(FEED_BODY, {
    type: 'object',
    required: ['cursor', 'waitMs'],
    additionalProperties: false,
    properties: { waitMs: { maximum: FEED_MAX_WAIT_MS } },
  });
  const none: FeedBatch = { cursor: { runsSeq: 3, runs: { '1': 4 } }, runs: [], removedRuns: [], cells: [] };
  const cases: Array<[string, FeedBatch, boolean]> = [
    ['nothing', none, false],
    ['only the cursor moved', { ...none, cursor: { runsSeq: 9, runs: { '1': 7 } } }, false],
    ['a run', { ...none, runs: [{ id: 1 } as RunRecord] }, true],
    ['a removed run', { ...none, removedRuns: [2] }, true],
    ['cells', { ...none, cells: [{ runId: 1, seq: 5, full: false, cells: [], removed: [3] }] }, true],
  ];
  for (const [what, batch, expected] of cases) t.equal(hasFeedChanges(batch), expected, what);
});
