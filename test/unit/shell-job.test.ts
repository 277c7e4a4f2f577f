/**
 * The shell job of the Slurm launcher (runner/shell-job.ts): which jobs it can run without exec,
 * and its script, run here by a real /bin/sh as a Slurm node would (no Slurm needed): the claim,
 * the steps in order with their logs and exit files, the area's exit-code rule, hostile names and
 * values, and a TERM that leaves no exit file.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { TestDefinition } from '../../src/config/types.js';
import { continuingCodes, needsExec, SHELL_JOB, shellJobScript } from '../../src/runner/shell-job.js';

function def(steps: Array<{ name: string; command: string; manual?: boolean }>, rules: string[] = []): TestDefinition {
  return {
    steps: steps.map((s) => ({ ...s, loc: { file: 'testconfig', line: 1 } })),
    runscript: undefined,
    logRules: new Map(rules.map((r) => [r, {} as never])),
  } as unknown as TestDefinition;
}

const inputs = { params: { VERSION: '1.0' }, producers: {} };

t.test('which jobs need exec on the node', async (t) => {
  const job = (d: TestDefinition, more: Partial<Parameters<typeof needsExec>[0]> = {}) =>
    needsExec({ def: d, startAt: 0, exitCodes: 'trellis', inputs, ...more });
  t.equal(
    job(
      def([
        { name: 'a', command: 'make {VERSION}' },
        { name: 'b', command: 'echo {build:x}' },
      ]),
    ),
    undefined,
    'parameters and producers: no',
  );
  t.match(
    job(
      def([
        { name: 'a', command: 'true' },
        { name: 'b', command: 'echo {made}' },
      ]),
    ),
    /step b uses \{made\}, a value of its own test/,
  );
  t.match(job(def([{ name: 'a', command: 'make' }], ['a'])), /step a has log rules/);
  t.match(job(def([{ name: 'ok', command: 'check', manual: true }])), /step ok is a manual step/);
  t.match(job(def([{ name: 'a', command: 'true' }]), { exitCodes: 'megatest' }), /Megatest area/);
  t.equal(
    job(
      def([
        { name: 'ok', command: 'check', manual: true },
        { name: 'b', command: 'true' },
      ]),
      { startAt: 1 },
    ),
    undefined,
    'after the sign-off: no',
  );
});

t.test("the exit-code rule: Trellis' areas go on after PASS and WARN only", async (t) => {
  const codes = continuingCodes('trellis');
  t.ok(codes.includes(0) && !codes.includes(1), `${codes.join(',')}`);
  t.same(continuingCodes('megatest'), [0]);
});

function writeScript(dir: string, steps: Array<{ name: string; command: string }>, env: Record<string, string> = {}): string {
  const file = path.join(dir, SHELL_JOB.script);
  fs.writeFileSync(
    file,
    shellJobScript({ label: 'x/y', workDir: dir, env, steps, shell: '/bin/sh', continuing: continuingCodes('trellis') }),
    { mode: 0o750 },
  );
  return file;
}

t.test('the script runs its steps in order, with logs and exit files, and stops after a failing one', async (t) => {
  const dir = path.join(t.testdir(), "work 'dir' $x");
  fs.mkdirSync(dir);
  const hostile = 'it\'s $HOME `id` "q" \\ \n newline';
  const script = writeScript(
    dir,
    [
      { name: 'one', command: 'echo "$GREETING"; echo err >&2' },
      { name: 'two step', command: '( exit 2 )' },
      { name: 'three', command: 'pwd; exit 1' },
      { name: 'four', command: 'echo never' },
    ],
    { GREETING: hostile, 'BAD-NAME': 'x' },
  );
  const r = spawnSync('/bin/sh', [script], { encoding: 'utf8', env: { PATH: process.env['PATH'], SLURMD_NODENAME: 'node7' } });
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.readFileSync(path.join(dir, 'one.log'), 'utf8'), `${hostile}\nerr\n`, 'the value exactly, stdout and stderr in the log');
  t.equal(fs.readFileSync(path.join(dir, 'one.exit'), 'utf8'), '0\n');
  t.equal(fs.readFileSync(path.join(dir, 'two%20step.exit'), 'utf8'), '2\n', 'WARN goes on');
  t.equal(fs.readFileSync(path.join(dir, 'three.log'), 'utf8'), `${dir}\n`, 'steps run in the work folder');
  t.equal(fs.readFileSync(path.join(dir, 'three.exit'), 'utf8'), '1\n');
  t.notOk(fs.existsSync(path.join(dir, 'four.log')), 'FAIL ends the job');
  t.equal(fs.readFileSync(path.join(dir, SHELL_JOB.started), 'utf8'), 'node7\n');
  // A second run of the same script (a requeued job) runs nothing.
  fs.rmSync(path.join(dir, 'one.log'));
  const again = spawnSync('/bin/sh', [script], { encoding: 'utf8' });
  t.equal(again.status, 0);
  t.match(again.stderr, /this job ran here before/);
  t.notOk(fs.existsSync(path.join(dir, 'one.log')));
});

t.test('TERM (scancel) ends the job: the step it stopped leaves no exit file', async (t) => {
  const dir = t.testdir();
  const script = writeScript(dir, [
    { name: 'hang', command: 'echo $$ > started; sleep 1000 & wait' },
    { name: 'after', command: 'true' },
  ]);
  // Its own process group, as a Slurm job's: TERM goes to all of it.
  const child = spawn('/bin/sh', [script], { detached: true, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  while (!fs.existsSync(path.join(dir, 'started'))) await new Promise((r) => setTimeout(r, 20));
  process.kill(-child.pid!, 'SIGTERM');
  await exited;
  t.notOk(fs.existsSync(path.join(dir, 'hang.exit')), 'no exit file for a stopped step');
  t.notOk(fs.existsSync(path.join(dir, 'after.log')), 'and nothing after it');
});
