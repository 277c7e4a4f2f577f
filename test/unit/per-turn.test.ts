/** perTurn: the calls of one turn of the event loop go out in one call, each gets its own answer. */
import t from 'tap';
import { perTurn } from '../../src/util/per-turn.js';

t.test('calls made in one turn are sent together and answered each in turn', async (t) => {
  const sent: number[][] = [];
  const double = perTurn(async (args: number[]) => {
    sent.push(args);
    return args.map((a) => a * 2);
  });
  const first = await Promise.all([double(1), double(2), double(3)]);
  t.same(first, [2, 4, 6]);
  // a later turn is a new batch
  t.same(await double(5), 10);
  t.same(sent, [[1, 2, 3], [5]]);
});

t.test('a failed send fails every call of its batch, and the next batch goes on', async (t) => {
  let fail = true;
  const call = perTurn(async (args: string[]) => {
    if (fail) throw new Error('server gone');
    return args.map((a) => a.toUpperCase());
  });
  const results = await Promise.allSettled([call('a'), call('b')]);
  t.same(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  fail = false;
  t.equal(await call('c'), 'C');
});

t.test('an answer list too short rejects the calls left without an answer', async (t) => {
  const call = perTurn(async (args: number[]) => args.slice(0, 1));
  const [a, b] = await Promise.allSettled([call(1), call(2)]);
  t.same(a, { status: 'fulfilled', value: 1 });
  t.match(b, { status: 'rejected', reason: { message: 'no answer for call 2 of 2' } });
});
