/**
 * Scheduling through the built CLI: priority order, and the limits of max_concurrent_jobs, -j
 * and [jobgroups], proved by start/end markers the steps append to a shared file.
 */
import path from 'node:path';
import t from 'tap';
import { makeArea } from '../helpers/area.js';
import { markedStep, maxOverlap, readLines, run } from '../helpers/run-e2e.js';

const config = (maxJobs: number, groups = '') =>
  `[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs ${maxJobs}\n${groups ? `\n[jobgroups]\n${groups}\n` : ''}`;

/** `n` tests named `prefix1…` whose step records its start and end around a short sleep. */
function sleepers(prefix: string, n: number, extra = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 1; i <= n; i++) {
    out[`${prefix}${i}`] = `${extra ? `[requirements]\n${extra}\n\n` : ''}[ezsteps]\nwork  ${markedStep('marks', 'sleep 0.4')}\n`;
  }
  return out;
}

t.test('-j 1: higher priority starts first, ties in area order', async (t) => {
  const step = 'run  echo "$MT_TEST_NAME" >> "$MT_RUN_AREA_HOME/order"';
  const prio = (p: number) => `[requirements]\npriority ${p}\n\n[ezsteps]\n${step}\n`;
  const area = makeArea(t, {
    config: config(4),
    tests: { a: prio(10), b: prio(30), c: prio(-5), d: prio(20), e: `[ezsteps]\n${step}\n`, f: prio(30) },
  });
  const res = await run(t, area, 'r', ['-j', '1']);
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  t.same(readLines(path.join(area, 'order')), ['b', 'f', 'd', 'a', 'e', 'c']);
});

t.test('a high-priority test still waits for its prerequisite', async (t) => {
  const step = 'run  echo "$MT_TEST_NAME" >> "$MT_RUN_AREA_HOME/order"';
  const area = makeArea(t, {
    config: config(4),
    tests: {
      low: `[requirements]\npriority 1\n\n[ezsteps]\n${step}\n`,
      mid: `[requirements]\npriority 5\n\n[ezsteps]\n${step}\n`,
      top: `[requirements]\nwaiton low\npriority 100\n\n[ezsteps]\n${step}\n`,
    },
  });
  const res = await run(t, area, 'r', ['-j', '1']);
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  // top is not ready until low ends; once it is, it beats whatever is still queued
  t.same(readLines(path.join(area, 'order')), ['mid', 'low', 'top']);
});

t.test('max_concurrent_jobs 2: never more than 2 at once, and 2 do run together', async (t) => {
  const area = makeArea(t, { config: config(2), tests: sleepers('s', 6) });
  const res = await run(t, area, 'r');
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  const lines = readLines(path.join(area, 'marks'));
  t.equal(lines.length, 12);
  t.equal(maxOverlap(lines), 2);
});

t.test('-j 1 under max_concurrent_jobs 4: one at a time', async (t) => {
  const area = makeArea(t, { config: config(4), tests: sleepers('s', 4) });
  const res = await run(t, area, 'r', ['-j', '1']);
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  const lines = readLines(path.join(area, 'marks'));
  t.equal(lines.length, 8);
  t.equal(maxOverlap(lines), 1);
});

t.test('-j 3 is capped by max_concurrent_jobs 2', async (t) => {
  const area = makeArea(t, { config: config(2), tests: sleepers('s', 5) });
  const res = await run(t, area, 'r', ['-j', '3']);
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  t.equal(maxOverlap(readLines(path.join(area, 'marks'))), 2);
});

t.test('[jobgroups] heavy 1: one heavy test at a time while others run beside it', async (t) => {
  const area = makeArea(t, {
    config: config(4, 'heavy 1'),
    tests: { ...sleepers('h', 3, 'jobgroup heavy'), ...sleepers('l', 3) },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  const lines = readLines(path.join(area, 'marks'));
  t.equal(lines.length, 12);
  t.equal(
    maxOverlap(lines, (n) => n.startsWith('h')),
    1,
    'heavy: at most 1',
  );
  t.ok(maxOverlap(lines) >= 2, 'the group did not hold up the others');
  t.ok(maxOverlap(lines) <= 4, 'max_concurrent_jobs still holds');
});

t.test('-j must be a whole number of 1 or more', async (t) => {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nrun  touch "$MT_RUN_AREA_HOME/ran"\n' } });
  const res = await run(t, area, 'r', ['-j', '0']);
  t.not(res.code, 0);
  t.match(res.stderr, /-j 0/);
});
