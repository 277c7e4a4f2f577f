// Web view (issue #14): the real `trellis web`, a real headless Chromium (Debian's chromium through
// puppeteer-core), against the targets.
//   1. first paint of 50 runs × 2,000 rows: server render + transfer (GET with gzip, to the last
//      byte), cold (the first request after start) and warm (median of 5)        target ≤ 1 s
//      floor: the same bytes from a bare node:http server in this script (transfer alone); and in
//      Chromium, navigation start → first contentful paint, for the page and for the floor's copy
//      (the same HTML and assets from the bare server: what the browser alone costs)
//   2. page weight before data: the page without runs + its style sheet + its script
//                                                                               target ≤ 300 KB
//   3. 20 browsers (20 Chromium contexts, each logged in with its own link) on a run of 1,000
//      tests finishing: the web process's peak RSS                              target ≤ 200 MB
//      and, per page, the delay from each PASS reaching the server's change feed (seen by a feed
//      reader in this script) to the page showing it                           target ≤ 1 s
//      (also: the test's recorded end → the feed, which is the runner's and the server's part)
// Part 3's tests wait on a gate test so that every page is open on all 1,001 rows before the
// first one ends. Every server binds 127.0.0.1. `node bench/web.mjs 1 3` runs only those parts.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLI, ROOT, header, makeTempDir, median, requireBuild, timeOk, writeArea } from './common.mjs';

const ONLY = process.argv
  .slice(2)
  .filter((a) => /^[1-3]$/.test(a))
  .map(Number);
const part = (n) => ONLY.length === 0 || ONLY.includes(n);
const dist = (p) => path.join(ROOT, 'dist', 'src', p);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RUNS = 50;
const TESTS = 100;
const ITEMS = 19; // 100 × (1 + 19) = 2,000 rows
const REPS = 5;
const PAGES = Number(process.env.WEB_BENCH_PAGES ?? 20);
const LIVE_TESTS = Number(process.env.WEB_BENCH_TESTS ?? 1000);

requireBuild();
if (!existsSync(CHROMIUM)) {
  console.error(`bench: no Chromium at ${CHROMIUM}; apt-get install chromium (or set CHROMIUM_PATH)`);
  process.exit(1);
}
const { default: puppeteer } = await import('puppeteer-core');
const tmp = makeTempDir('web');
const env = { ...process.env };
delete env.TRELLIS_DIRECT;

const report = (label, value, target, unit, digits = 1) =>
  console.log(
    `${label.padEnd(58)} ${value.toFixed(digits).padStart(9)} ${unit}   target ≤ ${target} ${unit}: ${value <= target ? 'met' : 'MISSED'}`,
  );
const figure = (label, value, unit, digits = 1) => console.log(`${label.padEnd(58)} ${value.toFixed(digits).padStart(9)} ${unit}`);
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};

/** `trellis web --area DIR` in the background; its base URL, first login link and pid. */
async function startWeb(dir) {
  const child = spawn(process.execPath, [CLI, 'web', '--area', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  process.on('exit', () => child.kill('SIGKILL'));
  const deadline = Date.now() + 120_000;
  for (;;) {
    const m = /Log in \(the link works once\): (http:\/\/\S+)/.exec(out);
    if (m) return { child, loginUrl: m[1], base: new URL(m[1]).origin, t0: performance.now() };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`trellis web did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stopWeb(web) {
  web.child.kill('SIGTERM');
  await new Promise((r) => (web.child.exitCode !== null ? r() : web.child.once('exit', r)));
}

/** Logs in over HTTP: the session cookie. */
async function logIn(loginUrl) {
  const res = await fetch(loginUrl, { redirect: 'manual' });
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  if (res.status !== 303 || !cookie) throw new Error(`login failed: ${res.status}`);
  return cookie;
}

/** GET with gzip, to the last byte: ms, bytes on the wire, bytes of HTML. */
function timedGet(url, cookie) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get(url, { headers: { cookie, 'accept-encoding': 'gzip' } }, (res) => {
      let wire = 0;
      const chunks = [];
      res.on('data', (d) => {
        wire += d.length;
        chunks.push(d);
      });
      res.on('end', () =>
        resolve({
          ms: performance.now() - t0,
          wire,
          status: res.statusCode,
          body: Buffer.concat(chunks),
          encoding: res.headers['content-encoding'],
        }),
      );
    });
    req.on('error', reject);
  });
}

/** A login link for someone else, made through the invite form with a session. */
async function invite(base, cookie, name) {
  const page = await (await fetch(`${base}/invite`, { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)[1];
  const res = await fetch(`${base}/invite`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, name }),
  });
  return /(http:\/\/\S+\/login\?token=[A-Za-z0-9_-]+)/.exec(await res.text())[1];
}

function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { hwm: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
}

async function launchBrowser() {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'],
    protocolTimeout: 600_000,
  });
}

/** Navigation start → first contentful paint and DOMContentLoaded, in a fresh page. */
async function paintOf(browser, url, cookie) {
  const page = await browser.newPage();
  if (cookie) {
    const u = new URL(url);
    const [name, value] = cookie.split('=');
    await page.setCookie({ name, value, domain: u.hostname, path: '/' });
  }
  await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
  const t = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    return {
      fcp: fcp?.startTime ?? NaN,
      dcl: nav.domContentLoadedEventEnd,
      responseStart: nav.responseStart,
      responseEnd: nav.responseEnd,
    };
  });
  await page.close();
  return t;
}

/**
 * Follows the run `runname` through the server's change feed from this process, as the web view
 * does: when each test's PASS reached the feed. Against this, a page's delay is the web view's own
 * (its feed poll, its hub, the event stream, the page's patch), whatever the runner took to write.
 */
async function observeFeed(dir, runname) {
  const { RemoteStore } = await import(dist('client/remote-store.js'));
  const store = new RemoteStore({
    runArea: path.join(dir, 'runs'),
    areaDir: dir,
    invocation: 'other',
    host: 'bench',
    now: () => Date.now() / 1000,
    debug: () => {},
    autoStart: false,
    env,
    trellisJs: CLI,
  });
  const seen = new Map();
  const controller = new AbortController();
  const loop = (async () => {
    let cursor = { runsSeq: 0, runs: {} };
    let first = true;
    while (!controller.signal.aborted) {
      const batch = first ? await store.changes(cursor) : await store.waitForChanges(cursor, 5000, controller.signal);
      first = false;
      const at = Date.now();
      for (const rc of batch.cells) {
        for (const c of rc.cells) {
          if (c.itempath === '' && c.state === 'COMPLETED' && c.status === 'PASS' && !seen.has(c.testname)) seen.set(c.testname, at);
        }
      }
      cursor = batch.cursor;
      for (const r of batch.runs) {
        if (r.runname === runname && !(String(r.id) in cursor.runs)) cursor = { ...cursor, runs: { ...cursor.runs, [r.id]: 0 } };
      }
    }
  })();
  return {
    seen,
    async stop() {
      controller.abort();
      await loop.catch(() => undefined);
      await store.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------

header('web view (trellis web, headless Chromium)');

if (part(1) || part(2)) {
  const dir = writeArea(path.join(tmp, 'big'), { tests: {} });
  const { openDirectStore } = await import(dist('store/direct-store.js'));
  const t0 = performance.now();
  const store = openDirectStore(path.join(dir, 'runs'), { host: 'bench' });
  for (let r = 0; r < RUNS; r++) {
    const run = await store.ensureRun({ target: 'linux', keys: { OS: 'linux' }, runname: `nightly-${1000 + r}` });
    const regs = [];
    for (let t = 0; t < TESTS; t++) {
      regs.push({ testname: `t${t}`, itempath: '', priority: 0, rundir: '' });
      for (let i = 0; i < ITEMS; i++) regs.push({ testname: `t${t}`, itempath: `i${i}`, priority: 0, rundir: '' });
    }
    const rows = await store.registerTests(run.id, regs);
    const now = Date.now() / 1000;
    const ops = rows
      .filter((row) => row.itempath !== '')
      .map((row, n) => ({
        kind: 'test',
        opId: `g${row.id}`,
        testId: row.id,
        set: { state: 'COMPLETED', status: (n + r) % 67 === 0 ? 'FAIL' : 'PASS', start: now - 2, end: now - 1 },
        time: now,
      }));
    await store.write(run.id, ops);
    await store.setRunState(run.id, 'done');
  }
  await store.close();
  figure(`area written: ${RUNS} runs × ${TESTS * (1 + ITEMS)} rows`, (performance.now() - t0) / 1000, 's');

  const web = await startWeb(dir);
  const cookie = await logIn(web.loginUrl);
  const url = `${web.base}/?n=${RUNS}`;
  const cold = await timedGet(url, cookie);
  if (cold.status !== 200) throw new Error(`GET ${url}: ${cold.status}`);
  // A page waits up to 2 s for its runs' cells, then shows the rest as loading (the script fills them).
  const coldHtml = (cold.encoding === 'gzip' ? (await import('node:zlib')).gunzipSync(cold.body) : cold.body).toString('utf8');
  const coldLoading = (coldHtml.match(/ data-loading/g) ?? []).length;
  const warm = [];
  let last;
  for (let i = 0; i < REPS; i++) {
    last = await timedGet(url, cookie);
    warm.push(last.ms);
  }
  const html = last.encoding === 'gzip' ? (await import('node:zlib')).gunzipSync(last.body) : last.body;
  const cells = (html.toString('utf8').match(/<td[ >]/g) ?? []).length;

  // The floor: the same page (pre-compressed) and the same assets from a bare node:http server.
  const gz = gzipSync(html);
  const floorAssets = new Map();
  for (const m of html.toString('utf8').matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)) {
    const r = await fetch(`${web.base}${m[1]}`);
    floorAssets.set(m[1], { type: r.headers.get('content-type'), body: Buffer.from(await r.arrayBuffer()) });
  }
  const floorServer = http.createServer((req, res) => {
    const asset = floorAssets.get(req.url);
    if (asset) {
      res.writeHead(200, {
        'content-type': asset.type,
        'content-length': asset.body.length,
        'cache-control': 'public, max-age=31536000, immutable',
      });
      res.end(asset.body);
    } else if (req.url === '/' || req.url.startsWith('/?')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-encoding': 'gzip', 'content-length': gz.length });
      res.end(gz);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => floorServer.listen(0, '127.0.0.1', r));
  const floorUrl = `http://127.0.0.1:${floorServer.address().port}/`;
  const floor = [];
  for (let i = 0; i < REPS; i++) floor.push((await timedGet(floorUrl, '')).ms);

  if (part(1)) {
    console.log(
      `\n-- 1. first paint, ${RUNS} runs × ${TESTS * (1 + ITEMS)} rows (${cells} cells; ${(html.length / 1024 / 1024).toFixed(2)} MB of HTML, ${(last.wire / 1024).toFixed(0)} KB gzipped)`,
    );
    report('server render + transfer, cold (first request)', cold.ms, 1000, 'ms', 0);
    figure(`  runs of the ${RUNS} still loading in that page`, coldLoading, '', 0);
    report(`server render + transfer, warm (median of ${REPS})`, median(warm), 1000, 'ms', 0);
    figure('floor: the same bytes from a bare node:http server', median(floor), 'ms', 0);
    figure('warm / floor', median(warm) / median(floor), 'x', 1);
    const browser = await launchBrowser();
    try {
      const pageTimes = [];
      const floorTimes = [];
      for (let i = 0; i < 3; i++) {
        pageTimes.push(await paintOf(browser, url, cookie));
        floorTimes.push(await paintOf(browser, floorUrl));
      }
      report('Chromium: request → last byte of the page (median of 3)', median(pageTimes.map((x) => x.responseEnd)), 1000, 'ms', 0);
      figure('  of which request → first byte (server render)', median(pageTimes.map((x) => x.responseStart)), 'ms', 0);
      figure('Chromium: first contentful paint (median of 3)', median(pageTimes.map((x) => x.fcp)), 'ms', 0);
      figure('Chromium: DOMContentLoaded, every cell parsed (median of 3)', median(pageTimes.map((x) => x.dcl)), 'ms', 0);
      figure('Chromium floor: same HTML from the bare server, last byte', median(floorTimes.map((x) => x.responseEnd)), 'ms', 0);
      figure('Chromium floor: first contentful paint', median(floorTimes.map((x) => x.fcp)), 'ms', 0);
      figure('Chromium floor: DOMContentLoaded', median(floorTimes.map((x) => x.dcl)), 'ms', 0);
    } finally {
      await browser.close();
    }
  }
  floorServer.close();

  if (part(2)) {
    console.log('\n-- 2. page weight before data');
    const empty = await timedGet(`${web.base}/?t=no-such-target`, cookie);
    const page = (empty.encoding === 'gzip' ? (await import('node:zlib')).gunzipSync(empty.body) : empty.body).toString('utf8');
    const assets = [...page.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    let total = Buffer.byteLength(page);
    let wire = empty.wire;
    for (const a of assets) {
      const r = await timedGet(`${web.base}${a}`, cookie);
      const raw = r.encoding === 'gzip' ? (await import('node:zlib')).gunzipSync(r.body) : r.body;
      figure(`  ${a.replace(/\.[0-9a-f]{12}\./, '.')}`, raw.length / 1024, 'KB', 1);
      total += raw.length;
      wire += r.wire;
    }
    figure('  the page without runs (HTML)', Buffer.byteLength(page) / 1024, 'KB', 1);
    report('page weight before data (uncompressed)', total / 1024, 300, 'KB', 1);
    figure('the same on the wire (gzip)', wire / 1024, 'KB', 1);
  }
  await stopWeb(web);
}

if (part(3)) {
  console.log(`\n-- 3. ${PAGES} browsers on a run of ${LIVE_TESTS} tests finishing`);
  const tests = { gate: '[ezsteps]\nwait  while [ ! -e "$MT_RUN_AREA_HOME/go" ]; do sleep 0.05; done\n' };
  for (let i = 0; i < LIVE_TESTS; i++) tests[`t${String(i).padStart(4, '0')}`] = '[requirements]\nwaiton gate\n\n[ezsteps]\nrun  true\n';
  const dir = writeArea(path.join(tmp, 'live'), { maxJobs: 8, tests });
  const web = await startWeb(dir);
  const cookie = await logIn(web.loginUrl);
  const run = spawn(process.execPath, [CLI, 'run', '--area', dir, '-t', 'linux', '-r', 'live'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let runOut = '';
  run.stdout.on('data', (d) => (runOut += d));
  run.stderr.on('data', (d) => (runOut += d));
  const runDone = new Promise((r) => run.once('exit', r));
  process.on('exit', () => run.kill('SIGKILL'));

  const browser = await launchBrowser();
  const pages = [];
  try {
    for (let i = 0; i < PAGES; i++) {
      const link = await invite(web.base, cookie, `viewer${i}`);
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      await page.goto(link, { waitUntil: 'domcontentloaded', timeout: 300_000 });
      await page.goto(`${web.base}/?trace=1`, { waitUntil: 'domcontentloaded', timeout: 300_000 });
      pages.push(page);
    }
    // Every page shows the run with all its rows, nothing ended yet but the gate running.
    for (const page of pages) {
      await page.waitForFunction(
        (n) => document.querySelectorAll('#matrix tbody tr').length === n,
        { timeout: 300_000, polling: 200 },
        LIVE_TESTS + 1,
      );
    }
    const before = memory(web.child.pid);
    figure(`web process RSS with ${PAGES} pages open, before the run goes`, before.rss, 'MB', 0);
    const feed = await observeFeed(dir, 'live');
    writeFileSync(path.join(dir, 'go'), '');
    const samples = [];
    const sampler = setInterval(() => samples.push(memory(web.child.pid).rss), 200);
    const t0 = performance.now();
    const code = await runDone;
    figure(`the run of ${LIVE_TESTS + 1} tests (exit ${code})`, (performance.now() - t0) / 1000, 's');
    // Each page has until every test shows PASS (or 60 s) to catch up.
    for (const page of pages) {
      await page
        .waitForFunction(
          (n) => [...document.querySelectorAll('#matrix tbody td')].filter((td) => td.textContent === 'PASS').length >= n,
          { timeout: 60_000, polling: 200 },
          LIVE_TESTS + 1,
        )
        .catch(() => undefined);
    }
    clearInterval(sampler);
    await feed.stop();
    const mem = memory(web.child.pid);
    report(`web process peak RSS (VmHWM), ${PAGES} pages`, mem.hwm, 200, 'MB', 0);
    figure('web process RSS, median while the run went', median(samples), 'MB', 0);

    const list = timeOk(process.execPath, [CLI, 'list', 'tests', '--area', dir, '-t', 'linux', '-r', 'live', '--json'], { env });
    const ends = new Map(JSON.parse(list.stdout).map((r) => [r.testname, Date.parse(r.end)]));
    const worst = [];
    const all = [];
    const fromEnd = [];
    const inWeb = [];
    const inPage = [];
    let missing = 0;
    let reloads = 0;
    for (const page of pages) {
      const { trace, reloaded } = await page.evaluate(() => ({ trace: window.__trellisTrace, reloaded: window.__trellisReloads }));
      reloads += reloaded;
      const shown = new Map();
      for (const e of trace) if (e.word === 'PASS' && !shown.has(e.key)) shown.set(e.key, e);
      let pageWorst = 0;
      for (const [name, end] of ends) {
        const e = shown.get(name);
        const fed = feed.seen.get(name);
        if (e === undefined || fed === undefined) {
          missing++;
          continue;
        }
        const at = e.at;
        const delay = Math.max(0, at - fed);
        all.push(delay);
        if (e.sent !== undefined) {
          inWeb.push(Math.max(0, e.sent - fed));
          inPage.push(Math.max(0, at - e.sent));
        }
        fromEnd.push(Math.max(0, at - end));
        pageWorst = Math.max(pageWorst, delay);
      }
      worst.push(pageWorst);
    }
    const feedLag = [...ends].filter(([name]) => feed.seen.has(name)).map(([name, end]) => Math.max(0, feed.seen.get(name) - end));
    figure(`changes seen: PASS cells patched over ${PAGES} pages`, all.length, '', 0);
    figure('not seen as a patch (a page fetched its rows again)', missing, '', 0);
    figure('pages that fetched their rows again', reloads, '', 0);
    figure("test's end → its PASS in the server's feed: median", median(feedLag), 'ms', 0);
    figure("test's end → its PASS in the server's feed: max", Math.max(...feedLag), 'ms', 0);
    figure('feed → page shows PASS: median over all pages', median(all), 'ms', 0);
    figure('feed → page shows PASS: p99 over all pages', pct(all, 99), 'ms', 0);
    report("feed → page shows PASS: the slowest page's worst", Math.max(...worst), 1000, 'ms', 0);
    figure("feed → page shows PASS: the best page's worst", Math.min(...worst), 'ms', 0);
    figure('  of which feed → the web view sends it: median', median(inWeb), 'ms', 0);
    figure('    (p99)', pct(inWeb, 99), 'ms', 0);
    figure('  of which sent → the page shows it: median', median(inPage), 'ms', 0);
    figure('    (p99)', pct(inPage, 99), 'ms', 0);
    figure("test's end → page shows PASS: median over all pages", median(fromEnd), 'ms', 0);
    if (code !== 0) console.log(`the run's output:\n${runOut.slice(-2000)}`);
  } finally {
    await browser.close();
    await stopWeb(web);
  }
}
