/**
 * Signing off a manual step from the web view, through fastify's inject over a real run area with
 * its real server and tests parked by a real `trellis run`: the test page shows the prompt and
 * Approve / Reject; each asks first; approve and reject are recorded with the session's person; a
 * reject's comment is stored as given (control characters too) and shown escaped; a test that
 * does not wait, a step that is not the one waiting, a missing CSRF token, a locked run and a user
 * `[setup] approvers` does not name are refused, and change nothing.
 */
import t from 'tap';
import { loginName } from '../../src/util/host.js';
import { makeArea, TEST_SERVER_CONFIG } from '../helpers/area.js';
import { listTests, startRun, statesOf } from '../helpers/run-e2e.js';
import { csrfOf, form, logIn, openWebApp, sessionCookie } from '../helpers/web.js';

const manual = (prompt: string) => `[ezsteps]\nbuild echo built\nsign-off {manual} ${prompt}\ndeploy echo deployed\n`;
const TESTS = {
  rel1: manual('Check the release notes, then approve'),
  rel2: manual('Look at the <b>screenshots</b>'),
  rel3: manual('Ask QA'),
  free: '[ezsteps]\nx echo free\n',
};
const CONFIG = `[fields]\nOS\nARCH\n\n[setup]\nmax_concurrent_jobs 2\napprovers tester, bob\n${TEST_SERVER_CONFIG}`;

// A run, a server and a web app on a loaded machine.
t.setTimeout(300_000);

t.test('approve and reject from the web view; what it refuses', async (t) => {
  const area = makeArea(t, { config: CONFIG, tests: TESTS });
  // Three tests park at their manual step; Ctrl-C leaves them parked with no runner (the cheapest
  // way to a run area with parked tests: one CLI start).
  const runner = startRun(t, area, 'r');
  await runner.waitFor((out) => ['rel1', 'rel2', 'rel3'].every((n) => new RegExp(`${n}: WAITING for a sign-off`).test(out)));
  runner.child.kill('SIGINT');
  t.equal((await runner.done).code, 130, 'the runner stops, the tests stay parked');
  const web = await openWebApp(t, area);
  const runId = String((await web.store.listRuns())[0]!.id);
  const states = async () => statesOf(await listTests(t, area, 'r'));
  t.same(
    await states(),
    { free: 'COMPLETED/PASS', rel1: 'WAITING/MANUAL', rel2: 'WAITING/MANUAL', rel3: 'WAITING/MANUAL' },
    'three tests wait for a sign-off',
  );

  const session = (cookie: string) => ({
    get: (url: string) => web.app.inject({ method: 'GET', url, headers: { cookie } }),
    post: (url: string, fields: Record<string, string>) =>
      web.app.inject({
        method: 'POST',
        url,
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: form(fields),
      }),
  });
  const { get, post } = session(await logIn(web, 'tester via web'));

  // The test page: the step, its prompt (escaped), the form.
  const page = await get(`/test?run=${runId}&t=rel2`);
  t.equal(page.statusCode, 200);
  t.match(page.body, /<h2 id="sign-off">Sign-off due<\/h2>/, 'a parked test has a sign-off section');
  t.match(page.body, /Step <strong>sign-off<\/strong> waits for a sign-off/, 'naming the step');
  t.match(page.body, /<blockquote class="prompt">Look at the &lt;b&gt;screenshots&lt;\/b&gt;<\/blockquote>/, 'its prompt, as text');
  t.match(page.body, /<input type="hidden" name="step" value="sign-off">/, 'the step goes along with the form');
  t.match(page.body, /<textarea name="comment"/, 'an optional comment');
  t.match(page.body, /<button type="submit" name="action" value="approve" class="primary">Approve&hellip;<\/button>/, 'Approve…');
  t.match(page.body, /<button type="submit" name="action" value="reject" class="danger">Reject&hellip;<\/button>/, 'Reject…');
  t.notMatch(page.body, /http-equiv="refresh"/, 'no reload that would lose a comment being typed');
  const freePage = await get(`/test?run=${runId}&t=free`);
  t.notMatch(freePage.body, /Sign-off due|value="approve"/, 'a test that does not wait has none');

  // Approve rel1: asked first, then done, recorded as the session's person.
  const ask = await get(`/confirm?action=approve&run=${runId}&t=rel1&step=sign-off&comment=${encodeURIComponent('notes read')}`);
  t.equal(ask.statusCode, 200, 'approve asks first');
  t.match(ask.body, /<h1>Approve step sign-off of rel1 in linux\/x86_64 r\?<\/h1>/, 'what will be approved');
  t.match(ask.body, /It asks: Check the release notes, then approve/, 'with the prompt');
  t.match(ask.body, /Checked against \[setup\] approvers as tester; recorded as done by tester via web/, 'as whom');
  t.match(ask.body, /<textarea name="comment"[^>]*>notes read<\/textarea>/, 'the comment, still editable');
  t.equal((await states()).rel1, 'WAITING/MANUAL', 'asking changed nothing');
  const csrf = csrfOf(ask.body);
  const approveFields = { action: 'approve', run: runId, t: 'rel1', i: '', step: 'sign-off', comment: 'notes read', confirmed: 'yes' };

  const noCsrf = await post('/action', approveFields);
  t.equal(noCsrf.statusCode, 403, 'without the CSRF token: 403');
  const forged = await post('/action', { ...approveFields, _csrf: 'forged' });
  t.equal(forged.statusCode, 403, 'with a forged one: 403');
  t.equal((await states()).rel1, 'WAITING/MANUAL', 'and nothing was signed off');

  const done = await post('/action', { ...approveFields, _csrf: csrf });
  t.equal(done.statusCode, 303, 'the confirmed approve is done');
  t.equal(done.headers['location'], `/test?run=${runId}&t=rel1`, 'and goes back to the test');
  const rows = await listTests(t, area, 'r');
  t.equal(rows.get('rel1')?.status, 'n/a', 'rel1 is approved: it goes on with the next run');
  t.equal(
    rows.get('rel1')?.comment,
    `step sign-off approved by tester via web (by ${loginName()}): notes read`,
    'by whom (and the web view vouching), with the comment',
  );
  const after = await get(`/test?run=${runId}&t=rel1`);
  t.match(after.body, /<p>approved rel1: its runner goes on with the next step<\/p>/, 'the next page says what was done');
  t.notMatch(after.body, /Sign-off due/, 'and offers no second sign-off');
  const events = await web.store.events(Number(runId), 0);
  t.ok(
    events.some((e) => e.kind === 'approve' && e.who === `tester via web (by ${loginName()})` && e.detail === 'step sign-off: notes read'),
    "the run's log says tester approved it",
    { events },
  );
  t.ok(
    web.audit.some((l) => /^tester via web approve rel1 in linux\/x86_64 r: approved rel1/.test(l)),
    "so does the web view's log",
    { audit: web.audit },
  );

  // A test that does not wait (any more): refused when asked, and when posted, in the CLI's words.
  const again = await get(`/confirm?action=approve&run=${runId}&t=rel1`);
  t.equal(again.statusCode, 409, 'a test no longer waiting is refused when asked');
  t.match(again.body, /rel1 is not waiting for a sign-off \(it is WAITING\/n\/a\)/, 'saying what it is');
  const freeAsk = await get(`/confirm?action=reject&run=${runId}&t=free`);
  t.equal(freeAsk.statusCode, 409, 'so is a test that never waited');
  const freePost = await post('/action', { ...approveFields, t: 'free', step: '', _csrf: csrf });
  t.equal(freePost.statusCode, 409, 'and a posted sign-off of it (NOT_WAITING)');
  t.match(freePost.body, /free is not waiting for a sign-off \(it is COMPLETED\/PASS\)/, 'with the words of the CLI');
  t.equal((await states()).free, 'COMPLETED/PASS', 'free is untouched');

  // A step that is not the one waiting: refused when asked and when posted (NO_STEP).
  const wrongAsk = await get(`/confirm?action=approve&run=${runId}&t=rel3&step=deploy`);
  t.equal(wrongAsk.statusCode, 409, 'the wrong step is refused when asked');
  t.match(wrongAsk.body, /rel3 waits at step sign-off, not at step deploy/, 'naming the step that waits');
  const wrongPost = await post('/action', { ...approveFields, t: 'rel3', step: 'deploy', _csrf: csrf });
  t.equal(wrongPost.statusCode, 409, 'and when posted');
  t.match(wrongPost.body, /rel3 waits at step sign-off, not at step deploy/);

  // Reject rel2 with a comment holding control characters: stored as given, shown escaped.
  const comment = 'screenshots \u001b[31mwrong\u0007 <b>here</b>\u009b\u202e\nsee ticket';
  const rejectAsk = await get(`/confirm?action=reject&run=${runId}&t=rel2&step=sign-off`);
  t.match(rejectAsk.body, /<h1>Reject step sign-off of rel2 in linux\/x86_64 r\?<\/h1>/, 'reject asks first');
  t.match(rejectAsk.body, /The step and the test become FAIL/, 'saying what follows');
  t.match(rejectAsk.body, /class="danger" autofocus>Reject it</, 'a danger button');
  const rejected = await post('/action', { ...approveFields, action: 'reject', t: 'rel2', comment, _csrf: csrf });
  t.equal(rejected.statusCode, 303, 'the confirmed reject is done');
  const rel2 = (await web.store.getTest(Number(runId), 'rel2', ''))!;
  t.equal(rel2.state, 'COMPLETED', 'rel2 has ended');
  t.equal(rel2.status, 'FAIL', 'FAIL');
  t.equal(rel2.comment, `step sign-off rejected by tester via web (by ${loginName()}): ${comment}`, 'the comment stored as given');
  const rel2Page = await get(`/test?run=${runId}&t=rel2`);
  t.match(
    rel2Page.body,
    /<dt>Comment<\/dt><dd>step sign-off rejected by tester via web \(by \S+\): screenshots \ufffd\[31mwrong\ufffd &lt;b&gt;here&lt;\/b&gt;\ufffd\ufffd\nsee ticket<\/dd>/,
    'and shown escaped: control characters (C0, C1, a bidi override) as a mark, markup as text',
  );
  t.notMatch(rel2Page.body, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/, 'no control character reaches the page');
  t.notMatch(rel2Page.body, /<b>here/, 'no markup from the comment');
  const tooLong = await post('/action', { ...approveFields, t: 'rel3', comment: 'x'.repeat(5000), _csrf: csrf });
  t.equal(tooLong.statusCode, 400, 'a comment over 4,096 characters is refused, not cut');
  t.match(tooLong.body, /is 5000 characters long/);

  // A user [setup] approvers does not name.
  const mallory = session(await logIn(web, 'mallory via web'));
  const malloryAsk = await mallory.get(`/confirm?action=approve&run=${runId}&t=rel3`);
  t.match(malloryAsk.body, /Checked against \[setup\] approvers as mallory/, 'the confirmation says as whom it is checked');
  const refused = await mallory.post('/action', { ...approveFields, t: 'rel3', _csrf: csrfOf(malloryAsk.body) });
  t.equal(refused.statusCode, 403, 'mallory may not sign off (NOT_APPROVER)');
  t.match(
    refused.body,
    /user mallory may not sign off manual steps in this area: \[setup\] approvers \([^)]*trellis\.config:\d+\) names tester, bob/,
  );
  t.equal((await states()).rel3, 'WAITING/MANUAL', 'rel3 still waits');
  t.ok(
    web.audit.some((l) => /^mallory via web POST \/action: refused: user mallory may not/.test(l)),
    'the refusal is in the web view log',
  );

  // An invitation's user is the name typed for it.
  const invite = await post('/invite', { name: 'bob', _csrf: csrf });
  const link = new URL(/(http:\/\/127\.0\.0\.1:8420\/login\?token=[A-Za-z0-9_-]+)/.exec(invite.body)![1]!);
  const bobLogin = await web.app.inject({ method: 'GET', url: link.pathname + link.search });
  const bob = session(sessionCookie(bobLogin)!);
  const bobAsk = await bob.get(`/confirm?action=approve&run=${runId}&t=rel3`);
  t.match(
    bobAsk.body,
    /Checked against \[setup\] approvers as bob; recorded as done by bob via web/,
    'an invited person is checked by the name typed',
  );

  // A locked run refuses, when asked and when posted, as the CLI does.
  await web.store.setRunState(Number(runId), 'locked', { who: `${loginName()}@host` });
  // The test page takes the run from the live hub, which hears of the lock through the feed.
  const lockNote = /The run is locked: it refuses a sign-off until it is unlocked/;
  let lockedPage = await get(`/test?run=${runId}&t=rel3`);
  for (let i = 0; i < 600 && !lockNote.test(lockedPage.body); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    lockedPage = await get(`/test?run=${runId}&t=rel3`);
  }
  t.match(lockedPage.body, lockNote, 'the test page says so');
  const lockedAsk = await get(`/confirm?action=approve&run=${runId}&t=rel3`);
  t.equal(lockedAsk.statusCode, 409, 'an approve on a locked run is refused before it is asked');
  t.match(lockedAsk.body, new RegExp(`is locked \\(by ${loginName()}@host\\): it refuses an approval`), 'saying who locked it');
  const lockedPost = await post('/action', { ...approveFields, t: 'rel3', _csrf: csrf });
  t.equal(lockedPost.statusCode, 409, 'a confirmed approve on a locked run is refused (RUN_LOCKED)');
  t.match(lockedPost.body, /run linux\/x86_64\/r is locked/, 'with the words of the CLI');
  t.equal((await states()).rel3, 'WAITING/MANUAL', 'rel3 still waits');
});
