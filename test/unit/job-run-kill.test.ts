/**
 * A job's RUNNING rides with its first step's record, which may land after a kill request (the
 * runner's Ctrl-C, `trellis kill`) an exec has to see: it must not overwrite it. A real direct
 * store, a real step through the spawner; the recorder holds the job's writes until the test
 * flushes them, so the kill request is in first whatever the machine's speed.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { TestDefinition } from '../../src/config/types.js';
import { endChannels } from '../../src/runner/job-channel.js';
import { JobRun } from '../../src/runner/job-run.js';
import { Recorder } from '../../src/runner/recorder.js';
import { endSpawner } from '../../src/runner/step-process.js';
import { NO_INPUTS } from '../../src/runner/step-refs.js';
import { waitUntil } from '../helpers/run-e2e.js';
import { makeStore, NIGHTLY, regsFor } from './store-fixture.js';

t.test("a kill request that lands before the job's RUNNING stays, and the job sees it", async (t) => {
  const { store, dir, clock } = makeStore(t);
  t.teardown(async () => {
    await endChannels();
    await endSpawner();
  });
  const run = await store.ensureRun(NIGHTLY);
  const [row] = await store.registerTests(run.id, regsFor('a'));
  const workDir = path.join(dir, 'linux', 'x86_64', 'nightly', 'a');
  const testDir = path.join(dir, 'area', 'a');
  fs.mkdirSync(testDir, { recursive: true });
  await store.write(run.id, [
    { kind: 'test', opId: 'launch', testId: row!.id, set: { state: 'LAUNCHED', launchId: 'L1', rundir: workDir }, time: clock.now },
  ]);
  const recorder = new Recorder({
    store,
    runId: run.id,
    prefix: 'x1',
    now: () => clock.now,
    // Nothing leaves before the test flushes.
    delayMs: 600_000,
    onError: (err) => t.fail(`a batch failed: ${(err as Error).message}`),
  });
  const go = path.join(dir, 'go');
  const started = path.join(dir, 'started');
  const def = {
    name: 'a',
    dir: testDir,
    configFile: path.join(testDir, 'testconfig'),
    steps: [{ name: 'hold', command: `touch '${started}'; while [ ! -e '${go}' ]; do sleep 0.05; done`, loc: { file: 'x', line: 1 } }],
    runscript: undefined,
    skip: {},
    triggers: [],
    runtimelim: null,
    logRules: new Map(),
  } as unknown as TestDefinition;
  const job = new JobRun(
    {
      testId: row!.id,
      testname: 'a',
      itempath: '',
      def,
      workDir,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      preclean: false,
      reset: false,
      startAt: 0,
      exitCodes: 'trellis',
      inputs: NO_INPUTS,
    },
    {
      recorder,
      host: 'here',
      pid: process.pid,
      agentId: 1,
      shell: '/bin/sh',
      now: () => clock.now,
      readTest: (id) => store.getTestById(run.id, id),
      role: 'exec',
      inTest: {
        store,
        runId: run.id,
        runArea: dir,
        writeOptions: {},
        parseHelper: () => {
          throw new Error('no helpers here');
        },
      },
    },
  );
  await waitUntil(() => fs.existsSync(started), 'the step started');
  // The runner asks for the kill; then the job's first writes (its RUNNING among them) go in.
  await store.write(run.id, [
    { kind: 'test', opId: 'kill', testId: row!.id, set: { state: 'KILLREQ', comment: 'stop it' }, time: clock.now },
  ]);
  await recorder.flush();
  t.match(await store.getTestById(run.id, row!.id), { state: 'KILLREQ' }, 'the kill request stays');
  t.match((await store.getTestById(run.id, row!.id))?.steps, [{ name: 'hold', state: 'RUNNING' }], "the step's own record went in");
  // What exec does when it sees the request.
  job.stop('ABORT', 'stop it');
  const outcome = await job.done;
  fs.writeFileSync(go, '');
  t.match(outcome, { state: 'KILLED', status: 'ABORT' });
  await recorder.flush();
  t.match(await store.getTestById(run.id, row!.id), { state: 'KILLED', status: 'ABORT' });
});
