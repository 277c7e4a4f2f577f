/**
 * The direct store keeps at most MAX_OPEN_RUN_DBS run databases open (a server whose dashboards
 * scroll over hundreds of runs must not hold them all), and a closed one opens again on use.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { runAreaPaths } from '../../src/config/paths.js';
import { MAX_OPEN_RUN_DBS } from '../../src/store/run-db-cache.js';
import { makeStore, NIGHTLY, regsFor } from '../unit/store-fixture.js';

/** Files of `dir` this process has open, by name. */
function openFilesIn(dir: string): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (path.dirname(target) === dir) out.push(path.basename(target));
    } catch {
      // closed between readdir and readlink
    }
  }
  return out;
}

t.test('the least recently used run databases are closed; a closed one opens again on use', async (t) => {
  const { store, dir } = makeStore(t);
  const dbDir = runAreaPaths(dir).dbDir;
  const count = MAX_OPEN_RUN_DBS + 12;
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const run = await store.ensureRun({ ...NIGHTLY, runname: `r${i}` });
    await store.registerTests(run.id, regsFor('a'));
    ids.push(run.id);
  }
  const runDbs = () => openFilesIn(dbDir).filter((f) => /^\d+\.db$/.test(f));
  t.equal(new Set(runDbs()).size, MAX_OPEN_RUN_DBS, `${MAX_OPEN_RUN_DBS} run databases open, not ${count}`);
  t.notOk(runDbs().includes(`${ids[0]}.db`), 'the first one used was closed');
  t.ok(runDbs().includes(`${ids[count - 1]}.db`), 'the last one used is open');
  t.equal((await store.listTests(ids[0]!)).length, 1, 'a closed one reads again');
  t.ok(runDbs().includes(`${ids[0]}.db`), 'and is open now');
  t.equal(new Set(runDbs()).size, MAX_OPEN_RUN_DBS, 'still at the cap');
});
