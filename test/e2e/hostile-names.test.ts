/**
 * Hostile names through the built CLI. Names are checked where they enter: a run name, target
 * value, item value, step name, value name or status with control characters (or `..`, or empty)
 * is refused with one line before anything runs (hostile-text.test.ts: text already stored).
 */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ExitCode } from '../../src/util/errors.js';
import { makeArea } from '../helpers/area.js';
import { assertUserError, dump } from '../helpers/e2e.js';
import { run, trellis } from '../helpers/run-e2e.js';
import type { CliResult } from '../helpers/cli.js';

// Each command is a Node start and a server round trip: on a 2-core machine under load, minutes.
t.setTimeout(600_000);

/** Anything a terminal may act on, but the line feed (and the tab in logs). */
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function assertNothingRaw(t: Test, what: string, r: CliResult): void {
  const m = RAW.exec(r.stdout + r.stderr);
  // The output goes into the message only on failure: a passing TAP report must not nest its lines.
  if (m) t.fail(`${what}: U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} reached the terminal at ${m.index}\n${dump(r)}`);
  else t.pass(`${what}: nothing raw reaches the terminal`);
}

t.test('run names and target values with control characters, ., .. or a slash are refused before anything runs', async (t) => {
  const area = makeArea(t, { tests: { a: '[ezsteps]\nx true\n' } });
  for (const [name, why] of [
    ['a\nb', /run name 'a\\nb' \(-r\) contains a control character \(\\n\)/],
    ['\x1b]0;pwned\x07', /run name '\\x1b\]0;pwned\\x07' \(-r\)/],
    ['..', /run name '\.\.' \(-r\) is '\.\.'/],
    ['a/../../b', /'\/'/],
    ['', /is empty|-r/],
  ] as const) {
    const r = await run(t, area, name);
    assertUserError(t, r, ExitCode.usage, why);
    assertNothingRaw(t, `-r ${JSON.stringify(name)}`, r);
  }
  const r = await trellis(t, area, ['run', '-t', 'linux/\x1b[2J', '-r', 'n']);
  assertUserError(t, r, ExitCode.usage, /target value for ARCH '\\x1b\[2J' \(-t\)/);
  t.notOk(fs.existsSync(path.join(area, 'runs', '.db')), 'nothing was recorded');
});

t.test('item values and step names with control characters are config errors with file:line', async (t) => {
  const area = makeArea(t, {
    tests: {
      items: '[items]\nV ok a\x1bb\n\n[ezsteps]\nx true\n',
    },
  });
  let r = await run(t, area, 'n');
  assertUserError(t, r, ExitCode.config, /tests\/items\/testconfig:2: \[items\] V: item value 'a\\x1bb' contains a control character/);
  const area2 = makeArea(t, { tests: { s: '[ezsteps]\nst\x1bep true\n' } });
  r = await run(t, area2, 'n');
  assertUserError(t, r, ExitCode.config, /tests\/s\/testconfig:2: \[ezsteps\] step name 'st\\x1bep'/);
});

t.test('set-value and step refuse an empty or hostile name with one line, not a schema message', async (t) => {
  const area = makeArea(t, {
    tests: {
      a: [
        '[ezsteps]',
        'empty trellis set-value "" 1 > empty.out 2>&1; echo $? >> empty.out; true',
        'nl trellis set-value "$(printf \'a\\nb\')" 1 > nl.out 2>&1; echo $? >> nl.out; true',
        'step trellis step "" --state start > step.out 2>&1; echo $? >> step.out; true',
        'status trellis test-status --status "$(printf \'P\\033[8m\')" > status.out 2>&1; echo $? >> status.out; true',
        '',
      ].join('\n'),
    },
  });
  const r = await run(t, area, 'n', [], { env: { PATH: `${path.dirname(process.execPath)}:${process.env['PATH']}` } });
  t.equal(r.code, 0, dump(r));
  const dir = path.join(area, 'runs', 'linux', 'x86_64', 'n', 'a');
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  // An empty NAME is a missing argument to the command line parser (usage, exit 2), one line.
  t.match(read('empty.out'), /^trellis: missing the name argument[^\n]*\n2\n$/);
  t.match(read('nl.out'), /^trellis: value name 'a\\nb' \(set-value NAME\) contains a control character \(\\n\)[^\n]*\n2\n$/);
  t.match(read('step.out'), /^trellis: missing the name argument[^\n]*\n2\n$/);
  t.match(read('status.out'), /^trellis: status 'P\\x1b\[8M' \(--status\) contains a control character[^\n]*\n2\n$/);
  for (const f of ['empty.out', 'nl.out', 'step.out', 'status.out'])
    t.notMatch(read(f), /schema|must NOT|internal/, `${f}: no internal message`);
});
