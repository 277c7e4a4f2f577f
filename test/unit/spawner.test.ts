/**
 * The spawner (runner/spawner.ts) and the step processes that go through it (step-process.ts):
 * a step starts in a process group of its own with exactly its environment (differences from the
 * step before, removals included), SIGINT and SIGQUIT at their defaults, its output in its log;
 * exit codes and signals come back as Node gives them; a stop reaches the whole group, even one
 * asked for before the pid was known; what cannot start says why; Node's own spawn does the same
 * with TRELLIS_SPAWNER=node.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Spawner, type SpawnWord } from '../../src/runner/spawner.js';
import { StepProcess } from '../../src/runner/step-process.js';

/** Runs one request through the spawner; resolves with every word it said. */
function runOne(sp: Spawner, req: { args: string[]; cwd: string; env: Record<string, string>; logfile: string }): Promise<SpawnWord[]> {
  return new Promise((resolve) => {
    const words: SpawnWord[] = [];
    const started = sp.start({
      shell: '/bin/sh',
      ...req,
      onWord: (w) => {
        words.push(w);
        if (w.kind !== 'started') resolve(words);
      },
    });
    if (!started) resolve([{ kind: 'failed', why: 'not taken' }]);
  });
}

t.test('a step gets its own group, exactly its environment, default signals, its log', async (t) => {
  const dir = t.testdir();
  const sp = new Spawner();
  t.teardown(() => sp.close());
  const probe = 'echo "pid $$"; ps -o pgid= -p $$; grep SigIgn /proc/$$/status; echo "A=${A-unset} B=${B-unset} C=${C-unset}"; pwd; exit 3';
  const log1 = path.join(dir, 'one.log');
  const words = await runOne(sp, {
    args: ['-c', probe],
    cwd: dir,
    env: { A: 'it is "a"\nline two', B: 'b', PATH: '/usr/bin:/bin' },
    logfile: log1,
  });
  t.match(words, [
    { kind: 'started', pid: Number },
    { kind: 'exited', code: 3, signal: null },
  ]);
  const out = fs.readFileSync(log1, 'utf8').split('\n');
  const pid = (words[0] as { pid: number }).pid;
  t.equal(out[0], `pid ${pid}`, 'the pid said is the step shell');
  t.equal(Number(out[1]), pid, 'which leads its own process group');
  t.equal(out[2], 'SigIgn:\t0000000000000000', 'no signal ignored (a background job of a shell would ignore INT and QUIT)');
  t.equal(out[3], 'A=it is "a"', 'values arrive whole');
  t.equal(out[4], 'line two B=b C=unset');
  t.equal(out[5], dir, 'in its work folder');
  // the next request says only what differs: B removed, C added, A kept
  const log2 = path.join(dir, 'two.log');
  await runOne(sp, { args: ['-c', probe], cwd: dir, env: { A: 'it is "a"\nline two', C: 'c', PATH: '/usr/bin:/bin' }, logfile: log2 });
  t.match(fs.readFileSync(log2, 'utf8'), /A=it is "a"\nline two B=unset C=c/);
});

t.test('what cannot start says why', async (t) => {
  const dir = t.testdir();
  const sp = new Spawner();
  t.teardown(() => sp.close());
  t.match(await runOne(sp, { args: ['-c', 'true'], cwd: path.join(dir, 'gone'), env: {}, logfile: path.join(dir, 'a.log') }), [
    { kind: 'failed', why: /ENOENT/ },
  ]);
  t.match(await runOne(sp, { args: ['-c', 'true'], cwd: dir, env: {}, logfile: path.join(dir, 'no', 'such', 'a.log') }), [
    { kind: 'failed', why: /ENOENT/ },
  ]);
});

t.test('a spawner killed while its step runs: the step goes on and its end is still told (as killed)', async (t) => {
  const dir = t.testdir();
  const go = path.join(dir, 'go');
  const files = { exit: path.join(dir, 'x.exit'), group: path.join(dir, 'x.group') };
  const step = new StepProcess({
    command: `while [ ! -e ${go} ]; do sleep 0.05; done; exit 5`,
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    logfile: path.join(dir, 'x.log'),
    shell: '/bin/sh',
    files,
  });
  const pid = (await step.started)!;
  const helper = Number(/^\d+ \(.*\) \S (\d+)/.exec(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1]);
  t.match(fs.readFileSync(`/proc/${helper}/cmdline`, 'utf8'), /-e/, "the step's parent is the spawner");
  process.kill(helper, 'SIGKILL');
  fs.writeFileSync(go, '');
  // Only the spawner could have read its code: without it, the step counts as killed.
  t.same(await step.exited, { code: null, signal: 'SIGKILL', stopReason: null }, 'its end told');
  t.notOk(fs.existsSync(files.exit), 'no exit file: nobody was left to write it');
  // the next step starts without it
  const next = new StepProcess({ command: 'exit 4', cwd: dir, env: {}, logfile: path.join(dir, 'y.log'), shell: '/bin/sh' });
  t.equal((await next.exited).code, 4);
});

t.test("the spawner keeps a step's files: its group before its pid is said, its exit code unless stopped", async (t) => {
  const dir = t.testdir();
  const sp = new Spawner();
  const filesOf = (name: string) => ({ group: path.join(dir, `${name}.group`), exit: path.join(dir, `${name}.exit`) });
  const go = path.join(dir, 'go');
  const run = (name: string, command: string, onStarted?: (pid: number, id: number) => void) =>
    new Promise<{ words: SpawnWord[]; id: number | undefined }>((resolve) => {
      const words: SpawnWord[] = [];
      const id = sp.start({
        shell: '/bin/sh',
        args: ['-c', command],
        cwd: dir,
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
        logfile: path.join(dir, `${name}.log`),
        files: filesOf(name),
        onWord: (w) => {
          words.push(w);
          // Words come in later turns: the id is known by then.
          if (w.kind === 'started') onStarted?.(w.pid, id!);
          else resolve({ words, id });
        },
      });
      t.type(id, 'number');
    });
  let groupAtStart = '';
  const plain = await run('plain', 'exit 3', () => {
    groupAtStart = fs.readFileSync(filesOf('plain').group, 'utf8');
  });
  const pid = (plain.words[0] as { pid: number }).pid;
  t.match(
    groupAtStart,
    new RegExp(`^${pid} \\(sh\\) . \\d+ ${pid} `),
    'its /proc stat line, leading its own group, before the pid was said',
  );
  t.equal(fs.readFileSync(filesOf('plain').exit, 'utf8'), '3\n', 'its exit code');
  t.match(plain.words[1], { kind: 'exited', code: 3, signal: null });

  // Ended by a signal: not an end of its own (a reaper's KILL looks the same), no exit file.
  const signalled = await run('signalled', 'kill -9 $$');
  t.match(signalled.words[1], { kind: 'exited', code: null, signal: 'SIGKILL' });
  t.notOk(fs.existsSync(filesOf('signalled').exit));

  // Stopped by the runner (told first, then the signal): no exit file, the signal as it came.
  const stopped = await run('stopped', "trap 'exit 0' TERM; while :; do sleep 0.05; done", (p, id) => {
    sp.stopping(id);
    process.kill(-p, 'SIGTERM');
  });
  t.match(stopped.words[1], { kind: 'exited' });
  t.notOk(fs.existsSync(filesOf('stopped').exit), 'a stopped step leaves no exit file, even one that exits 0 on TERM');

  // The runner gone (its end of the pipe closed) while a step runs: the step's exit file is still written.
  const last = run('last', `while [ ! -e ${go} ]; do sleep 0.05; done; exit 6`);
  while (!fs.existsSync(filesOf('last').group)) await new Promise((r) => setTimeout(r, 20));
  const closed = sp.close();
  fs.writeFileSync(go, '');
  await closed;
  t.equal(fs.readFileSync(filesOf('last').exit, 'utf8'), '6\n', 'written before the helper ended');
  await last;
});

for (const how of ['spawner', 'node'] as const) {
  t.test(`step processes through ${how === 'node' ? "Node's spawn" : 'the spawner'}: codes, signals, stops`, async (t) => {
    const dir = t.testdir();
    if (how === 'node') {
      process.env['TRELLIS_SPAWNER'] = 'node';
      t.teardown(() => delete process.env['TRELLIS_SPAWNER']);
    }
    const step = (command: string, name: string) =>
      new StepProcess({
        command,
        cwd: dir,
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
        logfile: path.join(dir, `${name}.log`),
        shell: '/bin/sh',
      });

    const ok = step('echo hi; exit 7', 'ok');
    t.type(await ok.started, 'number');
    t.same(await ok.exited, { code: 7, signal: null, stopReason: null });
    t.equal(fs.readFileSync(path.join(dir, 'ok.log'), 'utf8'), 'hi\n');

    const killed = step('kill -9 $$', 'killed');
    t.same(await killed.exited, { code: null, signal: 'SIGKILL', stopReason: null });

    // stopped at once, before its pid can be known: the TERM waits for it
    const early = step('sleep 600', 'early');
    t.match(await early.stop('enough', 60_000), { stopReason: 'enough', signal: 'SIGTERM' });

    // a stop reaches the whole group
    const marker = path.join(dir, 'child.pid');
    const slow = step(`sleep 600 & echo $! > ${marker}.tmp && mv ${marker}.tmp ${marker}; wait`, 'slow');
    while (!fs.existsSync(marker)) await new Promise((r) => setTimeout(r, 20));
    const child = Number(fs.readFileSync(marker, 'utf8'));
    t.match(await slow.stop('enough', 60_000), { stopReason: 'enough', signal: 'SIGTERM' });
    // gone, or a zombie until whoever adopted it reaps it
    const running = () => {
      try {
        return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${child}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    // the KILL is sent; the child is gone once the kernel has delivered it
    while (running()) await new Promise((r) => setTimeout(r, 20));
    t.pass('its child went with it');

    const missing = new StepProcess({
      command: 'true',
      cwd: dir,
      env: {},
      logfile: path.join(dir, 'm.log'),
      shell: path.join(dir, 'no-shell'),
    });
    t.equal((await missing.exited).code, 127);
    t.match(fs.readFileSync(path.join(dir, 'm.log'), 'utf8'), /could not start the step: .*ENOENT/);
  });
}
