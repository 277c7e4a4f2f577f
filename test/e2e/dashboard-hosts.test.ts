/**
 * The dashboard's hosts view (key n) in a real terminal (tmux): an empty pool says how to start an
 * agent; two real agents show with their status, slots and tags, one busy with the test it runs;
 * a drained agent goes offline; q, Escape and n go back to the matrix.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { startCli } from '../helpers/cli.js';
import { trellis, waitUntil } from '../helpers/run-e2e.js';
import { SCREEN_WAIT_MS } from '../helpers/tmux.js';
import { bottomLine, KEY_HINTS, makeDashboardArea, openDashboard, quit } from './dashboard-fixture.js';

t.test('n shows the agents of the pool, live', async (t) => {
  const area = makeDashboardArea(t, {
    hold: '[ezsteps]\nhold  touch "$MT_RUN_AREA_HOME/held"; while [ ! -e "$MT_RUN_AREA_HOME/go" ]; do sleep 0.1; done\n',
  });
  const dash = await openDashboard(t, area, [], { width: 160 });
  await dash.waitForScreen((s) => KEY_HINTS.test(bottomLine(s)), SCREEN_WAIT_MS, 'the matrix');
  await dash.keys('n');
  await dash.waitForScreen(/No agents have registered in this run area\./, SCREEN_WAIT_MS, 'the empty pool');

  const a1 = startCli(t, ['agent', '--area', area, '--name', 'alpha', '--tags', 'linux,gpu', '--slots', '2']);
  const a2 = startCli(t, ['agent', '--area', area, '--name', 'beta', '--slots', '1']);
  await a1.waitFor((o) => o.includes('agent alpha on '));
  await a2.waitFor((o) => o.includes('agent beta on '));
  const bothIdle = (s: string) => /^alpha .* idle +0\/2 +linux,gpu/m.test(s) && /^beta .* idle +0\/1 +- /m.test(s);
  let screen = await dash.waitForScreen(bothIdle, SCREEN_WAIT_MS, 'alpha (linux,gpu) and beta (no tags) idle');
  t.match(screen, /^NAME +HOST +STATUS +SLOTS +TAGS +HEARTBEAT +LOAD +VERSION +RUNNING/m, 'the columns of trellis hosts');

  const run = startCli(t, ['run', '--area', area, '-t', 'linux/x86_64', '-r', 'h1', '--on', 'gpu']);
  await waitUntil(() => fs.existsSync(path.join(area, 'held')), 'the test started', 60_000, run);
  screen = await dash.waitForScreen(/^alpha .* busy +1\/2 .* hold \(linux\/x86_64\/h1\)/m, SCREEN_WAIT_MS, 'alpha busy with hold');
  t.match(screen, /2 agent\(s\), 1 busy; 1 of 3 slot\(s\) in use/);
  fs.writeFileSync(path.join(area, 'go'), '');
  t.equal((await run.done).code, 0, 'the run passes');

  t.equal((await trellis(t, area, ['agent', 'stop', 'beta'])).code, 0);
  t.equal((await a2.done).code, 0, 'beta drained');
  await dash.waitForScreen(/^beta .* offline/m, SCREEN_WAIT_MS, 'beta offline');
  await dash.waitForScreen(/^alpha .* idle +0\/2/m, SCREEN_WAIT_MS, 'alpha idle again');

  await dash.keys('q');
  await dash.waitForScreen((s) => KEY_HINTS.test(bottomLine(s)), SCREEN_WAIT_MS, 'q: back to the matrix');
  for (const back of ['Escape', 'n']) {
    await dash.keys('n');
    await dash.waitForScreen(/^alpha .* idle +0\/2/m, SCREEN_WAIT_MS, 'the hosts view again');
    await dash.keys(back);
    await dash.waitForScreen((s) => KEY_HINTS.test(bottomLine(s)), SCREEN_WAIT_MS, `${back}: back to the matrix`);
  }
  t.equal(await quit(dash), 0);
  a1.child.kill('SIGTERM');
  t.equal((await a1.done).code, 0);
});
