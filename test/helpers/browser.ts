/**
 * A real headless Chromium for the web view's tests: Debian's `chromium` (or $CHROMIUM_PATH),
 * driven through the DevTools protocol by puppeteer-core, which never downloads a browser. Closed
 * at teardown. Also: reading and waiting for the matrix's cells, printing the page on a timeout.
 */
import fs from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { startCli, type CliProcess } from './cli.js';

interface Teardownable {
  teardown(fn: () => void | Promise<void>): void;
  testdirName?: string;
}

/**
 * What the tests read of an element inside the page (puppeteer sends a function's source there);
 * the tests compile without the DOM library, so the little they use is declared here.
 */
export interface PageNode {
  readonly textContent: string | null;
  readonly name?: string;
  readonly dataset: Readonly<Record<string, string | undefined>>;
  readonly parentElement: PageNode | null;
  readonly rows: ArrayLike<PageNode>;
  readonly cells: ArrayLike<PageNode>;
  closest(selector: string): PageNode | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageNode | null;
}

/** The page's document and window, as the tests use them. */
export interface PageGlobals {
  readonly document: {
    readonly body: PageNode | null;
    readonly activeElement: PageNode | null;
    getElementById(id: string): PageNode | null;
    querySelector(selector: string): PageNode | null;
  };
  readonly window: Record<string, unknown>;
  readonly CSS: { escape(text: string): string };
  getComputedStyle(node: PageNode): { readonly color: string; readonly backgroundColor: string };
}

declare const document: PageGlobals['document'];
declare const CSS: PageGlobals['CSS'];

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Starts Chromium; fails with what to install when it is not there. */
export async function launchBrowser(t: Teardownable): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root (CI) Chromium needs --no-sandbox; the rest keeps it lean on a small machine.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'],
    protocolTimeout: 180_000,
  });
  t.teardown(() => browser.close());
  return browser;
}

/** `trellis web --area AREA` until teardown, and the login link it printed. */
export async function startWebCli(
  t: Teardownable,
  area: string,
  extra: string[] = [],
): Promise<{ proc: CliProcess; loginUrl: string; baseUrl: string }> {
  const proc = startCli(t, ['web', '--area', area, ...extra]);
  const link = /Log in \(the link works once\): (http:\/\/\S+)/;
  await proc.waitFor((out) => link.test(out), 60_000);
  const loginUrl = link.exec(proc.stdout)![1]!;
  return { proc, loginUrl, baseUrl: new URL(loginUrl).origin };
}

/** The matrix as text, row by row (what a timed-out wait prints). */
export async function matrixText(page: Page): Promise<string> {
  return page
    .evaluate(() => {
      const table = document.getElementById('matrix');
      if (!table) return `no matrix; page: ${String(document.body?.textContent).slice(0, 2000)}`;
      return Array.from(table.rows)
        .map((r) =>
          Array.from(r.cells)
            .map((c) => (c.textContent ?? '').trim())
            .join(' | '),
        )
        .join('\n');
    })
    .catch((err: Error) => `could not read the page: ${err.message}`);
}

/** The word in the row `key` (`test` or `test/item`), column `col` (1 = the newest run shown). */
export async function cellWord(page: Page, key: string, col: number): Promise<string | undefined> {
  return page.evaluate(
    (k, c) => {
      const tr = document.querySelector(`#matrix tr[data-k="${CSS.escape(k)}"]`);
      return tr?.cells[c]?.textContent ?? undefined;
    },
    key,
    col,
  );
}

/** Waits until every `[key, col, word]` holds on the page; on timeout says what the matrix showed. */
export async function waitForCells(page: Page, cells: readonly [string, number, string][], ms = 60_000): Promise<void> {
  try {
    await page.waitForFunction(
      (want: [string, number, string][]) =>
        want.every(([k, c, w]) => document.querySelector(`#matrix tr[data-k="${CSS.escape(k)}"]`)?.cells[c]?.textContent === w),
      { timeout: ms, polling: 100 },
      cells as [string, number, string][],
    );
  } catch (err) {
    throw new Error(`timed out waiting for ${JSON.stringify(cells)}: ${(err as Error).message}\nthe matrix:\n${await matrixText(page)}`);
  }
}
