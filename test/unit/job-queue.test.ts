import t from 'tap';
import { JobQueue, type QueuedJob } from '../../src/runner/job-queue.js';
import { findCycle } from '../../src/model/graph.js';

const job = (key: string, priority = 0, jobgroup?: string): QueuedJob => ({ key, priority, jobgroup });

t.test('highest priority first, then in order of arrival', async (t) => {
  const q = new JobQueue<QueuedJob>(10, new Map());
  for (const j of [job('a'), job('b', 5), job('c'), job('d', 5), job('e', -1)]) q.push(j);
  const order: string[] = [];
  for (let j = q.next(); j; j = q.next()) order.push(j.key);
  t.same(order, ['b', 'd', 'a', 'c', 'e']);
});

t.test('the global limit and job groups hold; a full group does not block others', async (t) => {
  const q = new JobQueue<QueuedJob>(2, new Map([['g', 1]]));
  q.push(job('g1', 9, 'g'));
  q.push(job('g2', 9, 'g'));
  q.push(job('x', 0));
  const first = q.next()!;
  t.equal(first.key, 'g1');
  t.equal(q.next()!.key, 'x', 'g2 waits for its group, x runs');
  t.equal(q.next(), undefined, 'global limit reached');
  q.release(first);
  t.equal(q.next()!.key, 'g2');
  t.equal(q.running, 2);
  t.equal(q.waiting, 0);
});

t.test('many jobs come out in priority order', async (t) => {
  const q = new JobQueue<QueuedJob>(100000, new Map());
  for (let i = 0; i < 5000; i++) q.push(job(String(i), i % 7));
  const priorities: number[] = [];
  for (let j = q.next(); j; j = q.next()) priorities.push(j.priority);
  t.equal(priorities.length, 5000);
  t.ok(
    priorities.every((p, i) => i === 0 || p <= priorities[i - 1]!),
    'non-increasing priority',
  );
});

t.test('cycles are found and named', async (t) => {
  const g: Record<string, string[]> = { a: ['b'], b: ['c'], c: ['a'], d: [] };
  t.same(
    findCycle(['d', 'a'], (n) => g[n] ?? []),
    ['a', 'b', 'c', 'a'],
  );
  t.equal(
    findCycle(['d'], (n) => g[n] ?? []),
    null,
  );
  t.same(
    findCycle(['x'], (n) => (n === 'x' ? ['x'] : [])),
    ['x', 'x'],
    'a test waiting on itself',
  );
});
