/**
 * The web view's hosts page over a real run area and server (fastify inject): no session → the
 * login page; an empty pool says how to start an agent; a registered agent (a real `trellis
 * agent`) shows with its status, slots and tags, and, busy, the test it runs, linked; the page's
 * live part (`frag=1`) carries the same; nothing of the area token in any answer; names escaped.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { runAreaPaths } from '../../src/config/paths.js';
import { makeArea } from '../helpers/area.js';
import { startCli } from '../helpers/cli.js';
import { waitUntil } from '../helpers/run-e2e.js';
import { logIn, openWebApp } from '../helpers/web.js';

t.test('the hosts page lists the agents of the pool', async (t) => {
  const area = makeArea(t, {
    tests: { hold: '[ezsteps]\nhold  touch "$MT_RUN_AREA_HOME/held"; while [ ! -e "$MT_RUN_AREA_HOME/go" ]; do sleep 0.1; done\n' },
  });
  const web = await openWebApp(t, area);
  const anon = await web.app.inject({ method: 'GET', url: '/hosts' });
  t.equal(anon.statusCode, 401, 'no session: 401');
  t.match(anon.body, /<h1>Log in to the web view<\/h1>/, 'the login page');
  const cookie = await logIn(web);
  const get = async (url: string) => {
    const res = await web.app.inject({ method: 'GET', url, headers: { cookie } });
    t.equal(res.statusCode, 200, `GET ${url}`);
    return res.body;
  };
  const token = fs.readFileSync(runAreaPaths(web.area.runArea).tokenFile, 'utf8').trim();

  let page = await get('/hosts');
  t.match(page, /<a href="\/hosts" aria-current="page">Hosts<\/a>/, 'in the navigation, as the current page');
  t.match(page, /No agents have registered in this run area/);

  const agent = startCli(t, ['agent', '--area', area, '--name', 'alpha', '--tags', 'linux,gpu', '--slots', '2']);
  await agent.waitFor((o) => o.includes('agent alpha on '));
  page = await get('/hosts');
  t.match(page, /<th scope="row">alpha<\/th><td>[^<]+<\/td><td class="host-idle">idle<\/td><td>0\/2<\/td><td>linux, gpu<\/td>/);

  const run = startCli(t, ['run', '--area', area, '-t', 'linux/x86_64', '-r', 'w1', '--launcher', 'agents']);
  await waitUntil(() => fs.existsSync(path.join(area, 'held')), 'the test started', 60_000, run);
  let frag = '';
  for (let i = 0; i < 600 && !/host-busy/.test(frag); i++) {
    frag = await get('/hosts?frag=1');
    if (!/host-busy/.test(frag)) await new Promise((r) => setTimeout(r, 50));
  }
  t.match(frag, /^<div id="detail" data-live="1">/, 'the live part alone');
  // On failure, what the agent and the run said.
  t.match(frag, /<td class="host-busy">busy<\/td><td>1\/2<\/td>/, 'busy with one job', {
    agent: agent.stdout + agent.stderr,
    run: run.stdout + run.stderr,
  });
  t.match(frag, /<a href="\/test\?run=\d+&amp;t=hold">hold<\/a> \(linux\/x86_64 w1\)/, 'the test it runs, linked');
  fs.writeFileSync(path.join(area, 'go'), '');
  t.equal((await run.done).code, 0);
  for (const body of [page, frag]) t.notOk(body.includes(token), 'no area token in the page');

  agent.child.kill('SIGTERM');
  t.equal((await agent.done).code, 0);
  t.match(await get('/hosts'), /<td class="host-offline">offline<\/td>/, 'gone: offline');
});
