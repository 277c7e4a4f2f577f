/**
 * The streaming pass over real files: the same verdict as in memory whatever the buffer and block
 * boundaries, a 200 MB log generated in the test folder judged in a process whose peak RSS stays
 * under 100 MB, over-long lines, a log that is missing or not a regular file, and the .dat file.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import {
  buildRuleSet,
  datFileFor,
  judgeLogFile,
  judgeText,
  parseLogpro,
  writeDatFile,
  type LogJudgement,
} from '../../src/logrules/index.js';
import { repoRoot } from '../helpers/cli.js';

const run = promisify(execFile);
const NOW = Date.now() / 1000;
const RULES = `
(expect:ignore   in logfile >= 0 "benign" #/error: none/)
(expect:required in logfile = 1 "the end" #/^THE END$/)
(expect:error    in logfile = 0 "errors" #/ERROR/)
(expect:warning  in logfile = 0 "warnings" #/warn/i)
(expect:value    in logfile 5 5 "v" #/value=(\\d+)/)
`;
const rules = buildRuleSet([parseLogpro(RULES, { file: 'rules.logpro', line: 1 })]);

function summary(j: LogJudgement) {
  return { status: j.status, lines: j.lines, bytes: j.bytes, rules: j.rules.map((r) => [r.count, r.status, r.lines, r.measured]) };
}

t.test('a 3 MB log with hits at buffer and block boundaries: the same verdict as in memory', async (t) => {
  const dir = t.testdir();
  const parts: string[] = [];
  let size = 0;
  let n = 0;
  // Put special lines just before and after every 64 KiB and 1 MiB boundary.
  const marks = new Set<number>();
  for (let b = 65536; b < 3 << 20; b += 65536) for (const d of [-30, -1, 0, 1, 30]) marks.add(b + d);
  while (size < 3 << 20) {
    let line = `line ${n} ${'.'.repeat(n % 50)}`;
    if ([...marks].some((m) => m >= size && m < size + line.length + 1))
      line = n % 3 === 0 ? `ERROR at ${n}` : n % 3 === 1 ? `Warn at ${n}` : `value=${n % 11} error: none`;
    parts.push(line);
    size += Buffer.byteLength(line) + 1;
    n++;
  }
  parts.push('THE END');
  const text = `${parts.join('\r\n')}`; // CRLF, and no line end after the last line
  const file = path.join(dir, 'step.log');
  fs.writeFileSync(file, text);
  const fromFile = await judgeLogFile(file, rules, { now: NOW });
  const inMemory = judgeText(text, rules, NOW);
  t.same(summary(fromFile), summary(inMemory));
  t.equal(fromFile.lines, parts.length);
  t.equal(fromFile.bytes, Buffer.byteLength(text));
  t.ok(fromFile.rules[2]!.count > 50, `errors found: ${fromFile.rules[2]!.count}`);
  t.same(
    fromFile.rules[2]!.lines.map((l) => l.text),
    parts.filter((l) => l.startsWith('ERROR')).slice(0, 5),
    'the first error lines, without their \\r',
  );
  t.same(fromFile.rules[1]!.lines, [{ line: parts.length, text: 'THE END' }], 'the last line, without a line end');
});

t.test('non-ASCII logs are read as UTF-8; line numbers count lines, not bytes', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'u.log');
  fs.writeFileSync(file, 'grüße\nERROR: ärger\nΩ warn\nTHE END\n');
  const j = await judgeLogFile(file, rules, { now: NOW });
  t.same(j.rules[2]!.lines, [{ line: 2, text: 'ERROR: ärger' }]);
  t.same(j.rules[3]!.lines, [{ line: 3, text: 'Ω warn' }]);
});

t.test('a line longer than the 1 MiB buffer is judged by its first 1 MiB', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'long.log');
  const long = `ERROR start ${'x'.repeat(3 << 20)} warn at the far end`;
  fs.writeFileSync(file, `first\n${long}\nwarn after\nTHE END\n`);
  const j = await judgeLogFile(file, rules, { now: NOW });
  t.equal(j.lines, 4);
  t.equal(j.bytes, fs.statSync(file).size);
  t.same(
    j.rules[2]!.lines.map((l) => l.line),
    [2],
    'the error at the start of the long line',
  );
  t.same(
    j.rules[3]!.lines.map((l) => l.line),
    [3],
    'the warn past its first 1 MiB is not seen; the next line is',
  );
  t.equal(j.rules[1]!.count, 1);
});

t.test('a log that is missing, a folder or a FIFO is refused with one clear line', async (t) => {
  const dir = t.testdir();
  await t.rejects(judgeLogFile(path.join(dir, 'none.log'), rules, { now: NOW }), {
    code: 'RUNAREA_UNWRITABLE',
    message: /cannot read log .*none\.log to apply its rules \(ENOENT\)/,
  });
  await t.rejects(judgeLogFile(dir, rules, { now: NOW }), { code: 'RUNAREA_UNWRITABLE', message: /not a regular file/ });
  const fifo = path.join(dir, 'fifo.log');
  await run('mkfifo', [fifo]);
  await t.rejects(judgeLogFile(fifo, rules, { now: NOW }), { message: /not a regular file/ }, 'a FIFO with no writer does not hang');
});

t.test('an abort signal stops the pass', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'a.log');
  fs.writeFileSync(file, 'x\n'.repeat(1 << 20));
  const ac = new AbortController();
  ac.abort(new Error('stopped'));
  await t.rejects(judgeLogFile(file, rules, { now: NOW, signal: ac.signal }), { message: 'stopped' });
});

t.test('writeDatFile puts STEP.dat beside STEP.log', async (t) => {
  const dir = t.testdir();
  const log = path.join(dir, 'compile.log');
  fs.writeFileSync(log, 'value=7\nTHE END\n');
  const j = await judgeLogFile(log, rules, { now: NOW });
  t.equal(writeDatFile(log, j), path.join(dir, 'compile.dat'));
  t.equal(datFileFor('/w/odd.name'), '/w/odd.name.dat');
  t.match(
    fs.readFileSync(path.join(dir, 'compile.dat'), 'utf8'),
    /^\[rule-4\]\noperator in\nsection LogFileBody\ndesc v\nstatus OK\nexpected 5\nmeasured 7\n[\s\S]*\[final\]\nexit-code 0\nexit-status PASS\n$/,
  );
  t.same(fs.readdirSync(dir).sort(), ['compile.dat', 'compile.log'], 'no temp file left');
});

t.test('200 MB of log in one streaming pass: right counts, peak RSS under 100 MB', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'big.log');
  // A 1 MiB piece of ordinary lines with one error, one warning, one benign line and one value.
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < (1 << 20) - 200; i++) {
    const l =
      i === 100
        ? 'ERROR: disk quota'
        : i === 200
          ? 'WARNING: slow'
          : i === 300
            ? 'error: none'
            : i === 400
              ? 'value=3'
              : `2026-11-23 12:00:00 INFO worker ${i} processed item ${i * 7} in ${i % 97} ms`;
    lines.push(l);
    size += l.length + 1;
  }
  const piece = Buffer.from(`${lines.join('\n')}\n`);
  const pieces = 200;
  const fd = fs.openSync(file, 'w');
  for (let i = 0; i < pieces; i++) fs.writeSync(fd, piece);
  fs.writeSync(fd, 'THE END\n');
  fs.closeSync(fd);
  const rulesFile = path.join(dir, 'big.logpro');
  fs.writeFileSync(rulesFile, RULES);
  const rssFile = path.join(dir, 'rss');
  const probe = path.join(repoRoot, 'test/fixtures/probes/max-rss.mjs');
  const child = path.join(repoRoot, 'dist/test/helpers/judge-log-child.js');
  // `env -u`: tap puts its process-info hook into every child's NODE_OPTIONS (about 20 MB that
  // would count as the pass's memory).
  const { stdout } = await run('env', ['-u', 'NODE_OPTIONS', process.execPath, `--import=${probe}`, child, rulesFile, file], {
    env: { ...process.env, TRELLIS_TEST_RSS_FILE: rssFile },
    maxBuffer: 1 << 20,
  });
  const j = JSON.parse(stdout) as {
    status: string;
    lines: number;
    bytes: number;
    rules: Array<{ count: number; status: string; lines: Array<{ line: number }> }>;
  };
  t.equal(j.bytes, pieces * piece.length + 8, '200 MB read');
  t.equal(j.lines, pieces * lines.length + 1);
  t.same(
    j.rules.map((r) => r.count),
    [pieces, 1, pieces, pieces, pieces],
    'benign, the end, errors, warnings, values: every piece counted',
  );
  t.same(
    j.rules[2]!.lines.map((l) => l.line),
    [101, 101 + lines.length, 101 + 2 * lines.length, 101 + 3 * lines.length, 101 + 4 * lines.length],
  );
  t.equal(j.status, 'FAIL');
  const peakMb = Number(fs.readFileSync(rssFile, 'utf8')) / 1024;
  // Node itself takes about 40 MB, the pass about 17 MB more; a log read whole would add 200 MB.
  t.ok(peakMb < 100, `peak RSS ${peakMb.toFixed(0)} MB`);
});
