/**
 * Shell completion in real shells in a real terminal: bash and zsh in tmux load the script
 * `trellis completion` prints, and Tab completes commands, options, targets, run names and test
 * names from the area (a run made with --direct, so no server is involved).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import t, { type Test } from 'tap';
import { makeArea } from '../helpers/area.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { TmuxSession, SCREEN_WAIT_MS } from '../helpers/tmux.js';

const binDir = path.join(repoRoot, 'bin');

async function areaWithRun(t: Test): Promise<string> {
  const area = makeArea(t, { tests: { compile: '[ezsteps]\nc true\n', unit: '[ezsteps]\nu true\n' } });
  const r = await runCli(t, ['run', '--direct', '-t', 'linux/x86_64', '-r', 'nightly-7'], { cwd: area });
  t.equal(r.code, 0, 'a run to complete the name of');
  return area;
}

/** Starts `shell` in tmux in `area`, with bin/ on PATH and the completion script loaded. */
async function shellWithCompletion(t: Test, shell: 'bash' | 'zsh', area: string) {
  const command = shell === 'bash' ? ['bash', '--norc', '--noprofile', '-i'] : ['zsh', '-f', '-i'];
  const session = await TmuxSession.start(t, {
    command,
    cwd: area,
    env: { PATH: `${binDir}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, HOME: area, TERM: 'xterm', PS1: '$ ', PROMPT: '$ ' },
  });
  const load =
    shell === 'bash' ? 'source <(trellis completion bash)' : 'autoload -U compinit && compinit -u && source <(trellis completion zsh)';
  await session.type(`${load}; echo loaded-$?`);
  await session.keys('Enter');
  await session.waitForScreen(/^loaded-0$/m, SCREEN_WAIT_MS, 'the completion script to load');
  await session.type('clear');
  await session.keys('Enter');
  await session.waitForScreen((s) => !/loaded-0/.test(s), SCREEN_WAIT_MS, 'a clear screen');
  return session;
}

/** Types `text`, presses Tab, and waits for the line to read `expected`; then clears the line. */
async function expectCompletion(session: TmuxSession, text: string, expected: RegExp): Promise<void> {
  await session.type(text);
  await session.keys('Tab');
  await session.waitForScreen(expected, SCREEN_WAIT_MS, `${text}<Tab> to give ${String(expected)}`);
  await session.keys('C-u');
  await session.type('clear');
  await session.keys('Enter');
  await session.waitForScreen((s) => s.trim() === '$', SCREEN_WAIT_MS, 'a clear screen');
}

for (const shell of ['bash', 'zsh'] as const) {
  t.test(`${shell}: Tab completes commands, options and names from the area`, async (t) => {
    const area = await areaWithRun(t);
    const session = await shellWithCompletion(t, shell, area);
    await expectCompletion(session, 'trellis ru', /^\$ trellis run ?$/m);
    await expectCompletion(session, 'trellis run --rerun-c', /^\$ trellis run --rerun-clean ?$/m);
    await expectCompletion(session, 'trellis list tests -t linux/x', /^\$ trellis list tests -t linux\/x86_64 ?$/m);
    await expectCompletion(session, 'trellis show -t linux/x86_64 -r nightly', /^\$ trellis show -t linux\/x86_64 -r nightly-7 ?$/m);
    await expectCompletion(session, 'trellis show com', /^\$ trellis show compile ?$/m);
  });
}

t.test('__complete prints one candidate a line, and nothing (exit 0) outside an area', async (t) => {
  const area = await areaWithRun(t);
  const inArea = await runCli(t, ['__complete', '--', 'show', '-t', 'linux/x86_64', '-r', ''], { cwd: area });
  t.same(inArea, { code: 0, signal: null, stdout: 'nightly-7\n', stderr: '' });
  const outside = await runCli(t, ['__complete', '--', 'run', '-t', ''], { cwd: t.testdir() });
  t.same(outside, { code: 0, signal: null, stdout: '', stderr: '' });
  const help = execFileSync(process.execPath, [path.join(binDir, 'trellis.js'), '--help'], { encoding: 'utf8' });
  t.notMatch(help, /__complete/, 'the helper is not in the help');
  t.match(help, /trellis completion <shell>/);
});
