import t from 'tap';
import { expandDollarVars, exportValues } from '../../src/config/expand.js';

t.test('expandDollarVars', async (t) => {
  const env = { HOME: '/home/a', OS: 'linux', EMPTY: '', U: undefined };
  const cases: Array<[string, string]> = [
    ['$HOME/bin', '/home/a/bin'],
    ['${OS}_x', 'linux_x'],
    ['$OS_x', ''],
    ['a$UNSET-b', 'a-b'],
    ['${UNSET}', ''],
    ['$U', ''],
    ['[$EMPTY]', '[]'],
    ['no vars', 'no vars'],
    ['cost $5 and $ alone', 'cost $5 and $ alone'],
    ['${unclosed', '${unclosed'],
    ['${OS:-x}', '${OS:-x}'],
    ['$HOME$OS', '/home/alinux'],
  ];
  for (const [text, want] of cases) t.equal(expandDollarVars(text, env), want, text);
});

t.test('exportValues expands in order, each value seeing the earlier ones', async (t) => {
  const out = exportValues(
    [
      ['TOOLS', '$HOME/tools'],
      ['PATH', '$TOOLS/bin:$PATH'],
    ],
    { HOME: '/h', PATH: '/bin' },
  );
  t.same(out, { HOME: '/h', PATH: '/h/tools/bin:/bin', TOOLS: '/h/tools' });
});
