import t from 'tap';
import { matchPercent, parseTestPattern } from '../../src/model/pattern.js';

t.test('% is a wildcard everywhere in the pattern', async (t) => {
  t.ok(matchPercent('a%b%c', 'aXXbYYc'));
  t.notOk(matchPercent('a%b%c', 'aXXbYY'));
  t.ok(matchPercent('%', ''));
  t.ok(matchPercent('linux/%', 'linux/x86_64'));
  t.notOk(matchPercent('a.b', 'aXb'), 'dots are literal');
  t.ok(matchPercent('exact', 'exact'));
});

t.test('test patterns: lists, items, negation', async (t) => {
  const p = parseTestPattern('smoke%,unit/a%,~smoke_slow');
  t.ok(p.matchTest('smoke_fast'));
  t.notOk(p.matchTest('smoke_slow'), 'negated');
  t.ok(p.matchTest('unit'), 'a test whose items are selected is selected');
  t.ok(p.matchItem('unit', 'abc'));
  t.notOk(p.matchItem('unit', 'bcd'));
  t.ok(p.matchItem('smoke_fast', 'anything'), 'a whole test selects all its items');
  t.notOk(p.matchTest('other'));
  const neg = parseTestPattern('~slow%');
  t.ok(neg.matchTest('fast'), 'only negations: start from everything');
  t.notOk(neg.matchTest('slowest'));
  const item = parseTestPattern('%,~unit/b%');
  t.ok(item.matchTest('unit'), 'an item negation keeps the test');
  t.notOk(item.matchItem('unit', 'b1'));
  t.ok(item.matchItem('unit', 'a1'));
  t.ok(parseTestPattern('').matchTest('x'), 'empty selects everything');
  t.throws(() => parseTestPattern('a,~'), { code: 'BAD_PATTERN' });
});
