/**
 * Stored hostile text through the built CLI. Text already stored — an older run area, a test's own
 * comments and values, its logs — is printed escaped by every command: no control character but
 * the line feed ever reaches the terminal, a table row stays one line, and JSON output is the same
 * JSON value with nothing raw in it.
 */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { openDirectStore } from '../../src/store/direct-store.js';
import { ExitCode } from '../../src/util/errors.js';
import { makeArea } from '../helpers/area.js';
import { dump } from '../helpers/e2e.js';
import { run, trellis } from '../helpers/run-e2e.js';
import type { CliResult } from '../helpers/cli.js';

// Each command is a Node start and a server round trip: on a 2-core machine under load, minutes.
t.setTimeout(600_000);

const T = ['-t', 'linux/x86_64'];
/** Anything a terminal may act on, but the line feed (and the tab in logs). */
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function assertNothingRaw(t: Test, what: string, r: CliResult): void {
  const m = RAW.exec(r.stdout + r.stderr);
  // The output goes into the message only on failure: a passing TAP report must not nest its lines.
  if (m) t.fail(`${what}: U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} reached the terminal at ${m.index}\n${dump(r)}`);
  else t.pass(`${what}: nothing raw reaches the terminal`);
}

t.test('stored hostile text is printed escaped by every command', async (t) => {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nx true\n' } });
  t.equal((await run(t, area, 'base')).code, 0);
  await trellis(t, area, ['server', 'stop', '--all']);
  // An older run area, or a writer with the files: the store itself takes what it is given.
  const runArea = path.join(area, 'runs');
  const store = openDirectStore(runArea, { host: 'here' });
  const evil = 'ev\x1b]0;pwned\x07il\nrun\u009b2J\u202e';
  const r = await store.ensureRun({ target: 'linux/x86_64', keys: { OS: 'linux', ARCH: 'x86_64' }, runname: evil });
  const dir = path.join(runArea, 'hostile');
  fs.mkdirSync(dir, { recursive: true });
  const log = path.join(dir, 'step.log');
  fs.writeFileSync(log, 'start\n\x1b[31mred\x1b[0m\n\x1b]52;c;cm0gLXJmIH4K\x07clipboard\n\x1b[2J\x1b[Hcleared\nbell\x07\u009b6n\nend\n');
  const [row, item] = await store.registerTests(r.id, [
    { testname: 't\x1b[2Jx', itempath: '', priority: 0, rundir: dir, owner: 'own\ner', description: 'desc\x1b[8m' },
    { testname: 't\x1b[2Jx', itempath: 'v\x07/\nw', priority: 0, rundir: dir },
  ]);
  await store.write(
    r.id,
    [
      {
        kind: 'test',
        opId: '1',
        testId: row!.id,
        time: 1,
        set: { state: 'COMPLETED', status: 'FA\x1bIL', comment: 'com\nment\x1b[1A', host: 'ho\x1bst' },
      },
      {
        kind: 'step',
        opId: '2',
        testId: row!.id,
        time: 1,
        name: 'st\nep\x9b',
        state: 'COMPLETED',
        status: 'FAIL',
        exitCode: 1,
        logfile: log,
      },
      { kind: 'data', opId: '3', testId: row!.id, time: 1, name: 'val\nname', value: 'line1\nline2\x1b[2J', status: 'FAIL' },
      { kind: 'test', opId: '4', testId: item!.id, time: 1, set: { state: 'COMPLETED', status: 'PASS', comment: '\u2028x' } },
    ],
    { who: 'wh\x1bo' },
  );
  await store.close();

  const runArgs = [...T, '-r', evil];
  const commands: string[][] = [
    ['list', 'runs'],
    ['list', 'runs', '--json'],
    ['list', 'tests', ...runArgs],
    ['list', 'tests', ...runArgs, '--json'],
    ['show', 't\x1b[2Jx', ...runArgs],
    ['show', 't\x1b[2Jx', ...runArgs, '--json'],
    ['show', 'nosuch\x1b]0;x\x07', ...runArgs],
    ['log', ...runArgs, '--all'],
    ['history', 't\x1b[2Jx'],
    ['diff', ...T, '-r', 'base', '-r', evil, '--all'],
    ['report', 'json', ...runArgs],
    ['report', 'tap', ...runArgs],
    ['lock', ...runArgs],
    ['unlock', ...runArgs],
  ];
  for (const argv of commands) {
    const res = await trellis(t, area, argv);
    if (res.code === ExitCode.internal) t.fail(`${JSON.stringify(argv)}: internal error\n${dump(res)}`);
    assertNothingRaw(t, argv.map((a) => JSON.stringify(a)).join(' '), res);
  }
  const list = await trellis(t, area, ['list', 'runs']);
  t.equal(list.stdout.trimEnd().split('\n').length, 3, `a header and one line per run\n${dump(list)}`);
  t.match(list.stdout, /ev\\x1b\]0;pwned\\x07il\\nrun\\u009b2J\\u202e/, 'the run name is shown escaped');
  const show = await trellis(t, area, ['show', 't\x1b[2Jx', ...runArgs]);
  t.match(show.stdout, /red\n/, 'colour codes are dropped from the log');
  t.match(show.stdout, /clipboard\n/, 'an OSC 52 clipboard write is dropped');
  t.match(show.stdout, /bell\\x07\\u009b6n/, 'other controls in the log are shown escaped');
  t.match(show.stdout, /line1\\nline2\\x1b\[2J/, 'a value with a newline stays on its row');
  const json = await trellis(t, area, ['list', 'runs', '--json']);
  t.ok(
    JSON.parse(json.stdout).some((x: { runname: string }) => x.runname === evil),
    'the JSON still carries the exact name',
  );
});
