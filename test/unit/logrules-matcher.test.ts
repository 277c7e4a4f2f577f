/**
 * Log rules applied to logs held in memory: the outcomes logpro gives (pass, warn, fail,
 * required-missing, an ignore masking an error, a waived rule, check/abort/skip and their
 * precedence), sections and triggers, value rules with every comparator, the first lines with
 * their numbers, and logpro's .dat text.
 */
import t from 'tap';
import {
  buildRuleSet,
  formatDat,
  judgeText,
  LogMatcher,
  parseLogpro,
  parseNativeRules,
  type LogJudgement,
  type RuleSet,
} from '../../src/logrules/index.js';

const NOW = Date.UTC(2026, 10, 23) / 1000;

function rules(text: string): RuleSet {
  return buildRuleSet([parseLogpro(text, { file: 't.logpro', line: 1 })]);
}

function judge(ruleText: string, log: string): LogJudgement {
  return judgeText(log, rules(ruleText), NOW);
}

/** `kind:count:status` of each rule, in rule order. */
function counts(j: LogJudgement): string[] {
  return j.rules.map((r) => `${r.rule.kind}:${r.count}:${r.status}`);
}

const COMPILE = `
;; as Megatest's installall compile.logpro: order matters, ignores first
(expect:required in "LogFileBody" > 0 "Leaving directory" #/Leaving directory/)
(expect:ignore   in "LogFileBody" >= 0 "Ignore HAVE_STRERROR" #/HAVE_STRERROR/)
(expect:warning  in "LogFileBody" = 0 "Any warning" #/warn/)
(expect:error    in "LogFileBody" = 0 "Any error"  (list #/ERROR/ #/error/))
`;

t.test('pass: required found, nothing else', async (t) => {
  const j = judge(COMPILE, 'make all\ncc -c a.c\nLeaving directory /src\n');
  t.equal(j.exitCode, 0);
  t.equal(j.status, 'PASS');
  t.equal(j.reason, '');
  t.same(counts(j), ['required:1:PASS', 'ignore:0:PASS', 'warning:0:PASS', 'error:0:PASS']);
  t.same(j.rules[0]!.lines, [{ line: 3, text: 'Leaving directory /src' }], 'line numbers start at 1');
  t.equal(j.lines, 3);
});

t.test('warn: a warning line and no error gives WARN (exit 2)', async (t) => {
  const j = judge(COMPILE, 'a.c:1: warn: unused x\nLeaving directory /src\n');
  t.equal(j.exitCode, 2);
  t.equal(j.status, 'WARN');
  t.match(j.reason, /^"Any warning" = 0 expected, found 1 \(first: line 1\)$/);
});

t.test('fail: an error line gives FAIL (exit 1), above a warning', async (t) => {
  const j = judge(COMPILE, 'warn: x\nERROR: boom\nLeaving directory /src\nanother error\n');
  t.equal(j.exitCode, 1);
  t.equal(j.status, 'FAIL');
  t.same(counts(j), ['required:1:PASS', 'ignore:0:PASS', 'warning:1:WARN', 'error:2:FAIL']);
  t.same(
    j.rules[3]!.lines.map((l) => l.line),
    [2, 4],
    'both patterns of the list count for the rule',
  );
});

t.test('required missing: FAIL even with a clean log', async (t) => {
  const j = judge(COMPILE, 'make all\n');
  t.equal(j.status, 'FAIL');
  t.match(j.reason, /"Leaving directory" > 0 expected, found 0/);
});

t.test('an ignore rule written before an error rule masks it; written after, it does not', async (t) => {
  const log = 'checking HAVE_STRERROR... yes (no error)\nLeaving directory /src\n';
  const masked = judge(COMPILE, log);
  t.equal(masked.status, 'PASS', 'the ignore took the line');
  t.same(counts(masked), ['required:1:PASS', 'ignore:1:PASS', 'warning:0:PASS', 'error:0:PASS']);
  const late = judge(
    `(expect:error  in "LogFileBody" = 0 "Any error" #/error/)
     (expect:ignore in "LogFileBody" >= 0 "too late" #/HAVE_STRERROR/)`,
    log,
  );
  t.equal(late.status, 'FAIL', 'the first rule written takes the line');
});

t.test('a waived rule: WAIVED (exit 4) instead of FAIL; a waive that is not hit changes nothing', async (t) => {
  const r = `(expect:waive in "LogFileBody" < 1 "Known flaky: bug 1234" #/ERROR: timeout talking to license server/)
             (expect:error in "LogFileBody" = 0 "Any error" #/ERROR/)`;
  const j = judge(r, 'ERROR: timeout talking to license server\n');
  t.equal(j.exitCode, 4);
  t.equal(j.status, 'WAIVED');
  t.same(counts(j), ['waive:1:WAIVED', 'error:0:PASS']);
  t.equal(judge(r, 'all good\n').status, 'PASS');
  t.equal(
    judge(r, 'ERROR: timeout talking to license server\nERROR: disk full\n').status,
    'FAIL',
    'an error beside the waived one still fails',
  );
});

t.test('check, abort and skip, and logpro precedence: skip > abort > check > error > warning > waive', async (t) => {
  const r = `(expect:skip    in logfile = 0 "skip"    #/^SKIPME/)
             (expect:abort   in logfile = 0 "abort"   #/^CRASH/)
             (expect:check   in logfile = 0 "check"   #/^CHECK/)
             (expect:error   in logfile = 0 "error"   #/^ERROR/)
             (expect:warning in logfile = 0 "warning" #/^WARN/)
             (expect:waive   in logfile = 0 "waive"   #/^WAIVE/)`;
  const cases: Array<[string, number, string]> = [
    ['WAIVE\n', 4, 'WAIVED'],
    ['WAIVE\nWARN\n', 2, 'WARN'],
    ['WAIVE\nWARN\nERROR\n', 1, 'FAIL'],
    ['WAIVE\nWARN\nERROR\nCHECK\n', 3, 'CHECK'],
    ['WAIVE\nWARN\nERROR\nCHECK\nCRASH\n', 5, 'ABORT'],
    ['WAIVE\nWARN\nERROR\nCHECK\nCRASH\nSKIPME\n', 6, 'SKIP'],
    ['nothing\n', 0, 'PASS'],
  ];
  for (const [log, code, status] of cases) {
    const j = judge(r, log);
    t.same([j.exitCode, j.status], [code, status], JSON.stringify(log));
  }
});

t.test('required-warn gives WARN; note and ignore never change the status', async (t) => {
  const r = `(expect:note in logfile >= 0 "note" #/NOTE/)
             (expect:required-warn in logfile >= 1 "summary line" #/^Summary/)
             (expect:ignore in logfile < 1 "an ignore that fails its count" #/noise/)`;
  const j = judge(r, 'NOTE a\nnoise\n');
  t.equal(j.status, 'WARN');
  t.same(counts(j), ['note:1:PASS', 'required-warn:0:WARN', 'ignore:1:PASS']);
  t.equal(j.rules[2]!.ok, false, 'logpro still calls the ignore rule FAIL in its summary');
});

t.test('count comparators: = > < >= <=', async (t) => {
  const log = 'x\nx\nx\n';
  const cases: Array<[string, boolean]> = [
    ['= 3', true],
    ['= 2', false],
    ['> 2', true],
    ['> 3', false],
    ['< 4', true],
    ['< 3', false],
    ['>= 3', true],
    ['>= 4', false],
    ['<= 3', true],
    ['<= 2', false],
  ];
  for (const [cmp, ok] of cases) {
    const j = judge(`(expect:required in logfile ${cmp} "three x" #/^x$/)`, log);
    t.equal(j.rules[0]!.ok, ok, cmp);
    t.equal(j.status, ok ? 'PASS' : 'FAIL', cmp);
  }
});

t.test('value rules: tolerance and every comparator, matchnum, not-a-number, never matched', async (t) => {
  const log = 'Voltage: 1.95 V\ntime 10 1.85\nFreq: 110e9 Hz\ncount: many\n';
  const value = (expected: string, tol: string, re: string, extra = '') =>
    judge(`(expect:value in logfile ${expected} ${tol} "v" #/${re}/${extra})`, log).rules[0]!;
  t.match(value('1.9', '0.1', 'Voltage: ([\\d.]+)'), { ok: true, measured: 1.95, pass: 1, fail: 0, status: 'PASS' }, '±0.1');
  t.match(value('1.9', '0.01', 'Voltage: ([\\d.]+)'), { ok: false, measured: 1.95, pass: 0, fail: 1, status: 'FAIL' }, '±0.01');
  const cmp: Array<[string, string, boolean]> = [
    ['<', '2', true], // measured < expected
    ['<', '1.95', false],
    ['>', '1.9', true],
    ['>', '1.95', false],
    ['<=', '1.95', true],
    ['<=', '1.9', false],
    ['>=', '1.95', true],
    ['>=', '2', false],
    ['=', '1.95', true],
    ['=', '1.9', false],
  ];
  for (const [op, expected, ok] of cmp) t.equal(value(expected, op, 'Voltage: ([\\d.]+)').ok, ok, `1.95 ${op} ${expected}`);
  t.match(value('1.9', '0.1', 'time (\\d+) ([\\d.]+)', ' matchnum: 2'), { ok: true, measured: 1.85 }, 'matchnum: 2 takes the second group');
  t.match(value('110e9', '2e9', 'Freq: ([\\d.e+-]+) Hz'), { ok: true, measured: 110e9 }, 'exponents, as Scheme reads them');
  t.match(value('3', '0', 'count: (\\w+)'), { ok: false, measured: 'many', fail: 1 }, 'a group that is not a number fails the rule');
  t.match(value('3', '0', 'never here (\\d+)'), { ok: false, measured: null, pass: 0, fail: 0 }, 'a value never measured fails');
  const twice = judge('(expect:value in logfile 5 1 "v" #/v=(\\d+)/)', 'v=5\nv=9\n').rules[0]!;
  t.match(twice, { ok: false, pass: 1, fail: 1, measured: 9 }, 'one bad measurement fails the rule; the last one is shown');
});

t.test('sections and triggers: in, not-in, trigger-with-limit, non-required, end triggers', async (t) => {
  const r = `(trigger "Init" #/^begin init/)
             (trigger "InitEnd" #/^end init/)
             (section "Init" "Init" "InitEnd")
             (trigger-with-limit "Blk" 2 #/^begin blk/)
             (trigger-with-limit "BlkEnd" 2 #/^end blk/)
             (section "Blk" "Blk" "BlkEnd")
             (trigger:non-required "Never" #/^never/)
             (expect:required in "Init" = 1 "header inside init" #/header/)
             (expect:waive in "Blk" = 0 "errors inside blocks are waived" #/ERROR/)
             (expect:error not-in "Blk" = 0 "errors outside blocks" #/ERROR/)`;
  const log = [
    'header before init', // 1: Init not active yet
    'begin init', // 2
    'header', // 3: counted
    'end init', // 4
    'header after', // 5: not counted
    'begin blk', // 6
    'ERROR inside 1', // 7: waive
    'end blk', // 8
    'ERROR outside', // 9: error (not-in Blk)
    'begin blk', // 10
    'ERROR inside 2', // 11: waive
    'end blk', // 12
    'begin blk', // 13: the third start: the limit of 2 is used up, so no section
    'ERROR after the limit', // 14: error
  ].join('\n');
  const j = judge(r, `${log}\n`);
  t.same(counts(j), ['required:1:PASS', 'waive:2:WAIVED', 'error:2:FAIL']);
  t.same(
    j.rules[0]!.lines.map((l) => l.line),
    [3],
  );
  t.same(
    j.rules[1]!.lines.map((l) => l.line),
    [7, 11],
  );
  t.same(
    j.rules[2]!.lines.map((l) => l.line),
    [9, 14],
  );
  t.equal(j.status, 'FAIL');
  t.same(
    j.triggers.map((x) => `${x.name}:${x.hits}:${x.outcome}`),
    ['LogFileBodyStart:1:OK', 'Init:1:OK', 'InitEnd:1:OK', 'Blk:2:OK', 'BlkEnd:2:OK', 'Never:0:OPTIONAL'],
  );
});

t.test('a required trigger that never fires shows FAIL in the summary but, as in logpro, does not change the status', async (t) => {
  const j = judge('(trigger "Start" #/^start/)\n(section "S" "Start" "End")\n(expect:error in "S" = 0 "err" #/ERROR/)', 'ERROR outside\n');
  t.equal(j.status, 'PASS');
  t.match(
    j.triggers.find((x) => x.name === 'Start'),
    { hits: 0, outcome: 'FAIL' },
  );
});

t.test('the trigger line itself is in the section it starts; a section in a list counts once', async (t) => {
  const j = judge(
    `(trigger "A" #/^A/)\n(section "SA" "A" "none")\n(trigger "B" #/^B/)\n(section "SB" "B" "none")
     (expect:required in '("SA" "SB") = 2 "start lines" #/^[AB] start/)`,
    'A start\nB start\n',
  );
  t.same(counts(j), ['required:2:PASS']);
});

t.test('an empty log: nothing matches, required rules fail', async (t) => {
  const j = judge(COMPILE, '');
  t.equal(j.lines, 0);
  t.equal(j.status, 'FAIL');
  t.match(j.triggers[0], { name: 'LogFileBodyStart', hits: 0, outcome: 'FAIL' });
});

t.test('expired rules are not applied', async (t) => {
  const r = `(expect:ignore in logfile < 99 "ignored until 2002" #/ERROR: old/ expires: "01/01/2002")
             (expect:ignore in logfile < 99 "ignored until 2099" #/ERROR: new/ expires: "01/01/2099")
             (expect:error in logfile = 0 "any error" #/ERROR/)`;
  const j = judge(r, 'ERROR: old thing\nERROR: new thing\n');
  t.same(counts(j), ['ignore:0:PASS', 'ignore:1:PASS', 'error:1:FAIL']);
  t.equal(j.rules[0]!.expired, true);
  t.equal(j.rules[1]!.expired, false);
});

t.test('lines: CRLF endings, a last line without a line end, long lines cut in the summary', async (t) => {
  const long = `ERROR ${'x'.repeat(1000)}`;
  const j = judge('(expect:error in logfile = 0 "err" #/^ERROR.*x$/)', `ok\r\nERROR x\r\n${long}`);
  t.equal(j.lines, 3);
  t.same(
    j.rules[0]!.lines.map((l) => l.line),
    [2, 3],
    '$ matches before \\r, and on the last line',
  );
  t.equal(j.rules[0]!.lines[0]!.text, 'ERROR x', 'the \\r is not part of the text');
  t.equal(j.rules[0]!.lines[1]!.text.length, 241, 'cut at 240 characters and an ellipsis');
  t.equal(j.rules[0]!.count, 2);
});

t.test('at most five lines are kept per rule; the count is all of them', async (t) => {
  const log = Array.from({ length: 12 }, (_, i) => `error ${i}`).join('\n');
  const r = judge('(expect:error in logfile = 0 "err" #/error/)', log).rules[0]!;
  t.equal(r.count, 12);
  t.same(
    r.lines.map((l) => l.line),
    [1, 2, 3, 4, 5],
  );
});

t.test('feeding in blocks gives the same result as line by line, lookarounds included', async (t) => {
  const text = `(trigger "S" #/^section start/)
                (trigger "E" #/^section end/)
                (section "Sec" "S" "E")
                (expect:ignore in logfile >= 0 "benign" #/error: none/)
                (expect:error in "Sec" = 0 "in section" #/error/)
                (expect:warning not-in "Sec" = 0 "outside" #/error|warn/)
                (expect:value in logfile 10 5 "v" #/value=(\\d+)/)`;
  const lookaround = `${text}\n(expect:check in logfile = 0 "not followed by ok" #/fail(?! ok)/)`;
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) {
    lines.push(
      i % 500 === 0
        ? 'section start'
        : i % 500 === 250
          ? 'section end'
          : i % 97 === 0
            ? `error ${i}`
            : i % 89 === 0
              ? 'error: none'
              : i % 61 === 0
                ? `value=${i % 20}`
                : i % 53 === 0
                  ? 'fail ok'
                  : i % 59 === 0
                    ? 'fail'
                    : `line ${i}`,
    );
  }
  const log = `${lines.join('\n')}\n`;
  for (const [name, r] of [
    ['scan', rules(text)],
    ['every line (lookaround)', rules(lookaround)],
  ] as const) {
    const whole = judgeText(log, r, NOW);
    // Line by line: one block per line.
    const m = new LogMatcher(r, NOW);
    for (const l of lines) m.feed(`${l}\n`);
    const single = m.finish();
    t.same(counts(whole), counts(single), `${name}: same counts`);
    t.same(
      whole.rules.map((x) => x.lines),
      single.rules.map((x) => x.lines),
      `${name}: same lines`,
    );
    t.equal(whole.lines, 3000);
    // Odd block sizes, cut at line ends.
    const odd = new LogMatcher(r, NOW);
    for (let i = 0; i < lines.length; i += 7) odd.feed(`${lines.slice(i, i + 7).join('\n')}\n`);
    t.same(counts(odd.finish()), counts(single), `${name}: blocks of 7 lines`);
  }
});

t.test('a pattern that matches across lines in a block is only counted where one line matches', async (t) => {
  const j = judge('(expect:error in logfile = 0 "a then b" #/a\\s+b/)', 'a\nb\nxa   b\n');
  t.same(
    j.rules[0]!.lines.map((l) => l.line),
    [3],
  );
  const neg = judge('(expect:error in logfile = 0 "a then not-x" #/a[^x]b/)', 'a\nb\nayb\n');
  t.same(
    neg.rules[0]!.lines.map((l) => l.line),
    [3],
  );
});

t.test('native [logrules] rules: ignore tried first wherever written, defaults per kind', async (t) => {
  const at = (line: number) => ({ file: 'testconfig', line });
  const piece = parseNativeRules([
    { text: 'error /error/i', loc: at(2) },
    { text: 'required /^Done$/', loc: at(3) },
    { text: 'ignore /no errors/', loc: at(4) },
    { text: 'value /took (\\d+) ms/ < 200 "latency"', loc: at(5) },
  ]);
  const set = buildRuleSet([piece]);
  t.same(
    set.rules.map((r) => `${r.num}:${r.kind}:${r.comparator}${r.expected}`),
    ['0:ignore:>=0', '1:error:=0', '2:required:>=1', '3:value:=0'],
  );
  t.equal(judgeText('no errors found\ntook 150 ms\nDone\n', set, NOW).status, 'PASS');
  t.equal(judgeText('no errors found\ntook 250 ms\nDone\n', set, NOW).status, 'FAIL');
  t.equal(judgeText('an Error\nDone\ntook 1 ms\n', set, NOW).status, 'FAIL');
});

t.test('.dat: logpro writes value rules and [final] with a message per failed rule', async (t) => {
  const j = judge(
    `(expect:error in logfile = 0 "Any error" #/ERROR/)
     (expect:value in logfile 1.9 0.1 "Output voltage" #/V: ([\\d.]+)/)
     (expect:value in logfile 3 < "Mean" #/mean ([\\d.]+)/)
     (expect:value in logfile 1 1 "Never seen" #/nope (\\d)/)`,
    'V: 1.95\nmean 2.5\nERROR x\n',
  );
  t.equal(
    formatDat(j),
    [
      '[rule-1]',
      'operator in',
      'section LogFileBody',
      'desc Output voltage',
      'status OK',
      'expected 1.9',
      'measured 1.95',
      'type +/-',
      'tolerance 0.1',
      'pass 1',
      'fail 0',
      '',
      '[rule-2]',
      'operator in',
      'section LogFileBody',
      'desc Mean',
      'status OK',
      'expected 3',
      'measured 2.5',
      'type <',
      'pass 1',
      'fail 0',
      '',
      '[rule-3]',
      'operator in',
      'section LogFileBody',
      'desc Never seen',
      'status FAIL',
      'expected 1',
      'measured -',
      'type +/-',
      'tolerance 1',
      'pass 0',
      'fail 0',
      '',
      '[final]',
      'exit-code 1',
      'exit-status FAIL',
      'message Any error',
      'message Never seen',
      '',
    ].join('\n'),
  );
  t.match(
    formatDat(judge('(expect:waive in logfile = 0 "w" #/x/)', 'x\n')),
    /exit-code 4\nexit-status WAIVE\nmessage w\n$/,
    'logpro says WAIVE',
  );
});
