/**
 * Truncation and garbling of every file in `.meta/` and `.db/`: each case damages one file of a
 * copy of a recorded run area (with its server running, or at rest), then asks what a user would:
 * `list runs --json` and `report json` of a run. The answer must be the recorded one, or a
 * one-line error; when it is an error, `trellis doctor --repair` runs and the question is asked
 * again, and the answer must again be the recorded one or an error (never a silent difference).
 *
 * Counted per case: lost — a command said OK (exit 0) with runs, tests or results missing;
 * corrupt — a command said OK with results that differ; crashes — exit 70 or a stack trace.
 *
 * Damage kinds: empty (truncated to 0), half (truncated to half), garble-head (the first 4 KiB, or
 * the whole of a smaller file, replaced with random bytes), garble-page (a random 4 KiB page past
 * the first replaced with random bytes: SQLite's structure checks catch it), removed.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cli, isCrash, randomInt, stopServersAndWait, TARGET, writeArea, type CliResult, type Scenario, type Tally } from './fault-kit.js';

type Damage = 'empty' | 'half' | 'garble-head' | 'garble-page' | 'removed';

interface Case {
  /** relative to the run area; `{packet}` and `{log}` are found when the case runs */
  file: string;
  damage: Damage;
  live: boolean;
}

const META_KINDS: Damage[] = ['empty', 'half', 'garble-head', 'removed'];
const DB_KINDS: Damage[] = ['empty', 'half', 'garble-head', 'garble-page', 'removed'];

const CASES: Case[] = [
  ...['.meta/token', '.meta/area-id', '.meta/{packet}', '.meta/lease.json'].flatMap((file) =>
    META_KINDS.map((damage) => ({ file, damage, live: true })),
  ),
  ...(['empty', 'removed'] as Damage[]).map((damage) => ({ file: '.meta/logs/{log}', damage, live: true })),
  ...['.meta/token', '.meta/area-id'].flatMap((file) =>
    (['empty', 'garble-head', 'removed'] as Damage[]).map((damage) => ({ file, damage, live: false })),
  ),
  ...['.db/main.db', '.db/1.db', '.db/2.db'].flatMap((file) => DB_KINDS.map((damage) => ({ file, damage, live: false }))),
  ...['.db/main.db', '.db/1.db'].flatMap((file) =>
    (['empty', 'garble-page', 'removed'] as Damage[]).map((damage) => ({ file, damage, live: true })),
  ),
];

/** What the probe compares: runs with their summaries, and the tests of r1 with their outcomes. */
interface Snapshot {
  runs: string;
  tests: string;
}

function damage(file: string, kind: Damage): void {
  const size = fs.statSync(file).size;
  if (kind === 'removed') fs.rmSync(file);
  else if (kind === 'empty') fs.truncateSync(file, 0);
  else if (kind === 'half') fs.truncateSync(file, Math.floor(size / 2));
  else {
    const fd = fs.openSync(file, 'r+');
    try {
      const page = 4096;
      const at = kind === 'garble-head' || size < 3 * page ? 0 : randomInt(1, Math.floor(size / page) - 1) * page;
      const length = kind === 'garble-head' || size < 3 * page ? Math.min(size, page) : page;
      fs.writeSync(fd, randomBytes(Math.max(1, length)), 0, Math.max(1, length), at);
    } finally {
      fs.closeSync(fd);
    }
  }
}

export const DAMAGE_SCENARIO: Scenario = {
  name: 'truncate/garble each file of .meta and .db',
  weight: 3,
  planned: () => CASES.length,
  async run(tally, ctx) {
    const area = writeArea(path.join(ctx.dir, 'area'), {
      ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`p${i}`, '[ezsteps]\nx true\n'])),
      bad: '[ezsteps]\nx exit 1\n',
    });
    const base = path.join(area, 'runs');
    for (const r of ['r1', 'r2']) await cli(['run', '-t', TARGET, '-r', r, '--area', area]);
    const expected = await probe(area, base);
    await stopServersAndWait(base);
    if (typeof expected === 'string' || Array.isArray(expected))
      throw new Error(`the baseline cannot be read: ${JSON.stringify(expected)}`);
    let lastMs = 0;
    for (const c of CASES) {
      if (Date.now() + lastMs >= ctx.deadline) break;
      const t0 = Date.now();
      const caseDir = path.join(ctx.dir, `case-${tally.tries}`);
      const runArea = path.join(caseDir, 'runs');
      fs.cpSync(base, runArea, { recursive: true });
      try {
        await runCase(tally, c, area, runArea, expected);
      } finally {
        await stopServersAndWait(runArea);
        fs.rmSync(caseDir, { recursive: true, force: true });
      }
      lastMs = Date.now() - t0;
      tally.tries++;
    }
  },
};

async function runCase(tally: Tally, c: Case, area: string, runArea: string, expected: Snapshot): Promise<void> {
  const what = `${c.file} ${c.damage}${c.live ? ' (server running)' : ''}`;
  if (c.live) {
    const start = await cli(['server', 'start', '--area', area, '--runarea', runArea]);
    if (start.code !== 0) throw new Error(`server start: ${start.stderr}`);
  }
  const file = path.join(runArea, resolveName(runArea, c.file));
  // lease.json is written by the server at start: a case whose file is not there damages nothing.
  if (!fs.existsSync(file)) return;
  damage(file, c.damage);
  const first = await probe(area, runArea);
  if (judge(tally, first, expected, `${what}, asked at once`) === 'answered') return;
  // An error said so: the doctor repairs what it can, and the answer must be right or an error again.
  const repair = await cli(['doctor', '--repair', '--area', area, '--runarea', runArea]);
  if (isCrash(repair)) tally.add('crashes', 1, `${what}: doctor --repair: ${tail(repair)}`);
  const second = await probe(area, runArea);
  judge(tally, second, expected, `${what}, after doctor --repair`);
}

/** Classifies an answer: the recorded one, an error (fine), or a silent difference (counted). */
function judge(tally: Tally, got: Snapshot | CliResult[] | string, expected: Snapshot, what: string): 'answered' | 'error' {
  if (typeof got === 'string') {
    tally.add('corrupt', 1, `${what}: ${got}`);
    return 'answered';
  }
  if (Array.isArray(got)) {
    for (const r of got) if (isCrash(r)) tally.add('crashes', 1, `${what}: ${tail(r)}`);
    return 'error';
  }
  if (got.runs !== expected.runs || got.tests !== expected.tests) {
    const fewer = got.runs.length < expected.runs.length || got.tests.length < expected.tests.length;
    tally.add(fewer ? 'lost' : 'corrupt', 1, `${what}: exit 0 with a different answer\n    runs ${got.runs}\n    want ${expected.runs}`);
  }
  return 'answered';
}

/** `list runs --json` and `report json` of r1, reduced to what must not change; the failed commands otherwise. */
async function probe(area: string, runArea: string): Promise<Snapshot | CliResult[] | string> {
  const where = ['--area', area, '--runarea', runArea];
  const runs = await cli(['list', 'runs', '--json', ...where]);
  const report = await cli(['report', 'json', '-t', TARGET, '-r', 'r1', ...where]);
  const failed = [runs, report].filter((r) => r.code !== 0);
  if (failed.length > 0) return failed;
  try {
    const list = JSON.parse(runs.stdout) as Array<{ runname: string; state: string; status: string; total: number; counts: unknown }>;
    const rep = JSON.parse(report.stdout) as {
      tests: Array<{ testname: string; itempath: string; state: string; status: string; steps: unknown[] }>;
    };
    return {
      runs: JSON.stringify(list.map((r) => [r.runname, r.state, r.status, r.total, r.counts]).sort()),
      tests: JSON.stringify(rep.tests.map((t) => [t.testname, t.itempath, t.state, t.status, t.steps.length]).sort()),
    };
  } catch (err) {
    return `exit 0 but not JSON: ${(err as Error).message}`;
  }
}

/** The packet or a server log the case names, found in the copy. */
function resolveName(runArea: string, rel: string): string {
  const meta = path.join(runArea, '.meta');
  if (rel.includes('{packet}')) return rel.replace('{packet}', fs.readdirSync(meta).find((n) => n.endsWith('.pkt')) ?? 'no-packet');
  if (rel.includes('{log}'))
    return rel.replace('{log}', fs.readdirSync(path.join(meta, 'logs')).find((n) => n.startsWith('server-')) ?? 'no-log');
  return rel;
}

function tail(r: CliResult): string {
  return `exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`;
}
