/**
 * A server that cannot come up: the command that started it says so in one line naming the
 * server's log, and the log says why. The bind address is one this host does not have, so the
 * server fails at listen (EADDRNOTAVAIL) without sending anything anywhere.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { makeArea } from '../helpers/area.js';
import { runCli } from '../helpers/cli.js';
import { assertUserError, dump } from '../helpers/e2e.js';

// 203.0.113.0/24 is TEST-NET-3: never an address of this host.
const UNUSABLE = '[fields]\nOS\nARCH\n\n[server]\nbind 203.0.113.7\n';

t.test('a server that cannot listen: the client fails in one line naming the log, which says why', async (t) => {
  const area = makeArea(t, { config: UNUSABLE, tests: { a: '[ezsteps]\nx true\n' } });
  const r = await runCli(t, ['list', 'runs', '--area', area]);
  const line = assertUserError(t, r, 7, /did not come up/, /exit code 7/, /203\.0\.113\.7/, /see its log \S+server-\S+\.log/);
  const log = /see its log (\S+\.log)/.exec(line)?.[1] ?? '';
  t.ok(log.startsWith(path.join(area, 'runs', '.meta', 'logs')), `the log is in the run area: ${log}`);
  t.match(fs.readFileSync(log, 'utf8'), /cannot listen on 203\.0\.113\.7/, 'the log says why');
  t.same(
    fs.readdirSync(path.join(area, 'runs', '.meta')).filter((f) => f.endsWith('.pkt')),
    [],
    'no packet left',
  );
  t.notOk(fs.existsSync(path.join(area, 'runs', '.db.lock')), 'the lease was released');

  const fg = await runCli(t, ['server', 'start', '--foreground', '--area', area]);
  assertUserError(t, fg, 7, /cannot listen on 203\.0\.113\.7/, /bind/);
  t.equal(fg.stdout, '', dump(fg));
});
