import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { findAreaDir, listTargets, loadArea, readRunconfigs, resolveTarget, runconfigValues } from '../../src/config/area.js';
import { expandItems } from '../../src/config/items.js';
import { loadTests } from '../../src/config/testconfig.js';

// Tests run from dist/test/unit/; the fixture stays in the source tree.
const AREA = fileURLToPath(new URL('../../../test/fixtures/config/megatest-area/', import.meta.url)).replace(/\/$/, '');
const ENV = { PATH: '/usr/bin:/bin' };

t.test('a Megatest area loads unchanged', async (t) => {
  t.equal(findAreaDir(path.join(AREA, 'tests', 'compile')), AREA);
  const notes: string[] = [];
  const area = loadArea(AREA, { env: ENV, cpus: 16, debug: (m) => notes.push(m) });
  t.equal(area.configFile, path.join(AREA, 'megatest.config'));
  t.same(area.fields, ['OS', 'ARCH']);
  t.same(area.setup, {
    maxConcurrentJobs: 4,
    runtimelim: 7200,
    deadtime: 60,
    reqtarg: null,
    approvers: null,
    admins: null,
    identity: 'optional',
  });
  t.equal(area.config.text('setup', 'linktree'), `${AREA}/links`);
  t.equal(area.launcher, 'nbfake');
  t.same([...area.jobgroups], [['sim', 2]]);
  t.equal(area.runArea, path.join(AREA, 'runs'));
  t.same(area.testNames, ['compile', 'regress']);
  t.match(notes, [/megatest\.config:21: \[include local\.config\]: .*local\.config not found, skipped/]);
  t.same(listTargets(area), ['linux/x86_64', 'linux/aarch64']);

  const target = resolveTarget(area, 'linux/x86_64');
  const rc = readRunconfigs(area, target, ENV);
  t.same(
    runconfigValues(rc, target).map(([k, v]) => [k, v.text]),
    [
      ['TESTPATT', '%'],
      ['GCC_VERSION', '13'],
      ['BUILD_DIR', `${AREA}/build/linux`],
      ['WIDTH', '64'],
    ],
  );
  t.equal(resolveTarget(area, 'bsd/x86_64').name, 'bsd/x86_64', 'known through [%/x86_64]');
  t.throws(() => resolveTarget(area, 'linux'), { code: 'BAD_TARGET', hint: 'give e.g. -t linux/x86_64' });

  const [compile, regress] = loadTests(area, target, ENV, rc);
  t.same(
    compile!.steps.map((s) => [s.name, s.command]),
    [
      ['configure', `./configure --prefix=${AREA}/build/linux`],
      ['build', 'make -j4 all'],
      ['install', 'make install\necho installed'],
    ],
  );
  t.equal(compile!.priority, 10);
  t.equal(compile!.runtimelim, 7200);
  t.same(compile!.meta, { owner: 'build-team', description: 'Builds the tree', tags: 'build,smoke' });
  t.equal(compile!.hasItems, false);

  t.same(regress!.waiton, ['compile']);
  t.equal(regress!.mode, 'itemwait');
  t.equal(regress!.jobgroup, 'sim');
  t.equal(regress!.runtimelim, 1800);
  t.same(regress!.skip, { fileexists: `${AREA}/SKIP_REGRESS` });
  t.equal(regress!.steps[0]!.command, './regress.sh $SUITE $SEED', '$VAR is left for the shell');
  const items = expandItems(regress!, { env: ENV, cwd: regress!.dir });
  t.same(
    items.map((i) => i.path),
    ['basic/1', 'basic/2', 'basic/3', 'stress/1', 'stress/2', 'stress/3'],
  );
  t.notOk(fs.existsSync(path.join(AREA, 'runs')), 'loading writes nothing');
});
