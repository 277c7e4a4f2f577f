/**
 * Items through the built CLI: [items] cross product (order, work folders, variables in the
 * step), [itemstable] zip, itemwait + itemmap (an item starts as soon as its mapped item ends),
 * lazy `[system …]` items and ZERO_ITEMS.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { makeArea } from '../helpers/area.js';
import { listTests, readLines, run, startRun, statesOf, workDir } from '../helpers/run-e2e.js';

t.test('[items]: cross product, first line slowest; item values in the env and the work folder', async (t) => {
  const area = makeArea(t, {
    tests: {
      t: [
        '[items]',
        'A 1 2',
        'B x y z',
        '',
        '[ezsteps]',
        'show  echo "$A-$B $MT_ITEMPATH" > val.txt && echo "$MT_ITEMPATH" >> "$MT_RUN_AREA_HOME/order"',
        '',
      ].join('\n'),
    },
  });
  // -j 1: items start one at a time, in item order
  const res = await run(t, area, 'r', ['-j', '1']);
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  const paths = ['1/x', '1/y', '1/z', '2/x', '2/y', '2/z'];
  t.same(readLines(path.join(area, 'order')), paths);
  const rows = await listTests(t, area, 'r');
  t.same([...rows.keys()].sort(), ['t', ...paths.map((p) => `t/${p}`)].sort());
  for (const p of paths) {
    const [a, b] = p.split('/') as [string, string];
    const dir = workDir(area, 'r', 't', a, b);
    t.equal(rows.get(`t/${p}`)!.rundir, dir);
    t.equal(fs.readFileSync(path.join(dir, 'val.txt'), 'utf8'), `${a}-${b} ${p}\n`, `t/${p} saw its values`);
  }
  t.equal(rows.get('t')!.status, 'PASS');
});

t.test('[itemstable]: columns zipped into rows', async (t) => {
  const area = makeArea(t, {
    tests: {
      t: '[itemstable]\nSERVER alpha beta gamma\nPORT 8001 8002 8003\n\n[ezsteps]\nshow  echo "$SERVER:$PORT" > val.txt\n',
    },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.same([...rows.keys()].sort(), ['t', 't/alpha/8001', 't/beta/8002', 't/gamma/8003']);
  for (const [s, p] of [
    ['alpha', '8001'],
    ['beta', '8002'],
    ['gamma', '8003'],
  ] as const) {
    t.equal(fs.readFileSync(path.join(workDir(area, 'r', 't', s, p), 'val.txt'), 'utf8'), `${s}:${p}\n`);
  }
});

t.test('a failing item makes its test FAIL (roll-up) and the run exit 1', async (t) => {
  const area = makeArea(t, { tests: { t: '[items]\nX a b c\n\n[ezsteps]\nrun  test "$X" != b\n' } });
  const res = await run(t, area, 'r');
  t.equal(res.code, 1);
  t.same(statesOf(await listTests(t, area, 'r')), {
    t: 'COMPLETED/FAIL',
    't/a': 'COMPLETED/PASS',
    't/b': 'COMPLETED/FAIL',
    't/c': 'COMPLETED/PASS',
  });
});

t.test('itemwait + itemmap: an item of B starts as soon as its mapped item of A ends', async (t) => {
  const area = makeArea(t, {
    tests: {
      // A/x/O2 passes, A/y/O2 fails, A/z/O2 waits for the test to release it
      A: [
        '[items]',
        'X x y z',
        'OPT O2',
        '',
        '[ezsteps]',
        'run  if [ "$X" = y ]; then exit 1; fi; if [ "$X" = z ]; then while [ ! -e "$MT_RUN_AREA_HOME/release" ]; do sleep 0.05; done; fi',
        '',
      ].join('\n'),
      B: [
        '[requirements]',
        'waiton A',
        'mode itemwait',
        'itemmap $ /O2',
        '',
        '[items]',
        'X x y z',
        '',
        '[ezsteps]',
        'run  touch "$MT_RUN_AREA_HOME/B-$X"',
        '',
      ].join('\n'),
    },
  });
  const proc = startRun(t, area, 'r');
  // B/x passes and B/y is PREQ_FAIL while A/z/O2 is still running
  await proc.waitFor((out) => /PASS\s+B\/x\b/.test(out) && /PREQ_FAIL\s+B\/y\b/.test(out));
  const during = await listTests(t, area, 'r');
  t.match(statesOf(during), {
    'A/z/O2': /^(LAUNCHED|RUNNING)\//,
    'B/x': 'COMPLETED/PASS',
    'B/y': 'NOT_STARTED/PREQ_FAIL',
    'B/z': 'NOT_STARTED/n/a',
  });
  t.match(during.get('B/y')!.comment, /A\/y\/O2/);
  fs.writeFileSync(path.join(area, 'release'), '');
  const res = await proc.done;
  t.equal(res.code, 1, 'A/y/O2 and B/y did not pass');
  t.same(statesOf(await listTests(t, area, 'r')), {
    A: 'COMPLETED/FAIL',
    'A/x/O2': 'COMPLETED/PASS',
    'A/y/O2': 'COMPLETED/FAIL',
    'A/z/O2': 'COMPLETED/PASS',
    B: 'COMPLETED/PREQ_FAIL',
    'B/x': 'COMPLETED/PASS',
    'B/y': 'NOT_STARTED/PREQ_FAIL',
    'B/z': 'COMPLETED/PASS',
  });
  t.ok(fs.existsSync(path.join(area, 'B-x')));
  t.notOk(fs.existsSync(path.join(area, 'B-y')), 'B/y never ran');
  t.ok(fs.existsSync(path.join(area, 'B-z')));
});

t.test("lazy items: [items] X [system printf 'a\\nb\\n']", async (t) => {
  const area = makeArea(t, {
    tests: { t: '[items]\nX [system printf \'a\\nb\\n\']\n\n[ezsteps]\nshow  echo "$X" > val.txt\n' },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  t.same(statesOf(await listTests(t, area, 'r')), { t: 'COMPLETED/PASS', 't/a': 'COMPLETED/PASS', 't/b': 'COMPLETED/PASS' });
  t.equal(fs.readFileSync(path.join(workDir(area, 'r', 't', 'a'), 'val.txt'), 'utf8'), 'a\n');
  t.equal(fs.readFileSync(path.join(workDir(area, 'r', 't', 'b'), 'val.txt'), 'utf8'), 'b\n');
});

t.test('lazy items run after the prerequisites, so they can read what those made', async (t) => {
  const area = makeArea(t, {
    tests: {
      gen: '[ezsteps]\nmake  printf "p\\nq\\n" > "$MT_RUN_AREA_HOME/list.txt"\n',
      use: '[requirements]\nwaiton gen\n\n[items]\nX [system cat "$MT_RUN_AREA_HOME/list.txt"]\n\n[ezsteps]\nrun  true\n',
    },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 0, 'exit 0', { output: res.stdout + res.stderr });
  t.same(statesOf(await listTests(t, area, 'r')), {
    gen: 'COMPLETED/PASS',
    use: 'COMPLETED/PASS',
    'use/p': 'COMPLETED/PASS',
    'use/q': 'COMPLETED/PASS',
  });
});

t.test('ZERO_ITEMS: an item command that prints nothing', async (t) => {
  const area = makeArea(t, {
    tests: {
      none: '[items]\nX [system true]\n\n[ezsteps]\nrun  touch "$MT_RUN_AREA_HOME/ran"\n',
      ok: '[ezsteps]\nrun  true\n',
    },
  });
  const res = await run(t, area, 'r');
  t.equal(res.code, 1, 'exit 1', { output: res.stdout + res.stderr });
  const rows = await listTests(t, area, 'r');
  t.same(statesOf(rows), { none: 'NOT_STARTED/ZERO_ITEMS', ok: 'COMPLETED/PASS' });
  t.notOk(fs.existsSync(path.join(area, 'ran')));
  t.match(res.stdout, /ZERO_ITEMS/);
});
