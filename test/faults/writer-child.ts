/**
 * One concurrent writer of the fault suite, a process of its own: writes `count` values to a test
 * of a run, ten per batch, each batch sent twice (as a client retrying after a lost answer would),
 * through the run area's server — or, with `direct`, straight into the files as `--direct` does.
 *
 *   node writer-child.js RUNAREA AREADIR RUNID TESTID NAME COUNT remote|direct
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RemoteStore } from '../../src/client/remote-store.js';
import type { WriteOp } from '../../src/model/records.js';
import { openDirectStore } from '../../src/store/direct-store.js';
import type { Store } from '../../src/store/store.js';
import { shortHostname } from '../../src/util/host.js';

const [runArea, areaDir, runId, testId, name, count, how] = process.argv.slice(2);
const cliPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/trellis.js');
const now = () => Date.now() / 1000;
const store: Store =
  how === 'direct'
    ? openDirectStore(runArea!, { host: shortHostname(), now })
    : new RemoteStore({
        runArea: runArea!,
        areaDir,
        invocation: 'other',
        host: shortHostname(),
        now,
        debug: () => undefined,
        autoStart: true,
        env: process.env,
        trellisJs: cliPath,
      });
try {
  for (let i = 0; i < Number(count); i += 10) {
    const ops: WriteOp[] = [];
    for (let j = i; j < Math.min(i + 10, Number(count)); j++) {
      ops.push({
        kind: 'data',
        opId: `${name}-${j}`,
        testId: Number(testId),
        name: `${name}-${j}`,
        value: `v${j}`,
        status: 'n/a',
        time: now(),
      });
    }
    await store.write(Number(runId), ops, { who: name });
    await store.write(Number(runId), ops, { who: name });
  }
} finally {
  await store.close();
}
