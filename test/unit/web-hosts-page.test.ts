/**
 * The web view's hosts page as HTML (pure): the columns, a running test linked to its page (an
 * item's path in the link), stored text escaped, the empty and unreadable pool.
 */
import t from 'tap';
import { renderHostsMain, renderHostsPart } from '../../src/web/pages/hosts-page.js';
import { makeHost, makeJob } from './dashboard-fixture.js';

const NOW = 10_000;

t.test('one row per agent, the tests it runs linked', async (t) => {
  const hosts = [
    makeHost('alpha', { tags: ['linux', 'gpu'], load: 1.25, heartbeat: NOW - 4, status: 'busy', jobs: [makeJob('build/x86', 'nightly')] }),
    makeHost('beta', { heartbeat: NOW - 7300, status: 'offline' }),
  ];
  const part = renderHostsPart({ hosts, now: NOW }).text;
  t.match(part, /^<div id="detail" data-live="1">/, 'the part the script reads again');
  t.match(part, /<p>2 agent\(s\), 1 busy; 1 of 2 slot\(s\) in use\.<\/p>/);
  t.match(
    part,
    /<th scope="row">alpha<\/th><td>alpha-host<\/td><td class="host-busy">busy<\/td><td>1\/2<\/td><td>linux, gpu<\/td><td>4 s ago \([^)]+\)<\/td><td>1\.25<\/td><td>0\.1\.0<\/td>/,
  );
  t.match(part, /<li><a href="\/test\?run=1&amp;t=build&amp;i=x86">build\/x86<\/a> \(linux\/x86_64 nightly\)<\/li>/);
  t.match(part, /<th scope="row">beta<\/th><td>beta-host<\/td><td class="host-offline">offline<\/td><td>0\/2<\/td><td>-<\/td><td>2 h ago/);
  t.match(renderHostsMain({ hosts, now: NOW }).text, /^<h1>Hosts<\/h1>/);
});

t.test('stored text is escaped', async (t) => {
  const part = renderHostsPart({
    hosts: [
      makeHost('alpha', {
        host: '<script>alert(1)</script>',
        version: '"><img src=x onerror=alert(2)>',
        tags: ['a&b'],
        jobs: [makeJob('t<b>/i"&', 'r<i>')],
      }),
    ],
    now: NOW,
  }).text;
  t.notMatch(part, /<script|<img|<b>|<i>/, 'no markup of theirs');
  t.match(part, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  t.match(part, /&quot;&gt;&lt;img src=x onerror=alert\(2\)&gt;/);
  t.match(part, /a&amp;b/);
});

t.test('an empty pool says how to start an agent; an unreadable one says it tries again', async (t) => {
  t.match(renderHostsPart({ hosts: [], now: NOW }).text, /No agents have registered in this run area\./);
  t.match(renderHostsPart({ hosts: undefined, now: NOW }).text, /<p class="error">The pool cannot be read just now/);
});
