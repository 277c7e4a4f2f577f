/**
 * The web view's HTTP side through fastify's inject, over a real run area with its real server:
 * no session gets the login page; a wrong or reused login token is refused; every action without
 * the CSRF token is refused (403) and changes nothing; an action with it is recorded with who did
 * it; a locked run refuses actions as the CLI does; hostile names are escaped; and the area's
 * token is in no response.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { InjectOptions } from 'fastify';
import t from 'tap';
import { loginName } from '../../src/util/host.js';
import { runAreaPaths } from '../../src/config/paths.js';
import { DEFAULT_CONFIG, makeArea } from '../helpers/area.js';
import { listTests, run, TARGET, trellis } from '../helpers/run-e2e.js';
import { csrfOf, form, logIn, openWebApp, sessionCookie, type WebFixture } from '../helpers/web.js';

const TESTS = {
  quick: '[ezsteps]\nrun  echo quick\n',
  flaky: '[ezsteps]\ncheck  echo checking; exit 1\n',
  unit: '[items]\nN a b\n\n[ezsteps]\nrun  echo "item $N"\n',
};

// Two areas, three runs and a server each: more than tap's 120 s on a loaded machine.
t.setTimeout(600_000);

/** Every response of a test, to look for the area token in at the end. */
function recorder(web: WebFixture) {
  const seen: string[] = [];
  const inject = async (opts: InjectOptions) => {
    const res = await web.app.inject(opts);
    seen.push(JSON.stringify(res.headers), res.body);
    return res;
  };
  return { seen, inject };
}

t.test('sessions: the login page without one, one-time tokens, pages with one, and no area token anywhere', async (t) => {
  const area = makeArea(t, { tests: TESTS });
  const res0 = await run(t, area, 'a');
  t.equal(res0.code, 1, 'run a ends with flaky failed', { output: res0.stdout + res0.stderr });
  const web = await openWebApp(t, area);
  const { seen, inject } = recorder(web);

  for (const url of ['/', '/test?run=1&t=quick', '/run?id=1', '/diff', '/start', '/invite', '/confirm?action=kill&run=1&t=quick']) {
    const res = await inject({ method: 'GET', url });
    t.equal(res.statusCode, 401, `${url} without a session: 401`);
    t.match(res.body, /<h1>Log in to the web view<\/h1>/, `${url} without a session: the login page`);
    t.notMatch(res.body, /quick|flaky/, `${url} without a session: nothing of the runs`);
  }
  const events = await inject({ method: 'GET', url: '/events?runs=1' });
  t.equal(events.statusCode, 401, 'the event stream needs a session too');
  const loginPage = await inject({ method: 'GET', url: '/login' });
  t.equal(loginPage.statusCode, 200, 'the login page itself is open');

  const wrong = await inject({ method: 'GET', url: '/login?token=not-a-token' });
  t.equal(wrong.statusCode, 401, 'a wrong token is refused');
  t.match(wrong.body, /does not work/, 'and says so');
  t.equal(sessionCookie(wrong), undefined, 'no session for a wrong token');

  const token = web.logins.issue('alice via web');
  const first = await inject({ method: 'GET', url: `/login?token=${token}` });
  t.equal(first.statusCode, 303, 'a good token logs in');
  t.equal(first.headers['location'], '/', 'and goes to the runs');
  const cookie = sessionCookie(first);
  t.ok(cookie, 'a session cookie');
  const setCookie = String(first.headers['set-cookie']);
  t.match(setCookie, /HttpOnly/, 'the cookie is HttpOnly');
  t.match(setCookie, /SameSite=Strict/, 'and SameSite=Strict');
  const again = await inject({ method: 'GET', url: `/login?token=${token}` });
  t.equal(again.statusCode, 401, 'the same token a second time is refused');
  t.equal(sessionCookie(again), undefined, 'and opens no session');
  const posted = await inject({
    method: 'POST',
    url: '/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ token }),
  });
  t.equal(posted.statusCode, 401, 'nor does it work pasted into the form');

  const page = await inject({ method: 'GET', url: '/', headers: { cookie: cookie! } });
  t.equal(page.statusCode, 200, 'the matrix with a session');
  t.match(
    page.body,
    /<th scope="col" data-run="\d+"[^>]*><a href="\/run\?id=\d+"><span class="tg">linux\/x86_64<\/span><span class="rn">a<\/span>/,
    'run a is a column',
  );
  t.match(page.body, /<tr class=t data-k="quick"><th scope=row><a [^>]*>quick<\/a><\/th><td class=pass>PASS/, 'quick passed');
  t.match(page.body, /<tr class=t data-k="flaky"><th scope=row><a [^>]*>flaky<\/a><\/th><td class=fail>FAIL/, 'flaky failed');
  t.match(page.body, /<tr class=i data-k="unit\/a"><th scope=row><a [^>]*>a<\/a><\/th><td class=pass>PASS/, 'items under their test');
  t.match(page.body, /alice via web/, 'who is logged in');
  t.match(String(page.headers['content-security-policy']), /script-src 'self'/, 'scripts from this server only');
  t.equal(page.headers['cache-control'], 'no-store', 'pages are not cached');

  const filtered = await inject({ method: 'GET', url: '/?p=flaky&frag=1', headers: { cookie: cookie! } });
  t.match(filtered.body, /data-k="flaky"/, 'the test pattern keeps flaky');
  t.notMatch(filtered.body, /data-k="quick"/, 'and leaves quick out');
  const failing = await inject({ method: 'GET', url: '/?status=FAIL&frag=1', headers: { cookie: cookie! } });
  t.match(failing.body, /data-k="flaky"/, 'the status filter keeps flaky');
  t.notMatch(failing.body, /data-k="unit\/a"/, 'and leaves the passed items out');
  const noRun = await inject({ method: 'GET', url: '/?t=windows%25', headers: { cookie: cookie! } });
  t.match(noRun.body, /No run matches the target and run name filters/, 'a target filter that matches nothing says so');
  const badPattern = await inject({ method: 'GET', url: '/?p=~', headers: { cookie: cookie! } });
  t.equal(badPattern.statusCode, 200, 'a bad test pattern still shows the page');
  t.match(
    badPattern.body,
    /class="error" role="alert">test pattern: &#39;~&#39; must be followed by a test name/,
    'and says what is wrong with it',
  );

  const runId = /data-run="(\d+)"/.exec(page.body)![1]!;
  const detail = await inject({ method: 'GET', url: `/test?run=${runId}&t=flaky`, headers: { cookie: cookie! } });
  t.equal(detail.statusCode, 200, 'a test page');
  t.match(detail.body, /<td class="word fail">FAIL<\/td>/, 'its step failed');
  t.match(detail.body, /checking/, 'its log tail');
  t.match(detail.body, /<dt>Where<\/dt><dd>[^<(]+ \(pid \d+\)<\/dd>/, 'where it ran: a local test names its host and pid only');
  // A test placed by a launcher (what a Slurm run records): the detail names the launcher and job.
  const flaky = (await web.store.getTest(Number(runId), 'flaky', ''))!;
  await web.store.write(Number(runId), [
    { kind: 'test', opId: 'web-test-placement', testId: flaky.id, set: { launcher: 'slurm', jobId: '4821' }, time: Date.now() / 1000 },
  ]);
  const placed = await inject({ method: 'GET', url: `/test?run=${runId}&t=flaky`, headers: { cookie: cookie! } });
  t.match(placed.body, /<dt>Where<\/dt><dd>[^<]+ \(pid \d+\), slurm job 4821<\/dd>/, "and a launcher's test its launcher and job id");
  const runPage = await inject({ method: 'GET', url: `/run?id=${runId}&all=1`, headers: { cookie: cookie! } });
  t.match(runPage.body, /<h2>Log<\/h2>/, 'the run page with its log');
  t.match(runPage.body, /claimed the run/, 'the runner in the log');

  const res1 = await run(t, area, 'b', ['--rerun-all']);
  t.equal(res1.code, 1, 'run b ends like a');
  const ids = (await web.store.listRuns()).map((r) => r.id).sort();
  const diff = await inject({ method: 'GET', url: `/diff?old=${ids[0]}&new=${ids[1]}`, headers: { cookie: cookie! } });
  t.equal(diff.statusCode, 200, 'the diff of a and b');
  t.match(diff.body, /worse 0, better 0, appeared 0, disappeared 0, pending 0, same 4/, 'nothing changed between them');
  t.match(diff.body, new RegExp(`<a href="/test\\?run=${ids[1]}&amp;t=quick">quick</a>`), 'each test links to its page in the newer run');

  const asset = /href="(\/assets\/style\.[0-9a-f]+\.css)"/.exec(page.body)![1]!;
  const css = await inject({ method: 'GET', url: asset });
  t.equal(css.statusCode, 200, 'the style sheet needs no session');
  t.match(String(css.headers['cache-control']), /max-age=31536000, immutable/, 'and is cached for good (its name changes with it)');
  const notModified = await inject({ method: 'GET', url: asset, headers: { 'if-none-match': String(css.headers['etag']) } });
  t.equal(notModified.statusCode, 304, 'a browser that has it gets 304');

  const areaToken = fs.readFileSync(runAreaPaths(web.area.runArea).tokenFile, 'utf8').trim();
  t.ok(areaToken.length >= 32, 'the area has a token');
  const leaks = seen.filter((s) => s.includes(areaToken) || s.includes(areaToken.slice(0, 16)));
  t.same(leaks, [], 'no response carries the area token, or a piece of it');
});

t.test('actions: CSRF, confirmation, who did it, a locked run refuses, names escaped, bad input', async (t) => {
  const area = makeArea(t, { tests: { ...TESTS, '<i>bold': '[ezsteps]\nx  echo "<script>alert(1)</script>"\n' } });
  const res0 = await run(t, area, 'a');
  t.equal(res0.code, 1, 'run a ends with flaky failed', { output: res0.stdout + res0.stderr });
  const web = await openWebApp(t, area);
  const cookie = await logIn(web, 'bob via web');
  const { seen, inject } = recorder(web);
  const runId = String((await web.store.listRuns())[0]!.id);
  const get = (url: string) => inject({ method: 'GET', url, headers: { cookie } });
  const post = (url: string, fields: Record<string, string>) =>
    inject({ method: 'POST', url, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: form(fields) });

  const page = await get('/');
  t.match(page.body, /&lt;i&gt;bold/, 'a hostile test name is text');
  t.notMatch(page.body, /<i>bold/, 'never markup');
  const hostile = await get(`/test?run=${runId}&t=${encodeURIComponent('<i>bold')}`);
  t.match(hostile.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, 'a hostile log line is text');
  t.notMatch(hostile.body, /<script>alert/, 'never a script');

  const set = { action: 'set', run: runId, t: 'flaky', i: '', statestatus: 'COMPLETED,WAIVED', confirmed: 'yes' };
  for (const [url, fields] of [
    ['/action', set],
    ['/action', { ...set, action: 'rerun' }],
    ['/action', { ...set, action: 'kill' }],
    ['/start', { target: TARGET, runname: 'c', pattern: '', launcher: '', confirmed: 'yes' }],
    ['/invite', { name: 'mallory' }],
    ['/logout', {}],
  ] as const) {
    const res = await post(url, fields);
    t.equal(res.statusCode, 403, `${url} ${'action' in fields ? fields.action : ''} without a CSRF token: 403`);
    t.match(res.body, /did not come from a page of this web view/, 'and says why');
    const bad = await post(url, { ...fields, _csrf: 'forged-token' });
    t.equal(bad.statusCode, 403, `${url} with a forged CSRF token: 403`);
  }
  let rows = await listTests(t, area, 'a');
  t.equal(rows.get('flaky')?.status, 'FAIL', 'flaky is still FAIL: nothing was done');
  t.equal(fs.existsSync(path.join(area, 'runs', 'linux', 'x86_64', 'c')), false, 'run c was not started');
  t.equal((await get('/')).statusCode, 200, 'the session still works: logout was refused too');

  const ask = await get(`/confirm?action=set&run=${runId}&t=flaky&state=COMPLETED&status=waived`);
  t.equal(ask.statusCode, 200, 'set asks first');
  t.match(ask.body, /<h1>Set flaky in linux\/x86_64 a to COMPLETED\/WAIVED\?<\/h1>/, 'what will be set');
  t.match(ask.body, /Recorded as done by bob via web/, 'and as whom');
  rows = await listTests(t, area, 'a');
  t.equal(rows.get('flaky')?.status, 'FAIL', 'asking changed nothing');
  const done = await post('/action', { ...set, _csrf: csrfOf(ask.body) });
  t.equal(done.statusCode, 303, 'the confirmed set is done');
  t.equal(done.headers['location'], `/test?run=${runId}&t=flaky`, 'and goes back to the test');
  rows = await listTests(t, area, 'a');
  t.equal(rows.get('flaky')?.status, 'WAIVED', 'flaky is WAIVED now');
  const log = await trellis(t, area, ['log', '-t', TARGET, '-r', 'a', '--all', '--json']);
  const events = JSON.parse(log.stdout) as { who: string; test: string | null; detail: string }[];
  t.ok(
    events.some((e) => e.test === 'flaky' && e.who === `bob via web (by ${loginName()})` && /WAIVED/.test(e.detail)),
    "the run's log says bob did it, through the web view's user who vouches for him",
    { events },
  );
  t.ok(
    web.audit.some((l) => /^bob via web set flaky in linux\/x86_64 a: set COMPLETED\/WAIVED on 1 row/.test(l)),
    "so does the web view's log",
    { audit: web.audit },
  );
  const shown = await get(`/test?run=${runId}&t=flaky`);
  t.match(shown.body, /<p>set COMPLETED\/WAIVED on 1 row\(s\) of flaky<\/p>/, 'the next page says what was done');

  const unknown = await get(`/confirm?action=kill&run=${runId}&t=${encodeURIComponent('%')}`);
  t.equal(unknown.statusCode, 404, 'a name the run does not have (here a wildcard) is refused');
  t.equal((await get(`/confirm?action=explode&run=${runId}&t=flaky`)).statusCode, 400, 'an unknown action is refused');
  const badSet = await get(`/confirm?action=set&run=${runId}&t=flaky&state=&status=`);
  t.equal(badSet.statusCode, 400, 'a set of nothing is refused');
  t.match(badSet.body, /expected STATE,STATUS/, 'saying what is expected');
  t.equal((await get('/confirm?action=kill&run=999&t=flaky')).statusCode, 404, 'an unknown run is refused');

  const lock = await trellis(t, area, ['lock', '-t', TARGET, '-r', 'a']);
  t.equal(lock.code, 0, 'run a is locked', { output: lock.stdout + lock.stderr });
  // The hub hears of the lock through the feed; the confirm page reads the run itself.
  for (const action of ['rerun', 'kill', 'set']) {
    const res = await get(`/confirm?action=${action}&run=${runId}&t=quick&state=COMPLETED&status=FAIL`);
    t.equal(res.statusCode, 409, `${action} on a locked run is refused before it is asked`);
    t.match(res.body, /is locked \(by [^)]+\): it refuses a/, 'saying who locked it');
  }
  const csrf = csrfOf((await get('/invite')).body);
  for (const action of ['rerun', 'kill', 'set']) {
    const res = await post('/action', { ...set, t: 'quick', statestatus: 'COMPLETED,FAIL', action, _csrf: csrf });
    t.equal(res.statusCode, 409, `a confirmed ${action} on a locked run is refused (RUN_LOCKED)`);
    t.match(res.body, /run linux\/x86_64\/a is locked/, 'with the words of the CLI');
  }
  rows = await listTests(t, area, 'a');
  t.equal(rows.get('quick')?.status, 'PASS', 'quick is untouched');
  t.same(
    fs.readdirSync(runAreaPaths(web.area.runArea).logsDir).filter((f) => f.startsWith('rerun-')),
    [],
    'no rerun was started',
  );

  const startBad = await get(
    `/start?review=1&target=${encodeURIComponent('mac/m1')}&runname=${encodeURIComponent('-x')}&pattern=~&launcher=${encodeURIComponent('sh -c evil')}`,
  );
  t.equal(startBad.statusCode, 400, 'a bad run form is refused');
  for (const what of [
    /Target: &#39;mac\/m1&#39; is not a target/,
    /Run name: &#39;-x&#39; is not a run name/,
    /Test pattern: /,
    /Launcher: &#39;sh -c evil&#39; is not one the area offers/,
  ]) {
    t.match(startBad.body, what, `it says ${what.source}`);
  }
  const invite = await post('/invite', { name: 'carol', _csrf: csrf });
  t.equal(invite.statusCode, 200, 'an invitation');
  const link = /(http:\/\/127\.0\.0\.1:8420\/login\?token=[A-Za-z0-9_-]+)/.exec(invite.body)?.[1];
  t.ok(link, 'with a login link');
  const carol = await inject({ method: 'GET', url: new URL(link!).pathname + new URL(link!).search });
  t.equal(carol.statusCode, 303, 'the link logs carol in');
  const carolPage = await inject({ method: 'GET', url: '/', headers: { cookie: sessionCookie(carol)! } });
  t.match(carolPage.body, /carol via web/, 'as carol');

  const out = await post('/logout', { _csrf: csrf });
  t.equal(out.statusCode, 303, 'logging out');
  t.equal((await get('/')).statusCode, 401, 'ends the session');

  const areaToken = fs.readFileSync(runAreaPaths(web.area.runArea).tokenFile, 'utf8').trim();
  t.same(
    seen.filter((s) => s.includes(areaToken)),
    [],
    'no response carries the area token',
  );
});

t.test('a web view run by a user [setup] admins does not name may not act for the people logged in to it', async (t) => {
  const area = makeArea(t, { config: `${DEFAULT_CONFIG}admins somebody-else\n`, tests: { flaky: TESTS.flaky } });
  const res0 = await run(t, area, 'a');
  t.equal(res0.code, 1, 'run a ends with flaky failed', { output: res0.stdout + res0.stderr });
  const web = await openWebApp(t, area);
  const cookie = await logIn(web, 'bob via web');
  const runId = String((await web.store.listRuns())[0]!.id);
  const ask = await web.app.inject({
    method: 'GET',
    url: `/confirm?action=set&run=${runId}&t=flaky&state=COMPLETED&status=waived`,
    headers: { cookie },
  });
  const fields = {
    action: 'set',
    run: runId,
    t: 'flaky',
    i: '',
    statestatus: 'COMPLETED,WAIVED',
    confirmed: 'yes',
    _csrf: csrfOf(ask.body),
  };
  const res = await web.app.inject({
    method: 'POST',
    url: '/action',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: form(fields),
  });
  t.equal(res.statusCode, 403, 'refused');
  t.match(res.body, new RegExp(`the request says it comes from bob but is signed by ${loginName()}`), 'saying why');
  t.match(res.body, /only \[setup\] admins may run a web view that acts for others/, 'and who may');
  t.equal((await listTests(t, area, 'a')).get('flaky')?.status, 'FAIL', 'nothing was done');
});
