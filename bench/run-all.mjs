// Runs every bench, one after another (they time wall clock: never in parallel), and prints a
// one-line summary of each. Exits 0 when they all ran, whatever the figures; 1 if one crashed.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCHES = [
  'launch-overhead.mjs',
  // Needs ctest (Debian's cmake); without it, it says so and stops.
  'launch-vs-ctest.mjs',
  'list-runs.mjs',
  'quick-commands.mjs',
  'items-rss.mjs',
  'store-write.mjs',
  'server.mjs',
  'dashboard.mjs',
  'junit.mjs',
  'report-logs.mjs',
  'history.mjs',
  'diff.mjs',
  'logrules.mjs',
  'in-test.mjs',
  'resources.mjs',
  'manual.mjs',
  'web.mjs',
  'slurm.mjs',
  'ssh.mjs',
  'agents.mjs',
  // About 32 minutes at full size on 2 cores; SCALE_TESTS=20000 SCALE_RUNS=1000 runs it smaller.
  'scale.mjs',
];
const dir = path.dirname(fileURLToPath(import.meta.url));

const broken = [];
const missed = [];
for (const name of BENCHES) {
  const r = spawnSync(process.execPath, [path.join(dir, name)], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  process.stdout.write(r.stdout ?? '');
  if (r.status !== 0) broken.push(`${name} (exit ${r.status ?? r.signal})`);
  for (const line of (r.stdout ?? '').split('\n')) if (line.endsWith('MISSED')) missed.push(`${name}: ${line.replace(/\s+/g, ' ')}`);
}
console.log(`\n== ${BENCHES.length - broken.length} of ${BENCHES.length} benches ran; ${missed.length} target(s) missed`);
for (const m of missed) console.log(`  ${m}`);
for (const b of broken) console.log(`  failed: ${b}`);
process.exitCode = broken.length > 0 ? 1 : 0;
