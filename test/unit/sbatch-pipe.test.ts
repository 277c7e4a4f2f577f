/**
 * The sbatch pipe (runner/sbatch-pipe.ts): one long-lived shell runs `sbatch` per line. Here a
 * stand-in `sbatch` on PATH prints its arguments, so the test sees exactly what sbatch would get:
 * arguments with blanks, quotes, globs and dollars arrive whole; answers come back in order; a
 * failure carries its message; a shell that dies fails what it was asked, and a new one starts.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { SbatchPipe } from '../../src/runner/sbatch-pipe.js';

function standIn(dir: string): Record<string, string | undefined> {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  // Prints each argument in brackets on a line of its own; `fail` makes it fail, `die` kills its shell.
  fs.writeFileSync(
    path.join(bin, 'sbatch'),
    [
      '#!/bin/sh',
      'for a in "$@"; do [ "$a" = die ] && kill -9 $PPID; done',
      'for a in "$@"; do printf "[%s]\\n" "$a"; done',
      'for a in "$@"; do [ "$a" = fail ] && { echo "sbatch: error: Batch job submission failed" >&2; exit 1; }; done',
      'exit 0',
    ].join('\n'),
    { mode: 0o755 },
  );
  return { ...process.env, PATH: `${bin}:${process.env['PATH']}` };
}

t.test('arguments arrive whole, answers in order, failures with their message', async (t) => {
  const pipe = new SbatchPipe(standIn(t.testdir()));
  t.teardown(() => pipe.close());
  const hostile = ['--job-name=trellis:a b', "--output=/x/it's $HOME *.out", '--comment="q"', '\\back'];
  const [a, b, c] = await Promise.all([
    pipe.submit(['--parsable', ...hostile]),
    pipe.submit(['one']).catch((e: Error) => e.message),
    pipe.submit(['x', 'fail']).catch((e: Error) => e.message),
  ]);
  t.equal(a, `[--parsable] ${hostile.map((h) => `[${h}]`).join(' ')}`, 'each argument exactly, no globbing or expansion');
  t.equal(b, '[one]');
  t.match(c, /^sbatch failed: \[x\] \[fail\] sbatch: error: Batch job submission failed$/);
  t.ok(SbatchPipe.carries(hostile));
  t.notOk(SbatchPipe.carries(['a\tb']), 'a tab cannot travel');
  t.notOk(SbatchPipe.carries(['']), 'nor an empty argument');
});

t.test('a shell that dies fails what it was asked; the next submission starts a new one', async (t) => {
  const pipe = new SbatchPipe(standIn(t.testdir()));
  t.teardown(() => pipe.close());
  await t.rejects(pipe.submit(['die']), /sbatch failed: its shell ended/);
  t.equal(await pipe.submit(['again']), '[again]');
});
