// Log rules over a big log: 10 logpro rules (ignores, required, errors, a case-insensitive
// warning, an alternation, a value) applied to a generated 1 GB log in one streaming pass, in a
// process of its own: MB/s and peak RSS. Floors measured in the same script over the same file:
// `wc -l` (reading and counting lines) and `grep -c` (one expression). The file is read from the
// page cache by every command alike (it was just written, and is read once before timing).
// Then once more with an 11th rule holding a lookahead, which is tested on every line.
//   node bench/logrules.mjs [--mb N] [--runs N]
import { existsSync, openSync, writeFileSync, writeSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { figure, header, makeTempDir, median, requireBuild, ROOT, runAsync, timeOk, verdict } from './common.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const MB = arg('--mb', 1024);
const RUNS = arg('--runs', 3);
const TARGET_MBS = 200;
const TARGET_RSS = 100;

const RULES = `
(expect:ignore   in "LogFileBody" >= 0 "benign error mention" #/error: none|no errors/)
(expect:ignore   in "LogFileBody" >= 0 "HAVE_STRERROR" #/HAVE_STRERROR/)
(expect:required in "LogFileBody" > 0  "leaving directory" #/Leaving directory/)
(expect:required in "LogFileBody" = 1  "build done" #/^BUILD (DONE|OK)$/)
(expect:warning  in "LogFileBody" = 0  "any warning" #/warn/i)
(expect:error    in "LogFileBody" = 0  "any error" (list #/ERROR/ #/error/))
(expect:abort    in "LogFileBody" = 0  "crash" #/Segmentation fault|core dumped/)
(expect:check    in "LogFileBody" = 0  "check" #/CHECK ME/)
(expect:value    in "LogFileBody" 1.9 0.1 "voltage" #/Voltage: ([\\d.]+)/)
(expect:error    in "LogFileBody" = 0  "traceback" #/Traceback \\(most recent call last\\)/)
`;

/** A log of ordinary build and test output with an error, warnings and values sprinkled in. */
function writeLog(file, mb) {
  const words = ['compile', 'link', 'test', 'module', 'INFO', 'DEBUG', 'archive', 'install', 'fetch', 'check'];
  const fd = openSync(file, 'w');
  let size = 0;
  let i = 0;
  while (size < mb * 1e6) {
    let s = '';
    for (let k = 0; k < 4000; k++, i++) {
      let l = `2026-11-23 12:${String((i >> 6) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} ${words[i % 10]} step ${i} processed item ${(i * 7) % 1000} in ${i % 97} ms`;
      if (i % 100_003 === 0) l += ' ERROR something bad';
      else if (i % 50_021 === 0) l += ' warning: deprecated';
      else if (i % 30_011 === 0) l += ' (error: none)';
      else if (i % 200_000 === 7) l = `Voltage: 1.9${i % 10}`;
      s += `${l}\n`;
    }
    writeSync(fd, s);
    size += s.length;
  }
  writeSync(fd, 'Leaving directory /build\nBUILD DONE\n');
  closeSync(fd);
}

requireBuild();
const tmp = makeTempDir('logrules');
const log = path.join(tmp, 'step.log');
const rulesFile = path.join(tmp, 'step.logpro');
writeFileSync(rulesFile, RULES);
const lookaheadFile = path.join(tmp, 'lookahead.logpro');
writeFileSync(lookaheadFile, `${RULES}(expect:check in "LogFileBody" = 0 "fail not followed by ok" #/fail(?! ok)/)\n`);
console.log(`writing a ${MB} MB log…`);
writeLog(log, MB);
const bytes = statSync(log).size;
const mbOf = (ms) => bytes / 1e6 / (ms / 1000);

// The judging process: prints its own pass time (the wall of the process adds Node's start).
const lib = pathToFileURL(path.join(ROOT, 'dist/src/logrules/index.js')).href;
const script = `
import { readFileSync } from 'node:fs';
import { buildRuleSet, judgeLogFile, parseLogpro } from ${JSON.stringify(lib)};
const [rules, log] = process.argv.slice(1);
const set = buildRuleSet([parseLogpro(readFileSync(rules, 'utf8'), { file: rules, line: 1 })]);
const t0 = performance.now();
const j = await judgeLogFile(log, set, { now: Date.now() / 1000 });
const ms = performance.now() - t0;
console.log(JSON.stringify({ ms, status: j.status, lines: j.lines, counts: j.rules.map((r) => r.count), rss: process.resourceUsage().maxRSS }));
`;
const useTime = existsSync('/usr/bin/time');

header(`log rules: 10 rules over a ${(bytes / 1e6).toFixed(0)} MB log, one streaming pass`);
timeOk('cat', [log], { stdio: ['ignore', 'ignore', 'ignore'] }); // into the page cache
const wc = [];
const grep = [];
const judged = [];
let peakKB = 0;
let last;

/** Judges the log in a new process; returns what it printed, and keeps the peak RSS. */
async function judge(rules) {
  const args = ['--input-type=module', '-e', script, rules, log];
  const res = useTime ? await runAsync('/usr/bin/time', ['-v', process.execPath, ...args]) : await runAsync(process.execPath, args);
  if (res.code !== 0) throw new Error(`judging failed (${res.code}):\n${res.stderr.slice(-2000)}`);
  const out = JSON.parse(res.stdout.trim().split('\n').pop());
  const timeKB = useTime ? Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(res.stderr)?.[1] ?? 0) : 0;
  peakKB = Math.max(peakKB, timeKB, out.rss);
  return out;
}

for (let r = 0; r < RUNS; r++) {
  wc.push(timeOk('wc', ['-l', log]).ms);
  grep.push(timeOk('grep', ['-c', 'ERROR', log]).ms);
  last = await judge(rulesFile);
  judged.push(last.ms);
}
const lookahead = await judge(lookaheadFile);
console.log(`verdict: ${last.status}, ${last.lines} lines, counts per rule: ${last.counts.join(' ')}`);
console.log(`peak RSS from ${useTime ? '/usr/bin/time -v and ' : ''}process.resourceUsage() of the judging process`);
const mbs = mbOf(median(judged));
figure('wc -l (floor), median', mbOf(median(wc)), 'MB/s', 0);
figure('grep -c ERROR (floor), median', mbOf(median(grep)), 'MB/s', 0);
const ok = mbs >= TARGET_MBS;
console.log(
  `${'log rules, 10 rules, median'.padEnd(44)} ${mbs.toFixed(0).padStart(9)} MB/s   target ≥ ${TARGET_MBS} MB/s: ${ok ? 'met' : 'MISSED'}`,
);
figure('log rules time / grep -c time', median(judged) / median(grep), '×', 1);
figure('log rules time / wc -l time', median(judged) / median(wc), '×', 1);
figure('11 rules, one with a lookahead (every line)', mbOf(lookahead.ms), 'MB/s', 0);
verdict('peak RSS of the judging process', peakKB / 1024, TARGET_RSS, 'MB', 0);
