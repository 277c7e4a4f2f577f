/**
 * 100 hostile names and values: control characters, escape sequences (colour, screen clear, window
 * title, clipboard), C1 controls, bidi overrides, `.`/`..`/paths, shell syntax, quotes, pattern
 * characters, very long and non-ASCII text. Each is sent through the API as a run name, a test
 * name, an item path, a value name and a value; a tenth of them through `trellis run -r`; those that
 * can be item values go into a testconfig that is run, listed, shown and reported.
 *
 * Counted per name: lost — accepted but not stored exactly as sent; corrupt — a control character
 * printed raw, a file written outside the run area, a database failing quick_check; crashes — exit
 * 70, a stack trace, or the server failing (500) instead of refusing with BAD_VALUE.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RemoteStore } from '../../src/client/remote-store.js';
import type { Store } from '../../src/store/store.js';
import { TrellisError } from '../../src/util/errors.js';
import {
  CLI,
  cli,
  damagedDatabases,
  isCrash,
  stopServersUnder,
  TARGET,
  writeArea,
  type CliResult,
  type Scenario,
  type Tally,
} from './fault-kit.js';
import { shortHostname } from '../../src/util/host.js';

/** Anything a terminal may act on, but the line feed and the tab. */
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const SEEDS = [
  '..',
  '.',
  '/',
  'a/b',
  '../../../etc/passwd',
  '',
  ' ',
  ' lead',
  'trail ',
  'a\nb',
  'a\rb',
  'a\tb',
  'nul\x00byte',
  '\x1b[2J\x1b[H',
  '\x1b]0;pwned\x07',
  '\x1b]52;c;cm0gLXJmIH4=\x07',
  '\x1b[31mred\x1b[0m',
  '\u009b31m',
  '\u202egnp.exe',
  'x\u2028y',
  '$(rm -rf ~)',
  '`id`',
  "a'b",
  'a"b',
  'a;b',
  'a|b',
  'a&b',
  '%',
  '%%',
  'a,b',
  '~neg',
  '\\',
  'C:\\x',
  'x'.repeat(300),
  'ü',
  '日本語',
  '😀',
  'a b',
  '-r',
  '--help',
  '#hash',
  '{a}',
  '*',
  '?',
  '[x]',
  '\x7f',
  '\x08\x08\x08',
  'ok-name',
  'nightly-42',
  '2024WW10.3',
];

/** 100 names: the seeds, then mixtures of them (deterministic, so a failure can be run again). */
export function hostileNames(): string[] {
  const out = [...SEEDS];
  let x = 7;
  while (out.length < 100) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const a = SEEDS[x % SEEDS.length]!;
    const b = SEEDS[(x >> 8) % SEEDS.length]!;
    out.push(`${a}${x % 3 === 0 ? '/' : '-'}${b}`.slice(0, 250));
  }
  return out;
}

export const NAMES_SCENARIO: Scenario = {
  name: '100 hostile names and values',
  weight: 1,
  planned: () => 100,
  async run(tally, ctx) {
    const names = hostileNames();
    const area = writeArea(path.join(ctx.dir, 'area'), {
      // Item values are split on blanks and may hold anything else; the line must not end in '\'.
      items: `[items]\nV ${[...new Set(names.filter((n) => n !== '' && !/[\s\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(n)))].join(' ')} end\n\n[ezsteps]\nx printf '%s' "$V" > value.txt\n`,
    });
    const runArea = path.join(area, 'runs');
    const outside = new Set(walk(ctx.dir).filter((p) => !p.startsWith(runArea)));
    const check = (r: CliResult, what: string) => {
      if (isCrash(r)) tally.add('crashes', 1, `${what}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
      const m = RAW.exec(r.stdout + r.stderr);
      if (m) tally.add('corrupt', 1, `${what}: U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} printed raw`);
    };
    const itemRun = await cli(['run', '-t', TARGET, '-r', 'items', '--area', area]);
    check(itemRun, 'run of hostile item values');
    const store = new RemoteStore({
      runArea,
      areaDir: area,
      invocation: 'other',
      host: shortHostname(),
      now: () => Date.now() / 1000,
      debug: () => undefined,
      autoStart: true,
      env: process.env,
      trellisJs: CLI,
    });
    try {
      const run = await store.ensureRun({ target: TARGET, keys: { OS: 'linux', ARCH: 'x86_64' }, runname: 'api' });
      for (const [i, name] of names.entries()) {
        if (Date.now() >= ctx.deadline) break;
        await throughApi(tally, store, run.id, name, i);
        // A tenth through the command line too (a NUL cannot be in an argument).
        if (i % 10 === 0 && !name.includes('\0')) {
          const r = await cli(['run', '-t', TARGET, '-r', name, '-p', 'items/ok-name', '--area', area]);
          check(r, `run -r ${JSON.stringify(name)}`);
          if (r.code !== 0 && r.code !== 2)
            tally.add('crashes', 1, `run -r ${JSON.stringify(name)}: exit ${r.code} (neither accepted nor refused as bad input)`);
          if (r.code === 0) await checkStored(tally, store, name);
        }
        tally.tries++;
      }
    } finally {
      await store.close();
    }
    await checkItems(tally, area, names, check);
    for (const argv of [
      ['list', 'runs'],
      ['list', 'tests', '-t', TARGET, '-r', 'api'],
      ['report', 'tap', '-t', TARGET, '-r', 'items'],
      ['log', '-t', TARGET, '-r', 'api', '--all'],
    ]) {
      check(await cli([...argv, '--area', area]), argv.join(' '));
    }
    stopServersUnder(area);
    const escaped = walk(ctx.dir).filter((p) => !p.startsWith(runArea) && !outside.has(p));
    tally.add('corrupt', escaped.length, `written outside the run area: ${escaped.slice(0, 3).join(', ')}`);
    const damaged = damagedDatabases(runArea);
    tally.add('corrupt', damaged.length, `quick_check fails on ${damaged.join(', ')}`);
  },
};

/** The name as run name, test name, item path, value name and value: stored exactly, or refused with BAD_VALUE. */
async function throughApi(tally: Tally, store: Store, runId: number, name: string, i: number): Promise<void> {
  const attempt = async (what: string, fn: () => Promise<unknown>): Promise<boolean> => {
    try {
      await fn();
      return true;
    } catch (err) {
      if (err instanceof TrellisError && err.code === 'BAD_VALUE') return false;
      tally.add('crashes', 1, `${what} ${JSON.stringify(name)}: ${(err as Error).message}`);
      return false;
    }
  };
  if (await attempt('ensureRun', () => store.ensureRun({ target: TARGET, keys: { OS: 'linux', ARCH: 'x86_64' }, runname: name })))
    await checkStored(tally, store, name);
  const reg = { testname: name, itempath: '', priority: 0, rundir: '' };
  if (await attempt('registerTests', () => store.registerTests(runId, [reg, { ...reg, testname: `n${i}`, itempath: name }]))) {
    const rows = await store.listTests(runId);
    if (!rows.some((r) => r.testname === name)) tally.add('lost', 1, `test name ${JSON.stringify(name)} accepted but not stored`);
  }
  const [row] = await store.registerTests(runId, [{ testname: `v${i}`, itempath: '', priority: 0, rundir: '' }]);
  const op = { kind: 'data' as const, opId: `v${i}`, testId: row!.id, name, value: name, status: 'n/a', time: 1 };
  if (await attempt('write', () => store.write(runId, [op]))) {
    const detail = await store.getTestById(runId, row!.id);
    if (!detail?.data.some((d) => d.name === name && d.value === name))
      tally.add('lost', 1, `value ${JSON.stringify(name)} accepted but not stored exactly`);
  }
  // The same value under a plain name: values may hold anything.
  await store.write(runId, [{ ...op, opId: `w${i}`, name: `value${i}` }]);
  const again = await store.getTestById(runId, row!.id);
  if (!again?.data.some((d) => d.name === `value${i}` && d.value === name))
    tally.add('lost', 1, `value ${JSON.stringify(name)} not stored exactly`);
}

async function checkStored(tally: Tally, store: Store, runname: string): Promise<void> {
  const found = await store.findRun(TARGET, runname);
  if (found?.runname !== runname) tally.add('lost', 1, `run name ${JSON.stringify(runname)} accepted but not stored exactly`);
}

/** The item run: every item path stored as its value, each value in its own folder inside the run area. */
async function checkItems(tally: Tally, area: string, names: string[], check: (r: CliResult, what: string) => void): Promise<void> {
  const list = await cli(['list', 'tests', '-t', TARGET, '-r', 'items', '--json', '--area', area]);
  check(list, 'list tests of the item run');
  if (list.code !== 0) return;
  const rows = JSON.parse(list.stdout) as Array<{ itempath: string; rundir: string; status: string }>;
  const runArea = path.join(area, 'runs') + path.sep;
  for (const r of rows.filter((x) => x.itempath !== '')) {
    if (!r.rundir.startsWith(runArea))
      tally.add('corrupt', 1, `item ${JSON.stringify(r.itempath)}: work folder ${r.rundir} outside the run area`);
    let value: string | undefined;
    try {
      value = fs.readFileSync(path.join(r.rundir, 'value.txt'), 'utf8');
    } catch {
      value = undefined;
    }
    if (value !== r.itempath || r.status !== 'PASS')
      tally.add('lost', 1, `item ${JSON.stringify(r.itempath)}: ${r.status}, its value ${JSON.stringify(value)}`);
  }
  for (const r of rows.filter((x) => x.itempath !== '').slice(0, 5))
    check(
      await cli(['show', `items/${r.itempath}`, '-t', TARGET, '-r', 'items', '--area', area]),
      `show items/${JSON.stringify(r.itempath)}`,
    );
  void names;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push(p);
    if (e.isDirectory() && !e.isSymbolicLink()) out.push(...walk(p));
  }
  return out;
}
