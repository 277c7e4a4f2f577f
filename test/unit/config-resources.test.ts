/**
 * `[resources] NAME COUNT` in trellis.config and `[requirements] resources NAME[,NAME]` in a
 * testconfig: what is read, and each bad input as one error naming file:line.
 */
import t from 'tap';
import { loadArea, resolveTarget } from '../../src/config/area.js';
import { loadTest } from '../../src/config/testconfig.js';
import { resourceNameProblem, resourcesOfTest, summarizeResources, type ResourceClaim } from '../../src/model/resources.js';

type Fixture = Parameters<typeof t.testdir>[0];

const ENV = { PATH: '/usr/bin:/bin' };

function area(t: { testdir(files: Fixture): string }, config: string, testconfig = '[ezsteps]\nx true\n') {
  const dir = t.testdir({ 'trellis.config': `[fields]\nOS\n${config}`, 'runconfigs.config': '[linux]\n', tests: { a: { testconfig } } });
  return loadArea(dir, { env: ENV, cpus: 2 });
}

t.test('[resources] and [requirements] resources are read', async (t) => {
  const a = area(t, '[resources]\ndeploy 1\nlab-db.eu 3\n', '[requirements]\nresources lab-db.eu, deploy  deploy\n[ezsteps]\nx true\n');
  t.same(
    [...a.resources],
    [
      ['deploy', 1],
      ['lab-db.eu', 3],
    ],
  );
  const def = loadTest(a, 'a', { env: ENV, target: resolveTarget(a, 'linux'), rget: () => undefined });
  t.same(def.resources, ['deploy', 'lab-db.eu'], 'commas or blanks between names; sorted, once each');
  const none = area(t, '');
  t.same([...none.resources], []);
  t.same(loadTest(none, 'a', { env: ENV, target: resolveTarget(none, 'linux'), rget: () => undefined }).resources, []);
});

t.test('bad [resources] lines: a count of 0 or not a number, a name given twice, a bad name', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['[resources]\ndeploy 0\n', /trellis\.config:6: \[resources\] deploy must be a positive whole number, not '0'/],
    ['[resources]\ndeploy one\n', /trellis\.config:6: \[resources\] deploy must be a positive whole number, not 'one'/],
    ['[resources]\ndeploy\n', /trellis\.config:6: \[resources\] deploy must be a positive whole number, not ''/],
    [
      '[resources]\ndeploy 1\ndb 2\ndeploy 2\n',
      /trellis\.config:8: \[resources\] deploy is declared twice \(first at .*trellis\.config:6\)/,
    ],
    ['[resources]\n-x 1\n', /trellis\.config:6: \[resources\] name '-x' is not letters, digits/],
  ];
  for (const [config, message] of cases) t.throws(() => area(t, `\n\n${config}`), { code: 'CONFIG_VALUE', message }, config);
});

t.test('a testconfig naming an undeclared resource: NO_RESOURCE at its line', async (t) => {
  const a = area(t, '[resources]\ndeploy 1\n', '[ezsteps]\nx true\n\n[requirements]\nresources deploy,lab\n');
  t.throws(() => loadTest(a, 'a', { env: ENV, target: resolveTarget(a, 'linux'), rget: () => undefined }), {
    code: 'NO_RESOURCE',
    message: /tests\/a\/testconfig:5: \[requirements\] resources: 'lab' is not in \[resources\] of .*trellis\.config \(known: deploy\)/,
    hint: /declare it there as 'lab COUNT'/,
  });
});

t.test('resource names', async (t) => {
  t.equal(resourceNameProblem('deploy'), undefined);
  t.equal(resourceNameProblem('db_1.eu-west'), undefined);
  t.equal(resourceNameProblem(''), 'is empty');
  t.match(resourceNameProblem('x'.repeat(65)), /longer than 64/);
  for (const bad of ['a b', 'a,b', '.x', 'a/b', 'a\u001b']) t.match(resourceNameProblem(bad), /is not letters/, bad);
});

const claim = (over: Partial<ResourceClaim>): ResourceClaim => ({
  resource: 'deploy',
  count: 1,
  state: 'held',
  runId: 1,
  testId: 1,
  target: 'linux',
  runname: 'r1',
  testname: 'a',
  itempath: '',
  agentId: 1,
  host: 'h1',
  pid: 10,
  procStart: null,
  since: 100,
  renewed: 100,
  ...over,
});

t.test('summaries: declared resources first, others as their claims say; one test’s holds and waits', async (t) => {
  const claims = [
    claim({}),
    claim({ state: 'waiting', runId: 2, testId: 5, runname: 'r2', testname: 'b' }),
    claim({ resource: 'other', count: 4, runId: 2, testId: 5, runname: 'r2', testname: 'b' }),
  ];
  const s = summarizeResources(
    new Map([
      ['db', 2],
      ['deploy', 1],
    ]),
    claims,
  );
  t.same(
    s.map((r) => [r.name, r.count, r.declared, r.holders.length, r.waiters.length]),
    [
      ['db', 2, true, 0, 0],
      ['deploy', 1, true, 1, 1],
      ['other', 4, false, 1, 0],
    ],
  );
  t.match(resourcesOfTest(claims, 2, 5), {
    holds: ['other'],
    waitsFor: [{ resource: 'deploy', heldBy: [{ testname: 'a', host: 'h1', pid: 10 }] }],
  });
  t.equal(resourcesOfTest(claims, 3, 1), undefined, 'a test without claims');
});
