/** Log excerpts: only the capped head and tail are read, cut at line ends, bad UTF-8 replaced. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { LOG_READS_AT_ONCE, readLogExcerpt, readLogExcerpts } from '../../src/util/log-excerpt.js';

t.test('a small log is read whole', async (t) => {
  const file = path.join(t.testdir(), 'a.log');
  fs.writeFileSync(file, 'one\ntwo\n');
  t.same(readLogExcerpt(file, 16, 16), { size: 8, head: 'one\ntwo\n', tail: '', cut: 0 });
  fs.writeFileSync(file, '');
  t.same(readLogExcerpt(file, 16, 16), { size: 0, head: '', tail: '', cut: 0 });
});

t.test('a big log: head and tail, cut at line ends, the cut counted', async (t) => {
  const file = path.join(t.testdir(), 'big.log');
  const lines = Array.from({ length: 1000 }, (_, i) => `line ${String(i).padStart(4, '0')}`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const size = fs.statSync(file).size;
  const x = readLogExcerpt(file, 100, 100);
  t.ok(x.head.startsWith('line 0000\n') && x.head.endsWith('\n'), 'the head ends with a whole line');
  t.ok(x.tail.startsWith('line ') && x.tail.endsWith('line 0999\n'), 'the tail starts with a whole line');
  t.ok(x.head.length <= 100 && x.tail.length <= 100);
  t.equal(x.cut, size - x.head.length - x.tail.length, 'cut = what is left out');
  t.equal(x.size, size);
});

t.test('one long line: cut mid-line, bytes that are not UTF-8 replaced', async (t) => {
  const file = path.join(t.testdir(), 'bin.log');
  fs.writeFileSync(file, Buffer.concat([Buffer.from('é'.repeat(100)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('é'.repeat(100))]));
  const x = readLogExcerpt(file, 51, 51);
  t.equal(x.cut, 403 - 102);
  // 51 bytes end inside a two-byte character: it decodes as U+FFFD, never as garbage bytes.
  t.match(x.head, /^é{25}\ufffd$/);
  t.match(x.tail, /^\ufffdé{25}$/);
  const whole = readLogExcerpt(file, 1000, 1000);
  t.ok(whole.head.includes('\ufffd'), 'invalid bytes replaced');
});

t.test('a missing log says why', async (t) => {
  t.match(readLogExcerpt(path.join(t.testdir(), 'nope.log'), 10, 10), { size: 0, head: '', cut: 0, error: 'ENOENT' });
});

t.test('a 50 MB log costs only the bytes shown', async (t) => {
  const file = path.join(t.testdir(), 'huge.log');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.from(`${'x'.repeat(1023)}\n`);
  const mb = Buffer.concat(Array.from({ length: 1024 }, () => chunk));
  for (let i = 0; i < 50; i++) fs.writeSync(fd, mb);
  fs.closeSync(fd);
  const before = process.memoryUsage().rss;
  const x = readLogExcerpt(file, 4096, 12288);
  t.equal(x.size, 50 * 1024 * 1024);
  t.equal(x.head.length + x.tail.length, 4096 + 12288, 'whole lines of 1 KiB fit exactly');
  t.ok(process.memoryUsage().rss - before < 20 * 1024 * 1024, 'no 50 MB buffer');
});

t.test('a log that is a FIFO or a folder is refused at once, never waited on', async (t) => {
  const dir = t.testdir();
  const fifo = path.join(dir, 'step.log');
  execFileSync('mkfifo', [fifo]);
  t.same(readLogExcerpt(fifo, 16, 16), { size: 0, head: '', tail: '', cut: 0, error: 'not a regular file' });
  t.equal(readLogExcerpt(dir, 16, 16).error, 'not a regular file');
});

t.test('many logs at once read the same as one by one, in the order asked, FIFOs and missing files included', async (t) => {
  const dir = t.testdir();
  const files: string[] = [];
  for (let i = 0; i < 3 * LOG_READS_AT_ONCE + 5; i++) {
    const file = path.join(dir, `s${i}.log`);
    if (i % 7 === 3) {
      files.push(path.join(dir, `missing${i}.log`));
      continue;
    }
    fs.writeFileSync(file, `${Array.from({ length: i * 20 }, (_, n) => `log ${i} line ${n}`).join('\n')}\n`);
    files.push(file);
  }
  const fifo = path.join(dir, 'fifo.log');
  execFileSync('mkfifo', [fifo]);
  files.splice(5, 0, fifo);
  const one = files.map((f) => readLogExcerpt(f, 300, 200));
  // As on a fast disk (one by one) and as on a slow one (every read counts as slow: all in parallel).
  for (const slowMs of [1e9, -1]) {
    const got = await readLogExcerpts(files, 300, 200, slowMs);
    t.same([...got.keys()], files, `in the order asked (slowMs ${slowMs})`);
    t.same([...got.values()], one, `each as readLogExcerpt reads it (slowMs ${slowMs})`);
  }
  const many = await readLogExcerpts(files, 300, 200, -1);
  t.equal(many.get(fifo)?.error, 'not a regular file', 'a FIFO does not hang the report');
  t.ok(many.get(files[3]!)?.error === 'ENOENT', 'a missing log says so');
  t.same(await readLogExcerpts([], 1, 1), new Map(), 'no logs, nothing read');
});
