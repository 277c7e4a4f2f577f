/**
 * A damaged run area never looks healthy, through the built CLI: a run database removed, emptied
 * or replaced by another run's, and the runs index (main.db) removed or emptied beside run
 * databases, are errors that name the file and say what to do (exit 6) — never an empty run that
 * reports PASS, never a database silently created empty, never an old run's file moved aside.
 */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ExitCode } from '../../src/util/errors.js';
import { makeArea } from '../helpers/area.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { assertUserError, dump, parseJson } from '../helpers/e2e.js';

// Each command is a Node start and a server round trip: on a 2-core machine under load, minutes.
t.setTimeout(600_000);

const T = ['-t', 'linux/x86_64'];

function setup(t: Test) {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nx true\n', b: '[ezsteps]\ny true\n' } });
  const dbDir = path.join(area, 'runs', '.db');
  const cli = (...args: string[]): Promise<CliResult> => runCli(t, [...args, '--area', area]);
  return { area, dbDir, cli, db: (name: string) => path.join(dbDir, name) };
}

/** Runs r1 and r2 (ids 1 and 2) and stops the server, so the files are at rest. */
async function twoRuns(t: Test, s: ReturnType<typeof setup>): Promise<void> {
  for (const r of ['r1', 'r2']) t.equal((await s.cli('run', ...T, '-r', r)).code, 0, `run ${r}`);
  t.equal((await s.cli('server', 'stop', '--all')).code, 0, 'server stopped');
}

const esc = (p: string) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

t.test('a removed run database: every command on that run says so; the others work; remove clears it', async (t) => {
  const s = setup(t);
  await twoRuns(t, s);
  fs.rmSync(s.db('1.db'));
  for (const argv of [
    ['list', 'tests', ...T, '-r', 'r1'],
    ['report', 'json', ...T, '-r', 'r1'],
    ['show', 'a', ...T, '-r', 'r1'],
    ['run', ...T, '-r', 'r1'],
  ]) {
    const r = await s.cli(...argv);
    assertUserError(
      t,
      r,
      ExitCode.storage,
      new RegExp(`database of run linux/x86_64/r1 \\(${esc(s.db('1.db'))}\\) is missing`),
      /trellis remove -t linux\/x86_64 -r r1/,
    );
    t.notMatch(r.stdout, /PASS/, `${argv[0]}: no result is reported\n${dump(r)}`);
  }
  t.notOk(fs.existsSync(s.db('1.db')), 'the file is not created empty');
  const other = await s.cli('list', 'tests', ...T, '-r', 'r2', '--json');
  t.equal(other.code, 0, dump(other));
  t.equal(parseJson<unknown[]>(other).length, 2, 'the other run is whole');
  const rm = await s.cli('remove', ...T, '-r', 'r1');
  t.equal(rm.code, 0, `remove works on it\n${dump(rm)}`);
  t.same(
    parseJson<Array<{ runname: string }>>(await s.cli('list', 'runs', '--json')).map((r) => r.runname),
    ['r2'],
  );
});

t.test("an emptied run database, and one replaced by another run's, are DB_DAMAGED naming the file", async (t) => {
  const s = setup(t);
  await twoRuns(t, s);
  fs.truncateSync(s.db('1.db'), 0);
  let r = await s.cli('list', 'tests', ...T, '-r', 'r1');
  assertUserError(t, r, ExitCode.storage, new RegExp(`${esc(s.db('1.db'))}\\) is empty \\(0 bytes\\)`));
  fs.copyFileSync(s.db('2.db'), s.db('1.db'));
  r = await s.cli('report', 'json', ...T, '-r', 'r1');
  assertUserError(t, r, ExitCode.storage, new RegExp(`${esc(s.db('1.db'))} holds run 2 \\(linux/x86_64/r2\\)`), /move it aside/);
  t.equal(r.stdout, '', 'no report of the wrong run');
  const rm = await s.cli('remove', ...T, '-r', 'r1');
  t.equal(rm.code, 0, dump(rm));
  t.ok(
    fs.readdirSync(s.dbDir).some((f) => /^1\.db\.orphan-\d+$/.test(f)),
    "another run's file is moved aside by remove, not deleted",
  );
});

t.test('the runs index removed or emptied beside run databases: an error naming both, and nothing moved aside', async (t) => {
  const s = setup(t);
  await twoRuns(t, s);
  for (const [what, damage, state] of [
    ['emptied', () => fs.truncateSync(s.db('main.db'), 0), 'is empty \\(0 bytes\\)'],
    ['removed', () => fs.rmSync(s.db('main.db')), 'is missing'],
  ] as const) {
    damage();
    for (const argv of [
      ['list', 'runs'],
      ['run', ...T, '-r', 'r9'],
      ['list', 'runs', '--direct'],
    ]) {
      const r = await s.cli(...argv);
      assertUserError(
        t,
        r,
        ExitCode.storage,
        new RegExp(`runs index ${esc(s.db('main.db'))} ${state} but ${esc(s.dbDir)} holds 2 run databases \\(1\\.db, 2\\.db\\)`),
        /trellis doctor --repair/,
      );
      t.notMatch(r.stdout, /No runs/, `${what}, ${argv.join(' ')}: no empty list`);
    }
    t.same(
      fs.readdirSync(s.dbDir).filter((f) => f.includes('orphan')),
      [],
      `${what}: no run database was moved aside`,
    );
    t.ok(fs.existsSync(s.db('1.db')) && fs.existsSync(s.db('2.db')), `${what}: the run databases are untouched`);
  }
});

t.test('under a live server: a run database removed is noticed at the next call', async (t) => {
  const s = setup(t);
  t.equal((await s.cli('run', ...T, '-r', 'r1')).code, 0);
  t.equal((await s.cli('list', 'tests', ...T, '-r', 'r1')).code, 0, 'the server has it open');
  fs.rmSync(s.db('1.db'));
  const r = await s.cli('list', 'tests', ...T, '-r', 'r1');
  assertUserError(t, r, ExitCode.storage, /is missing/);
});
