/**
 * The web view in a real browser (Debian's headless Chromium through puppeteer-core), against a
 * real `trellis web` and real runs in other processes: the login link opens the matrix; a run
 * that starts shows up, and a test finishing changes its cell, without a reload; the filters;
 * moving over cells with the keyboard; rerunning a test and starting a run through the forms;
 * labels and contrast. A screenshot of the matrix goes to test-output/ (docs/web.md shows it).
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { cellWord, launchBrowser, matrixText, type PageGlobals, type PageNode, startWebCli, waitForCells } from '../helpers/browser.js';
import { repoRoot } from '../helpers/cli.js';
import { run, TARGET } from '../helpers/run-e2e.js';
import { makeDashboardArea, openGate, startBackgroundRun } from './dashboard-fixture.js';

declare const document: PageGlobals['document'];
declare const window: PageGlobals['window'];
declare const getComputedStyle: PageGlobals['getComputedStyle'];

// Chromium's start alone takes 15 s on a loaded machine; three runs and a rerun follow.
t.setTimeout(600_000);

/** Where tests leave files for people to look at. */
const OUTPUT = path.join(repoRoot, 'test-output');

t.test('the matrix live in a browser: runs, cells, filters, keys, rerun and a run from the form', async (t) => {
  const area = makeDashboardArea(t);
  const first = await run(t, area, 'nightly-1', ['-p', 'quick,flaky']);
  t.equal(first.code, 1, 'nightly-1 ran quick and flaky (flaky fails)', { output: first.stdout + first.stderr });
  const web = await startWebCli(t, area);
  t.match(web.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/, 'it listens on 127.0.0.1 by default');
  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 640 });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));

  await page.goto(web.loginUrl, { waitUntil: 'domcontentloaded' });
  t.equal(new URL(page.url()).pathname, '/', 'the login link lands on the runs');
  await waitForCells(page, [
    ['quick', 1, 'PASS'],
    ['flaky', 1, 'FAIL'],
  ]);
  t.equal(await page.$eval('#matrix thead th[data-run] .rn', (e: PageNode) => e.textContent), 'nightly-1', 'the run is a column');

  // Marks this page: a reload or a navigation would lose it.
  await page.evaluate(() => {
    window.__kept = 'this page';
  });
  startBackgroundRun(t, area, 'a');
  // Run a appears on the left by itself, its items running behind their gates.
  await waitForCells(page, [
    ['slow/1', 1, 'RUN'],
    ['slow/2', 1, 'RUN'],
    ['slow/3', 1, 'RUN'],
    ['quick', 1, 'PASS'],
    ['flaky', 1, 'FAIL'],
    ['quick', 2, 'PASS'],
  ]);
  t.equal(await cellWord(page, 'slow', 2), '.', 'nightly-1 has no slow');
  fs.mkdirSync(OUTPUT, { recursive: true });
  await page.screenshot({ path: path.join(OUTPUT, 'web-matrix.png') });

  openGate(area, 1);
  await waitForCells(page, [['slow/1', 1, 'PASS']]);
  t.equal(await cellWord(page, 'slow/2', 1), 'RUN', 'item 2 still runs');
  t.equal(await page.evaluate(() => window.__kept), 'this page', 'the cells changed without a reload');

  // Keys: the first cell takes the focus, down moves to the next row, Enter opens that test.
  await page.focus('#matrix tbody tr:first-child td');
  await page.keyboard.press('ArrowDown');
  t.equal(await page.evaluate(() => document.activeElement?.parentElement?.dataset.k), 'quick', 'down moves to the next row');
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.keyboard.press('Enter')]);
  t.match(await page.$eval('h1', (e: PageNode) => e.textContent), /^quick in linux\/x86_64 a/, 'Enter opens the test of that cell');
  t.match(await page.$eval('#detail', (e: PageNode) => e.textContent), /echo quick|quick/, 'with its log');

  // Filters: a test pattern, a status, a target that matches nothing.
  await page.goto(`${web.baseUrl}/`, { waitUntil: 'domcontentloaded' });
  await page.type('input[name=p]', 'quick');
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('form.filters button[type=submit]')]);
  t.same(
    await page.$$eval('#matrix tbody tr', (rows: PageNode[]) => rows.map((r) => r.dataset.k)),
    ['quick'],
    'the test pattern keeps only quick',
  );
  await page.goto(`${web.baseUrl}/?status=FAIL`, { waitUntil: 'domcontentloaded' });
  t.same(
    await page.$$eval('#matrix tbody tr', (rows: PageNode[]) => rows.map((r) => r.dataset.k)),
    ['flaky'],
    'the status filter keeps only flaky',
    { matrix: await matrixText(page) },
  );
  await page.goto(`${web.baseUrl}/?t=${encodeURIComponent('windows/%')}`, { waitUntil: 'domcontentloaded' });
  t.match(
    await page.$eval('#live-area', (e: PageNode) => e.textContent),
    /No run matches the target and run name filters/,
    'a target nobody has',
  );

  // Every field has a label; every cell word keeps its contrast.
  await page.goto(`${web.baseUrl}/`, { waitUntil: 'domcontentloaded' });
  const unlabelled = await page.$$eval('input:not([type=hidden]), select', (els: PageNode[]) =>
    els.filter((e) => !e.closest('label') && !e.getAttribute('aria-label')).map((e) => e.name),
  );
  t.same(unlabelled, [], 'every field of the matrix page has a label');
  const contrasts = await page.$$eval('.legend span', (spans: PageNode[]) =>
    spans.map((s) => {
      const rgb = (c: string) => (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
      const lum = (c: number[]) => {
        const [r, g, b] = c.map((v) => {
          const x = v / 255;
          return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
      };
      const st = getComputedStyle(s);
      const bg =
        rgb(st.backgroundColor).length === 3 && !/rgba\(0, 0, 0, 0\)/.test(st.backgroundColor) ? rgb(st.backgroundColor) : [255, 255, 255];
      const [a, b] = [lum(rgb(st.color)), lum(bg)];
      return { word: s.textContent, ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) };
    }),
  );
  t.same(
    contrasts.filter((c: { ratio: number }) => c.ratio < 4.5),
    [],
    'every cell word has a contrast of 4.5:1 or more',
    { contrasts },
  );

  // Rerun flaky through the form once run a has ended (a live runner refuses a second one).
  openGate(area, 2);
  openGate(area, 3);
  await page.waitForFunction(() => document.querySelector('#matrix thead th[data-run] .rs')?.textContent === 'done', {
    timeout: 60_000,
    polling: 100,
  });
  fs.writeFileSync(path.join(area, 'fixed'), '');
  await page.evaluate(() => {
    window.__kept = 'this page';
  });
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#matrix tr[data-k="flaky"] td:nth-child(2)')]);
  t.match(await page.$eval('h1', (e: PageNode) => e.textContent), /^flaky in linux\/x86_64 a/, 'a click on a cell opens its test');
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('form[action="/confirm"] button')]);
  t.match(await page.$eval('h1', (e: PageNode) => e.textContent), /^Rerun flaky in linux\/x86_64 a\?$/, 'the rerun asks first');
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('.confirm button[type=submit]')]);
  t.match(
    await page.$eval('#notices', (e: PageNode) => e.textContent),
    /rerun of flaky in linux\/x86_64 a started/,
    'then says it started',
  );
  await page.goto(`${web.baseUrl}/`, { waitUntil: 'domcontentloaded' });
  await waitForCells(page, [['flaky', 1, 'PASS']]);
  t.pass('the rerun turned flaky PASS in the matrix');

  // A run from the form: target from runconfigs.config, a run name, a pattern.
  await page.goto(`${web.baseUrl}/start`, { waitUntil: 'domcontentloaded' });
  t.same(
    await page.$$eval('select[name=target] option', (os: PageNode[]) => os.map((o) => o.textContent)),
    [TARGET],
    'the targets of runconfigs.config',
  );
  await page.type('input[name=runname]', 'from-web');
  await page.type('input[name=pattern]', 'quick');
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('form.stack button[type=submit]')]);
  t.match(await page.$eval('h1', (e: PageNode) => e.textContent), /^Start run linux\/x86_64 from-web\?$/, 'the run asks first');
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('.confirm button[type=submit]')]);
  t.equal(new URL(page.url()).searchParams.get('r'), 'from-web', 'then shows that run');
  await waitForCells(page, [['quick', 1, 'PASS']]);
  t.equal(await page.$eval('#matrix thead th[data-run] .rn', (e: PageNode) => e.textContent), 'from-web', 'which ran quick');
  t.same(errors, [], 'no script error on any page');
});
