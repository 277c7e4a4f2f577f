/**
 * Concurrent writers: each round, with no server running, six writer processes start at once and
 * race to start one (through the start lock) while two more write straight into the files as
 * `--direct` does; each writes 150 values to one test, every batch sent twice.
 *
 * Counted per round: lost — a value missing or not as written; doubled — more than one server
 * alive at the end (two would each take themselves for the lease holder); corrupt — a database
 * failing quick_check; crashes — a writer that failed (exit not 0) or a stack trace.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDirectStore } from '../../src/store/direct-store.js';
import {
  damagedDatabases,
  isAlive,
  isCrash,
  serverPids,
  stopServersUnder,
  TARGET,
  waitUntil,
  writeArea,
  type CliResult,
  type Scenario,
} from './fault-kit.js';

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'writer-child.js');
const VALUES = 150;
const WRITERS: ReadonlyArray<'remote' | 'direct'> = ['remote', 'remote', 'remote', 'remote', 'remote', 'remote', 'direct', 'direct'];

function runWriter(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WRITER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export const WRITERS_SCENARIO: Scenario = {
  name: 'concurrent writers and racing server starts',
  weight: 1,
  planned: (rounds) => Math.max(1, Math.round(rounds / 2)),
  async run(tally, ctx) {
    const area = writeArea(path.join(ctx.dir, 'area'), { c: '[ezsteps]\nx true\n' });
    for (let round = 1; round <= Math.max(1, Math.round(ctx.rounds / 2)) && Date.now() < ctx.deadline; round++) {
      const runArea = path.join(ctx.dir, `runs-${round}`);
      const setup = openDirectStore(runArea, { host: 'faults' });
      const run = await setup.ensureRun({ target: TARGET, keys: { OS: 'linux', ARCH: 'x86_64' }, runname: 'w' });
      const [test] = await setup.registerTests(run.id, [{ testname: 'c', itempath: '', priority: 0, rundir: '' }]);
      await setup.close();
      const results = await Promise.all(
        WRITERS.map((how, i) => runWriter([runArea, area, String(run.id), String(test!.id), `w${i}`, String(VALUES), how])),
      );
      results.forEach((r, i) => {
        if (r.code !== 0 || isCrash(r))
          tally.add(
            'crashes',
            1,
            `round ${round}, writer w${i} (${WRITERS[i]}): exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`,
          );
      });
      const live = serverPids(runArea).filter(isAlive);
      tally.add(
        'doubled',
        Math.max(0, live.length - 1),
        `round ${round}: ${live.length} servers alive after racing starts (pids ${live.join(', ')})`,
      );
      stopServersUnder(ctx.dir);
      await waitUntil(() => serverPids(runArea).filter(isAlive).length === 0, 15_000);
      const check = openDirectStore(runArea, { host: 'faults' });
      try {
        const detail = await check.getTestById(run.id, test!.id);
        const got = new Map((detail?.data ?? []).map((d) => [d.name, d.value]));
        let missing = 0;
        WRITERS.forEach((_, i) => {
          for (let j = 0; j < VALUES; j++) if (got.get(`w${i}-${j}`) !== `v${j}`) missing++;
        });
        tally.add('lost', missing, `round ${round}: ${missing} of ${WRITERS.length * VALUES} values missing or wrong`);
      } finally {
        await check.close();
      }
      const damaged = damagedDatabases(runArea);
      tally.add('corrupt', damaged.length, `round ${round}: quick_check fails on ${damaged.join(', ')}`);
      tally.tries++;
    }
  },
};
