/**
 * Choosing launchers from their words (--launcher, [jobtools], Megatest's flexi-launcher), every
 * bad word as one line naming the config line or option, the job spec's checks, and the quoting
 * of the command lines Trellis writes for a shell.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { loadArea } from '../../src/config/area.js';
import { readJobSpec, validateJobSpec } from '../../src/runner/job-spec.js';
import { chooseLaunchers, parseWords } from '../../src/runner/launchers.js';
import { wrapWithStepFiles } from '../../src/runner/step-process.js';
import { jobSpecFile, readStepGroup, stepGroupFile } from '../../src/store/job-files.js';
import type { TrellisError } from '../../src/util/errors.js';
import { parseProcStat } from '../../src/util/process-info.js';
import { shellQuote } from '../../src/util/shell-quote.js';

/** An area whose trellis.config is `config`, with a PATH that has `bins` (empty scripts). */
function area(t: { testdir(): string }, config: string, bins: string[] = []) {
  const dir = t.testdir();
  fs.writeFileSync(path.join(dir, 'trellis.config'), `[fields]\nOS\n\n${config}`);
  fs.writeFileSync(path.join(dir, 'runconfigs.config'), '[linux]\n');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  for (const b of bins) fs.writeFileSync(path.join(bin, b), '#!/bin/sh\n', { mode: 0o755 });
  const env = { PATH: `${bin}:/nonexistent` };
  return { area: loadArea(dir, { env, cpus: 2 }), env, dir };
}

const warnings: string[] = [];
const opts = (env: Record<string, string>) => ({ direct: false, warn: (m: string) => warnings.push(m), env });

t.test('words: local, slurm with options, ssh hosts and groups, #MTLOWESTLOAD, a command', async (t) => {
  const { area: a, env } = area(t, '[hosts]\nbuild b1 b2\ngpu g1\n', ['sbatch', 'squeue', 'scancel', 'ssh', 'bsub']);
  const w = (text: string) => parseWords(a, text, { option: '--launcher' }, opts(env));
  t.same(w('local'), { kind: 'local', words: 'local' });
  t.same(w(''), { kind: 'local', words: 'local' });
  t.same(w('slurm --exclusive --qos=hi'), { kind: 'slurm', words: 'slurm --exclusive --qos=hi', sbatch: ['--exclusive', '--qos=hi'] });
  t.same(w('ssh h1 h2 h1'), { kind: 'ssh', words: 'ssh h1 h2 h1', hosts: ['h1', 'h2'] }, 'each host once, in order');
  t.same(w('ssh @build h9').kind === 'ssh' && (w('ssh @build h9') as { hosts: string[] }).hosts, ['b1', 'b2', 'h9']);
  t.same((w('ssh') as { hosts: string[] }).hosts, ['b1', 'b2', 'g1'], 'plain ssh: every [hosts] line');
  t.same((w('#MTLOWESTLOAD b1 g1') as { kind: string; hosts: string[] }).hosts, ['b1', 'g1']);
  t.same(w('bsub -q normal -o $MT_TEST_RUN_DIR/out'), { kind: 'command', words: 'bsub -q normal -o $MT_TEST_RUN_DIR/out' });
  t.same(w('$SITE_LAUNCHER --fast'), { kind: 'command', words: '$SITE_LAUNCHER --fast' }, 'a variable is resolved by the shell, later');
});

t.test('bad words: one line each, naming the option or the config line', async (t) => {
  const { area: a, env } = area(t, '[jobtools]\nlauncher qsub -V\n\n[hosts]\nempty\n', ['ssh']);
  const err = (f: () => unknown): TrellisError => {
    try {
      f();
    } catch (e) {
      return e as TrellisError;
    }
    throw new Error('no error');
  };
  const viaOption = (text: string) => err(() => parseWords(a, text, { option: '--launcher' }, opts(env)));
  const cases: Array<[string, RegExp]> = [
    ['slurm', /^--launcher 'slurm': sbatch is not on PATH$/],
    ['ssh', /no hosts to ssh to/],
    ['ssh @nope', /\[hosts\] has no line 'nope'/],
    ['ssh -oProxyCommand=x', /'-oProxyCommand=x' is not a host name/],
    ['ssh #{getbgesthost general}', /Megatest directive Trellis cannot evaluate/],
    ['local extra', /the local launcher takes no words/],
    ['not-a-command arg', /'not-a-command' is not a command on PATH/],
  ];
  for (const [text, re] of cases) {
    const e = viaOption(text);
    t.equal(e.code, 'LAUNCHER', text);
    t.match(e.message, re, text);
    t.notMatch(e.message, /\n/, 'one line');
  }
  const fromConfig = err(() => chooseLaunchers(a, undefined, opts(env)));
  t.equal(fromConfig.code, 'LAUNCHER');
  t.match(fromConfig.message, /trellis\.config:5: 'qsub' is not a command on PATH/);
  t.equal(fromConfig.exitCode, 3);
});

t.test('nbfake and nbfind that are not installed run locally, with one note', async (t) => {
  const { area: a, env } = area(t, '');
  warnings.length = 0;
  t.same(parseWords(a, 'nbfake', { option: '--launcher' }, opts(env)), { kind: 'local', words: 'local' });
  t.same(warnings, ["launcher 'nbfake': nbfake is not installed here; running the tests on this host (as --launcher local)"]);
  const { area: b, env: env2 } = area(t, '', ['nbfake']);
  t.same(parseWords(b, 'nbfake', { option: '--launcher' }, opts(env2)), { kind: 'command', words: 'nbfake' }, 'installed: used as it is');
});

t.test('a remote launcher with --direct is refused; local is fine', async (t) => {
  const { area: a, env } = area(t, '', ['ssh']);
  t.equal(chooseLaunchers(a, 'local', { ...opts(env), direct: true }).fallback.kind, 'local');
  t.throws(() => chooseLaunchers(a, 'ssh h1', { ...opts(env), direct: true }), { code: 'LAUNCHER', message: /which --direct bypasses/ });
});

t.test('flexi-launcher: the first [launchers] pattern picks the host type; --launcher turns it off', async (t) => {
  const { area: a, env } = area(
    t,
    '[jobtools]\nflexi-launcher yes\nlauncher local\n\n[launchers]\nenvsetup general\nxor/%/n bigmem\n\n[host-types]\ngeneral #MTLOWESTLOAD b1 b2\nbigmem bsub -q big\n',
    ['ssh', 'bsub'],
  );
  const choice = chooseLaunchers(a, undefined, opts(env));
  t.equal(choice.fallback.kind, 'local');
  const missing = area(t, '[jobtools]\nflexi-launcher yes\n\n[launchers]\n% nbgeneral\n', []);
  t.throws(() => chooseLaunchers(missing.area, undefined, opts(missing.env)), {
    code: 'CONFIG_VALUE',
    message: /trellis\.config:8: \[launchers\] % names host type 'nbgeneral', which \[host-types\] does not define/,
  });
  t.equal(chooseLaunchers(a, 'local', opts(env)).fallback.kind, 'local', '--launcher wins');
});

t.test('job spec: checked field by field; never a work folder outside its run area', async (t) => {
  const dir = t.testdir();
  const runArea = path.join(dir, 'runs');
  const workDir = path.join(runArea, 'linux', 'r', 'a');
  fs.mkdirSync(workDir, { recursive: true });
  const good = {
    version: 1,
    kind: 'remote',
    launchId: 'L',
    launcher: 'ssh',
    runArea,
    areaDir: dir,
    runId: 1,
    testId: 2,
    target: 'linux',
    runname: 'r',
    testname: 'a',
    itempath: '',
    workDir,
    shell: '/bin/sh',
    who: 'me@h',
    force: false,
    deadtime: 60,
    env: { A: '1' },
    def: {
      name: 'a',
      dir,
      configFile: 'x',
      steps: [{ name: 's', command: 'true', loc: { file: 'x', line: 1 } }],
      skip: {},
      triggers: [],
      runtimelim: null,
    },
  };
  const file = jobSpecFile(workDir);
  t.equal(validateJobSpec(good, file).testId, 2);
  const bad: Array<[object, RegExp]> = [
    [{ ...good, version: 2 }, /is not a version 1 remote job spec/],
    [{ ...good, workDir: runArea }, /outside its run area/],
    [{ ...good, workDir: path.join(runArea, '..', 'elsewhere') }, /outside its run area/],
    [{ ...good, runId: 0 }, /no valid 'runId'/],
    [{ ...good, shell: 'sh' }, /'shell' that is not an absolute path/],
    [{ ...good, env: { A: 1 } }, /no valid 'env'/],
    [{ ...good, def: { ...good.def, steps: [{ name: '', command: 'x', loc: { file: 'x', line: 1 } }] } }, /no valid 'def\.steps'/],
  ];
  for (const [spec, re] of bad) t.throws(() => validateJobSpec(spec, file), { code: 'BAD_JOB', message: re });
  t.throws(() => validateJobSpec(good, path.join(dir, 'other.json')), {
    code: 'BAD_JOB',
    message: /is not the spec of its own work folder/,
  });
  await t.rejects(
    readJobSpec(path.join(workDir, 'missing.json'), 300, async () => undefined),
    { code: 'BAD_JOB', message: /does not exist/ },
  );
  fs.mkdirSync(path.join(workDir, 'dir.json'));
  await t.rejects(readJobSpec(path.join(workDir, 'dir.json'), 0), { code: 'BAD_JOB', message: /is not a regular file/ });
  // A spec that appears a moment late (NFS): read once it is there.
  let tries = 0;
  const late = readJobSpec(file, 10_000, async () => {
    if (++tries === 3) fs.writeFileSync(file, JSON.stringify(good));
  });
  t.equal((await late).launchId, 'L');
});

t.test("quoting: words survive the shell whatever they hold; the step files wrapper keeps the command's code", async (t) => {
  for (const word of ['plain', 'with space', "it's", '$HOME', '`x`', '-n', '', 'a\nb', '"q"', 'tab\there']) {
    const out = execFileSync('/bin/sh', ['-c', `printf %s ${shellQuote(word)}`], { encoding: 'utf8' });
    t.equal(out, word, JSON.stringify(word));
  }
  const dir = t.testdir();
  for (const [command, code] of [
    ['exit 3', 3],
    ['true # a comment', 0],
    ['(exit 2)', 2],
  ] as const) {
    const exitFile = path.join(dir, `it's ${code}.exit`);
    let status = 0;
    try {
      execFileSync('/bin/bash', ['-c', wrapWithStepFiles(command, { exit: exitFile, group: path.join(dir, 'group') })]);
    } catch (e) {
      status = (e as { status: number }).status;
    }
    t.equal(status, code, `${command}: the code passes through`);
    t.equal(fs.readFileSync(exitFile, 'utf8'), `${code}\n`, `${command}: and is written`);
  }
  // The shell writes its own /proc stat line (its pid: `$$`, in the subshell too) before the command runs.
  for (const shell of ['/bin/sh', '/bin/bash']) {
    const files = { exit: path.join(dir, 'g.exit'), group: path.join(dir, `it's ${path.basename(shell)}.group`) };
    const seen = path.join(dir, `${path.basename(shell)}.seen`);
    const command = `cat ${shellQuote(files.group)} > ${shellQuote(seen)}; echo $$ >> ${shellQuote(seen)}`;
    execFileSync(shell, ['-c', wrapWithStepFiles(command, files)]);
    const [line, pid] = fs.readFileSync(seen, 'utf8').trim().split('\n');
    t.equal(parseProcStat(line!)?.pid, Number(pid), `${shell}: the group file names the shell, before the command runs`);
  }
  // Read back: a stat line of a group's leader, a bare pid (no /proc), nothing else.
  const write = (text: string) => fs.writeFileSync(stepGroupFile(dir, 's'), text);
  write('4243 (s h)) S 1 4243 4243 0 -1 0 0 0 0 0 0 0 0 0 0 0 0 0 8 0 0\n');
  t.same(readStepGroup(dir, 's'), { pid: 4243, procStart: 8 });
  write('4243\n');
  t.same(readStepGroup(dir, 's'), { pid: 4243, procStart: null });
  write('4243 (sh) S 1 4000 4000 0 -1 0 0 0 0 0 0 0 0 0 0 0 0 0 8 0 0\n');
  t.equal(readStepGroup(dir, 's'), undefined, 'a shell that does not lead its group');
  write('4243 (sh) S 1 4243 4243 0');
  t.equal(readStepGroup(dir, 's'), undefined, 'cut short');
});
