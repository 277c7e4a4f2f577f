/**
 * The dashboard when things are not plain: NO_COLOR, a small terminal and a resize, its server
 * killed with -9, no terminal at all and a bad pattern. The built CLI in a real terminal (tmux)
 * over real run areas.
 */
import path from 'node:path';
import lockfile from 'proper-lockfile';
import t, { type Test } from 'tap';
import { runAreaPaths } from '../../src/config/paths.js';
import type { ServerRow } from '../../src/report/records-json.js';
import { assertUserError, parseJson } from '../helpers/e2e.js';
import { trellis, waitUntil } from '../helpers/run-e2e.js';
import { isPidAlive } from '../helpers/servers.js';
import { screenLines, SCREEN_WAIT_MS } from '../helpers/tmux.js';
import {
  bottomLine,
  cellsOf,
  EXIT_LINE,
  FLAKY,
  GATED,
  KEY_HINTS,
  line,
  makeDashboardArea,
  openDashboard,
  openGate,
  QUICK,
  rowIs,
  startBackgroundRun,
  TARGET,
} from './dashboard-fixture.js';

t.test('colours unless NO_COLOR; 80x24; a resize re-lays out', async (t) => {
  const area = makeDashboardArea(t, { quick: QUICK, flaky: FLAKY });
  const res = await trellis(t, area, ['run', '-t', TARGET, '-r', 'a']);
  t.equal(res.code, 1, 'the run ends with flaky failed', { output: res.stdout + res.stderr });

  const coloured = await openDashboard(t, area, [], { width: 160, height: 50 });
  const plain = await openDashboard(t, area, [], { width: 80, height: 24, env: { NO_COLOR: '1' } });
  const ready = (s: string) => cellsOf(s, ' quick')?.[0] === 'PASS' && cellsOf(s, ' flaky')?.[0] === 'FAIL';
  await coloured.waitForScreen(ready, SCREEN_WAIT_MS, 'quick PASS, flaky FAIL');
  await plain.waitForScreen(ready, SCREEN_WAIT_MS, 'quick PASS, flaky FAIL');

  const withColour = sgrOf(await coloured.capture({ escapes: true }));
  t.ok(withColour.colours.length > 0, `colours without NO_COLOR (${[...new Set(withColour.colours)].join(' ')})`);
  const noColour = sgrOf(await plain.capture({ escapes: true }));
  t.same(noColour.colours, [], 'no colour codes under NO_COLOR');
  t.ok(noColour.attributes.includes('1'), 'bold stays under NO_COLOR');
  t.ok(noColour.attributes.includes('7'), 'inverse (the selection) stays under NO_COLOR');

  checkSmall(t, await plain.capture(), 'started at 80x24');

  // After the resize only a new layout has the title's right end at column 80 and the key line at 24.
  await coloured.resize(80, 24);
  const resized = await coloured.waitForScreen(
    (s) =>
      screenLines(s).length === 24 && line(s, 1).length === 80 && line(s, 1).endsWith('? help  q quit') && KEY_HINTS.test(bottomLine(s)),
    SCREEN_WAIT_MS,
    'the 80x24 layout',
  );
  checkSmall(t, resized, 'resized from 160x50');
});

t.test('server killed with -9: banner, reconnect', async (t) => {
  const area = makeDashboardArea(t, { slow: GATED, quick: QUICK });
  const runArea = path.join(area, 'runs');
  startBackgroundRun(t, area, 'a');
  // Wide enough for the whole banner, which names the run area.
  const dash = await openDashboard(t, area, [], { width: 250, height: 30 });
  await dash.waitForScreen(
    (s) => ['   1', '   2', '   3'].every((item) => cellsOf(s, item)?.[0] === 'RUN') && cellsOf(s, ' quick')?.[0] === 'PASS',
    SCREEN_WAIT_MS,
    'the items of slow running, quick passed',
  );
  const servers = async () => {
    const list = await trellis(t, area, ['server', 'list', '--json']);
    if (list.code !== 0) throw new Error(`server list exited ${list.code}: ${list.stdout}${list.stderr}`);
    return parseJson<ServerRow[]>(list).filter((s) => s.status === 'live');
  };
  const before = await servers();
  t.equal(before.length, 1, 'one live server', { servers: before });
  const pid = before[0]!.pid;

  // While the test holds the start lock nobody can start a new server: the banner stays up.
  const release = await lockfile.lock(runAreaPaths(runArea).startLockFile, { realpath: false, stale: 30_000 });
  let held = true;
  t.teardown(() => (held ? release() : undefined));
  process.kill(pid, 'SIGKILL');
  await waitUntil(() => !isPidAlive(pid), `server ${pid} gone`);
  const lost = await dash.waitForScreen(
    (s) => line(s, 2).startsWith(' lost the server for '),
    SCREEN_WAIT_MS,
    'the lost-server banner on line 2',
  );
  t.match(
    line(lost, 2),
    new RegExp(`^ lost the server for ${escapeRegExp(runArea)}: .+; reconnecting\\.\\.\\.$`),
    'the banner names the run area',
  );
  t.same(cellsOf(lost, '   1'), ['RUN'], 'the matrix stays');

  held = false;
  await release();
  // The dashboard starts the new server; once it answers, the banner has no reason to stay.
  const deadline = Date.now() + 20_000;
  let fresh: ServerRow[] = [];
  while (fresh.length === 0) {
    fresh = (await servers()).filter((s) => s.pid !== pid);
    if (fresh.length === 0 && Date.now() > deadline) throw new Error('no new live server within 20 s of releasing the start lock');
  }
  const restored = await dash
    .waitForScreen((s) => line(s, 2).startsWith(` ${TARGET} a  running`), SCREEN_WAIT_MS, 'the banner gone, the run line back')
    .then(
      () => true,
      (err: Error) => {
        t.comment(err.message);
        return false;
      },
    );
  // docs/dashboard.md: the banner "goes back when the dashboard has reconnected".
  t.ok(restored, `the banner goes within 5 s of the new server (pid ${fresh[0]?.pid}) answering`);
  openGate(area, 1);
  await dash.waitForScreen(rowIs('   1', 'PASS'), SCREEN_WAIT_MS);
  t.notMatch(line(dash.lastScreen, 2), /^ lost the server/, 'no banner once updates flow again');
  const set = await trellis(t, area, ['set-state-status', ',WAIVED', '-t', TARGET, '-r', 'a', '-p', 'quick']);
  t.equal(set.code, 0, 'set-state-status exits 0', { output: set.stdout + set.stderr });
  await dash.waitForScreen(rowIs(' quick', 'WAIVED'));
  const after = await servers();
  t.same(
    after.map((s) => s.pid),
    [fresh[0]!.pid],
    'one live server, the new one',
  );
});

t.test('bad input: no terminal, a bad -p', async (t) => {
  const area = makeDashboardArea(t, { quick: QUICK });
  assertUserError(t, await trellis(t, area, ['dashboard']), 2, /trellis dashboard needs a terminal/);
  // At a terminal: one line, and nothing else is left on it.
  const pattern = /^trellis: -p: '~' must be followed by a test name/;
  const dash = await openDashboard(t, area, ['-p', '~']);
  const screen = await dash.waitForScreen(EXIT_LINE, SCREEN_WAIT_MS, 'the dashboard to exit');
  const lines = screen.trim().split('\n');
  t.equal(lines.length, 2, 'one line of error, then the exit code', { screen });
  t.match(lines[0], pattern);
  t.equal(lines[1], 'TRELLIS-EXIT=2');
});

/** Header, rows and key line of the quick/flaky area in an 80x24 terminal. */
function checkSmall(t: Test, screen: string, what: string): void {
  const lines = screenLines(screen);
  t.equal(lines.length, 24, `${what}: 24 lines`);
  t.ok(
    lines.every((l) => l.length <= 80),
    `${what}: no line wider than 80`,
  );
  t.match(lines[0], /^trellis dashboard {2}runs {2}1 run +\? help {2}q quit$/, `${what}: the title`);
  t.match(screen, /^run +a$/m, `${what}: the run header`);
  t.same(cellsOf(screen, ' flaky'), ['FAIL'], `${what}: the rows`);
  t.match(lines[21], /^1\/1 runs \(1 on screen\)/, `${what}: the summary on line 22`);
  t.match(lines[22], /^PASS FAIL WARN/, `${what}: the legend on line 23`);
  t.match(lines[23], KEY_HINTS, `${what}: the key line on line 24`);
}

/** The SGR codes of captured text: colour codes (30–37, 40–47, 90–97, 100–107, 38;…, 48;…) and the others. */
function sgrOf(text: string): { colours: string[]; attributes: string[] } {
  const colours: string[] = [];
  const attributes: string[] = [];
  for (const m of text.matchAll(/\x1b\[([0-9;:]*)m/g)) {
    const params = m[1]!.split(/[;:]/);
    for (let i = 0; i < params.length; i++) {
      const n = Number(params[i]);
      if (n === 38 || n === 48) {
        const more = params[i + 1] === '5' ? 2 : params[i + 1] === '2' ? 4 : 0;
        colours.push(params.slice(i, i + 1 + more).join(';'));
        i += more;
      } else if ((n >= 30 && n <= 37) || (n >= 40 && n <= 47) || (n >= 90 && n <= 97) || (n >= 100 && n <= 107)) {
        colours.push(String(n));
      } else attributes.push(params[i]!);
    }
  }
  return { colours, attributes };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
