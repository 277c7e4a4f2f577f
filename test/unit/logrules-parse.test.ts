/**
 * Reading log rules: logpro files (every rule form, the Scheme they are written in, the errors a
 * bad file gives — one line naming file:line and what is wrong) and Trellis' [logrules] lines.
 */
import t from 'tap';
import { buildRuleSet, parseLogpro, parseNativeRules, type RulePiece } from '../../src/logrules/index.js';

const SRC = { file: 'step.logpro', line: 1 };

function parse(text: string): RulePiece {
  return parseLogpro(text, SRC);
}

t.test('every rule form, with aliases, keywords and the Scheme around them', async (t) => {
  const p = parse(`
;; a comment
#| a block comment
   over lines |#
(define body "LogFileBody")
(define errs (list #/ERROR/ #/FATAL/i))
#;(expect:error in "LogFileBody" = 0 "commented out with #;" #/x/)
(expect:required in body > 0 "Leaving" #/Leaving directory/)
(expect:warn in logfile = 0 "alias of warning" #/warn/)
(expect:waived in "LogFileBody" < 1 "alias of waive" #/known/ expires: "12/31/2099" class: "mine")
(expect:error in '("LogFileBody") = 0 "errors" errs)
(expect in "LogFileBody" = 0 "plain expect is an error" #/bad/)
(expect in "LogFileBody" = 0 "plain expect with a type" #/meh/ type: 'warning)
(expect:value in "LogFileBody" 1.9 0.1 "V" #/V: ([\\d.]+)/ matchnum: 1)
(expect:value in "LogFileBody" 3 <= "M" (regexp "mean (\\\\d+)" #t))
(expect:error in (conc "Log" "FileBody") = 0 "conc" #/c\\/d/)
(expect:abort not-in "LogFileBody" = 0 "not-in" #/[[:space:]]crash/)
(trigger "Start" #/^start/ #/^begin/)
(trigger-with-limit "Twice" 2 #/^again/)
(trigger:non-required "Maybe" #/^maybe/)
(section "Body" "Start" "End")
`);
  t.same(
    p.rules.map((r) => `${r.num} ${r.kind} ${r.where} ${r.sections.join('+')} ${r.comparator} ${r.expected} ${r.description}`),
    [
      '0 required in LogFileBody > 0 Leaving',
      '1 warning in LogFileBody = 0 alias of warning',
      '2 waive in LogFileBody < 1 alias of waive',
      '3 error in LogFileBody = 0 errors',
      '4 error in LogFileBody = 0 plain expect is an error',
      '5 warning in LogFileBody = 0 plain expect with a type',
      '6 value in LogFileBody = 0 V',
      '7 value in LogFileBody = 0 M',
      '8 error in LogFileBody = 0 conc',
      '9 abort not-in LogFileBody = 0 not-in',
    ],
  );
  t.same(
    p.rules.map((r) => r.loc.line),
    [8, 9, 10, 11, 12, 13, 14, 15, 16, 17],
    'each rule knows its line',
  );
  t.same(
    p.rules[3]!.patterns.map((x) => x.text),
    ['/ERROR/', '/FATAL/i'],
  );
  t.ok(p.rules[3]!.patterns[1]!.line.test('fatal'), 'the i flag');
  t.ok(p.rules[7]!.patterns[0]!.line.test('MEAN 3'), '(regexp "…" #t) is case-insensitive');
  t.ok(p.rules[8]!.patterns[0]!.line.test('c/d'), '\\/ is a slash');
  t.ok(p.rules[9]!.patterns[0]!.line.test('core\tcrash'), '[[:space:]] is translated');
  t.same(p.rules[6]!.value, { expected: 1.9, tolerance: 0.1, group: 1 });
  t.same(p.rules[7]!.value, { expected: 3, tolerance: '<=', group: 1 });
  t.equal(p.rules[2]!.expires, new Date(2099, 11, 31).getTime() / 1000, 'expires: is local midnight of MM/DD/YYYY');
  t.same(
    p.triggers.map((x) => `${x.name}:${x.limit}:${x.required}:${x.patterns.length}`),
    ['Start:1:true:2', 'Twice:2:true:1', 'Maybe:1:false:1'],
  );
  t.same(p.sections, [{ name: 'Body', start: 'Start', end: 'End' }]);
  t.equal(p.numbered, 10);
  t.same(p.warnings, []);
});

t.test('warnings, not errors, for what logpro accepts but never does', async (t) => {
  const p = parse(`(hook:add "error" "echo hi")
(expect:error in "LogFileBody" = 0 "with a hook" #/x/ hook: "error")
(expect:value in "LogFileBody" 1 0 "no group" #/value \\d+/)
(expect:warning in "Body" = 0 "undefined section, as in Megatest's own tests" #/WARNING/)
(expect:error before "LogFileBody" = 0 "before" #/y/)
(expect:error in "LogFileBody" = 0 "bad date" #/z/ expires: "soon")
(section "S" "NoSuchTrigger" "End")`);
  const all = [...p.warnings, ...buildRuleSet([p]).warnings.filter((w) => !p.warnings.includes(w))];
  const expected = [
    /step\.logpro:1: \(hook:add …\) ignored: Trellis does not run logpro hooks/,
    /step\.logpro:2: \(expect:error …\) hook: ignored: Trellis does not run logpro hooks/,
    /step\.logpro:3: \/value \\d\+\/ has no capture group 1: every line it matches fails this value rule/,
    /step\.logpro:6: \(expect:error …\) expires: "soon" is not MM\/DD\/YYYY; the rule always applies/,
    /section "S" starts at trigger "NoSuchTrigger", which is not defined/,
    /step\.logpro:4: section "Body" is not defined/,
    /step\.logpro:5: 'before' is accepted by logpro but never matches/,
  ];
  t.equal(all.length, expected.length, all.join('\n'));
  for (const re of expected)
    t.ok(
      all.some((w) => re.test(w)),
      String(re),
    );
});

t.test('bad rule files: one line naming file:line and what is wrong', async (t) => {
  const cases: Array<[string, string, RegExp, RegExp?]> = [
    [
      'unbalanced: never closed',
      '(expect:error in "LogFileBody" = 0 "x" #/x/\n\n',
      /^step\.logpro:1: '\(' opened here is never closed$/,
      /add the missing '\)'/,
    ],
    ['unbalanced: extra )', '(expect:error in "LogFileBody" = 0 "x" #/x/))\n', /^step\.logpro:1: '\)' closes nothing$/],
    [
      'unbalanced: ] for (',
      '(expect:error in "LogFileBody" = 0 "x" #/x/]',
      /^step\.logpro:1: '\]' closes a form opened with '\(' at line 1$/,
    ],
    ['string never closed', '\n(expect:error in "LogFileBody = 0 "x" #/x/)', /^step\.logpro:2: /],
    [
      'regex not closed on its line',
      '(expect:error in "LogFileBody" = 0 "x" #/x\n/)',
      /^step\.logpro:1: regular expression #\/…\/ is not closed on its line$/,
    ],
    [
      'bad regex',
      '\n\n(expect:error in "LogFileBody" = 0 "x" #/(unclosed/)',
      /^step\.logpro:3: \/\(unclosed\/ is not a valid regular expression \(Unterminated group\)$/,
    ],
    [
      'bad regex flag',
      '(expect:error in "LogFileBody" = 0 "x" #/x/q)',
      /^step\.logpro:1: regular expression \/x\/q: flag 'q' is not supported$/,
    ],
    [
      'unknown expect kind',
      '(expect:erorr in "LogFileBody" = 0 "x" #/x/)',
      /^step\.logpro:1: \(expect:erorr …\) is not a logpro rule$/,
      /expect:error, expect:warning/,
    ],
    [
      'bad comparator',
      '(expect:error in "LogFileBody" => 0 "x" #/x/)',
      /^step\.logpro:1: \(expect:error …\): comparator '=>' is not one of = > < >= <=$/,
    ],
    [
      'bad comparator (a string)',
      '(expect:error in "LogFileBody" "=" 0 "x" #/x/)',
      /^step\.logpro:1: \(expect:error …\): comparator "=" is not one of = > < >= <=$/,
    ],
    ['count not a number', '(expect:error in "LogFileBody" = zero "x" #/x/)', /COUNT must be a number, not 'zero'/],
    ['count a string', '(expect:error in "LogFileBody" = "0" "x" #/x/)', /COUNT must be a number, not "0"/],
    ['wrong where', '(expect:error inside "LogFileBody" = 0 "x" #/x/)', /the first argument must be in or not-in, not 'inside'/],
    ['where a string', '(expect:error "in" "LogFileBody" = 0 "x" #/x/)', /the first argument must be in or not-in, not "in"/],
    [
      'too few arguments',
      '(expect:error in "LogFileBody" = 0 #/x/)',
      /^step\.logpro:1: \(expect:error …\) needs WHERE SECTION COMPARATOR COUNT "DESCRIPTION" PATTERN; got 5 arguments$/,
    ],
    [
      'pattern a string',
      '(expect:error in "LogFileBody" = 0 "x" "error")',
      /the pattern must be a #\/regex\/ or \(list #\/a\/ #\/b\/\), not "error"/,
    ],
    [
      'value tolerance',
      '(expect:value in "LogFileBody" 1 ~ "x" #/(\\d)/)',
      /the tolerance must be a number of 0 or more, or one of = > < >= <=, not '~'/,
    ],
    [
      'an unknown name in a list',
      '(expect:error in "LogFileBody" = 0 "x" (list #/a/ foo))',
      /^step\.logpro:1: unknown name 'foo'$/,
      /\(define NAME VALUE\)/,
    ],
    [
      'value tolerance negative',
      '(expect:value in "LogFileBody" 1 -1 "x" #/(\\d)/)',
      /the tolerance must be a number of 0 or more, or one of = > < >= <=, not -1/,
    ],
    [
      'Scheme code',
      '(for-each (lambda (x) (expect:error in "LogFileBody" = 0 x #/x/)) (list "a"))',
      /^step\.logpro:1: \(for-each …\) is Scheme code that logpro would evaluate; Trellis reads only logpro's rule forms$/,
    ],
    ['a function define', '(define (check x) x)', /\(define …\) of a function/],
    ['a bare value', '"just a string"', /^step\.logpro:1: "just a string" at the top level is not a logpro rule$/],
    ['keyword without value', '(expect:error in "LogFileBody" = 0 "x" #/x/ expires:)', /keyword expires: has no value/],
    ['trigger without pattern', '(trigger "T")', /\(trigger …\) needs "NAME" PATTERN…; got 1 argument$/],
    ['section arity', '(section "S" "Start")', /\(section …\) needs "NAME" "START-TRIGGER" "END-TRIGGER"; got 2 arguments/],
    ['unknown #', '(expect:error in "LogFileBody" = 0 "x" #x/x/)', /'#x\/x\/' is not something a logpro file can hold/],
  ];
  for (const [name, text, message, hint] of cases) {
    let err: { code?: string; message?: string; hint?: string; toLine?: () => string } | undefined;
    try {
      parse(text);
    } catch (e) {
      err = e as typeof err;
    }
    t.ok(err, `${name}: throws`);
    t.match(err?.code, /^CONFIG_(SYNTAX|UNSUPPORTED)$/, `${name}: a config error (exit 3)`);
    t.match(err?.message, message, name);
    if (hint) t.match(err?.hint, hint, `${name}: hint`);
    t.notMatch(err?.toLine?.() ?? '', /\n/, `${name}: one line`);
  }
});

t.test('a [logpro] value in a testconfig: errors name the file line of the line inside the value', async (t) => {
  // Lines 10, 11, 13 of the testconfig (a comment line 12 was left out of the value).
  const source = { file: 'tests/a/testconfig', line: 10, lines: [10, 11, 13] };
  t.throws(
    () =>
      parseLogpro('(expect:required in "LogFileBody" > 0 "ok" #/ok/)\n(expect:error in "LogFileBody" = 0 "e" #/e/)\n(expect:nope)', source),
    {
      message: /^tests\/a\/testconfig:13: \(expect:nope …\) is not a logpro rule/,
    },
  );
  const p = parseLogpro('(expect:required in "LogFileBody" > 0 "ok" #/ok/)\n\n(expect:error in "LogFileBody" = 0 "e" #/e/)', source);
  t.same(
    p.rules.map((r) => r.loc.line),
    [10, 13],
  );
});

t.test('[logrules] lines: kinds, comparators, values, descriptions', async (t) => {
  const at = { file: 'testconfig', line: 7 };
  const one = (text: string) => parseNativeRules([{ text, loc: at }]).rules[0]!;
  t.match(one('error /error/i'), {
    kind: 'error',
    comparator: '=',
    expected: 0,
    description: 'error /error/i',
    where: 'in',
    sections: ['LogFileBody'],
  });
  t.match(one('warn /warn(ing)?:/'), { kind: 'warning', comparator: '=', expected: 0 });
  t.match(one('required /Leaving directory/ >= 1 "make finished"'), {
    kind: 'required',
    comparator: '>=',
    expected: 1,
    description: 'make finished',
  });
  t.match(one('required /^ok$/'), { comparator: '>=', expected: 1 }, 'required defaults to >= 1');
  t.match(one('required /^ok$/ =3'), { comparator: '=', expected: 3 }, 'no blank between comparator and count');
  t.match(one('ignore /noise/'), { kind: 'ignore', comparator: '>=', expected: 0 });
  t.match(one('waive /known bug/ < 5'), { kind: 'waive', comparator: '<', expected: 5 });
  for (const k of ['check', 'abort', 'skip', 'note', 'required-warn']) t.equal(one(`${k} /x/`).kind, k);
  t.same(
    one('error /a b/ /c[/]d/ /e\\/f/').patterns.map((p) => p.text),
    ['/a b/', '/c[/]d/', '/e/f/'],
    'blanks and [/] inside, \\/ for a slash',
  );
  t.same(one('value /took (\\d+) ms/ < 200 "latency"').value, { expected: 200, tolerance: '<', group: 1 });
  t.same(one('value /V: ([\\d.]+)/ 1.9 +- 0.1').value, { expected: 1.9, tolerance: 0.1, group: 1 });
  t.same(one('value /V: ([\\d.]+)/ 1.9+-0.1').value, { expected: 1.9, tolerance: 0.1, group: 1 });
  t.same(one('value /V: ([\\d.]+)/ 1.9 ± 0.1').value, { expected: 1.9, tolerance: 0.1, group: 1 });
  t.same(one('value /n=(\\d+)/ >= 3').value, { expected: 3, tolerance: '>=', group: 1 });
});

t.test('bad [logrules] lines: one line naming file:line', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['', /the rule is empty/],
    ['/x/', /a rule starts with its kind/],
    ['erorr /x/', /'erorr' is not a rule kind \(one of error, warning/],
    ['error', /error: no \/regex\/ after the kind/],
    ['error x', /error: no \/regex\/ after the kind/],
    ['error /(x/', /\/\(x\/ is not a valid regular expression/],
    ['error /x', /regular expression \/x is never closed/],
    ['error /x/ => 1', /error: '=> 1' is not COMPARATOR COUNT/],
    ['error /x/ >= many', /error: '>= many' is not COMPARATOR COUNT/],
    ['error /x/ >= 1 extra', /is not COMPARATOR COUNT/],
    ['error /x/ "unclosed', /description "unclosed is never closed/],
    ['value /took \\d+ ms/ < 200', /value: \/took \\d\+ ms\/ has no capture group/],
    ['value /took (\\d+) ms/', /value: '' is not a comparison/],
    ['value /took (\\d+) ms/ about 200', /value: 'about 200' is not a comparison/],
    ['value /took (\\d+) ms/ 200 +- -5', /is not a comparison/],
  ];
  for (const [text, message] of cases) {
    t.throws(
      () => parseNativeRules([{ text, loc: { file: 'tests/a/testconfig', line: 9 } }]),
      { code: /^CONFIG_(VALUE|SYNTAX)$/, message: new RegExp(`^tests/a/testconfig:9: .*${message.source}`) },
      JSON.stringify(text),
    );
  }
});
