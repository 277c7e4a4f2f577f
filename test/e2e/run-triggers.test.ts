import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { makeArea } from '../helpers/area.js';
import { runCli } from '../helpers/cli.js';

const T = ['-t', 'linux/x86_64'];
const RECORD = '#!/bin/sh\necho "$TRELLIS_TEST_NAME $*" >> "$MT_RUN_AREA_HOME/fired.txt"\n';

t.test('[triggers] run when a test ends with a matching state/status, with Megatest arguments', async (t) => {
  const area = makeArea(t, {
    tests: {
      good: '[triggers]\nCOMPLETED/PASS ./record.sh\n/FAIL ./record.sh\n\n[ezsteps]\nok true\n',
      bad: '[triggers]\n/FAIL ./record.sh\nCOMPLETED/PA% ./record.sh\n\n[ezsteps]\nno false\n',
    },
    files: { 'tests/good/record.sh': RECORD, 'tests/bad/record.sh': RECORD },
  });
  const r = await runCli(t, ['run', ...T, '-r', 'n'], { cwd: area });
  t.equal(r.code, 1, r.stdout + r.stderr);
  const fired = fs.readFileSync(path.join(area, 'fired.txt'), 'utf8').trim().split('\n').sort();
  const dir = (test: string) => path.join(area, 'runs/linux/x86_64/n', test);
  t.match(fired, [new RegExp(`^bad \\d+ ${dir('bad')} /FAIL$`), new RegExp(`^good \\d+ ${dir('good')} COMPLETED/PASS$`)]);
  t.equal(fired.length, 2, 'only the matching triggers fired');
  t.ok(fs.existsSync(path.join(dir('good'), 'trigger-COMPLETED%2FPASS.log')), 'each trigger has its log');
});
