import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import {
  findAreaDir,
  listTargets,
  loadArea,
  parseDuration,
  readRunconfigs,
  resolveTarget,
  runconfigValues,
} from '../../src/config/area.js';

const ENV = { PATH: '/usr/bin:/bin' };
const FIELDS = '[fields]\nOS TEXT\nARCH TEXT\n';
const load = (dir: string, extra: Partial<Parameters<typeof loadArea>[1]> = {}) => loadArea(dir, { env: ENV, cpus: 3, ...extra });

t.test('findAreaDir searches the folder and its parents', async (t) => {
  const dir = t.testdir({
    outer: { 'megatest.config': '', mid: { 'trellis.config': '', 'megatest.config': '', deep: { x: {} } } },
    lone: {},
  });
  t.equal(findAreaDir(path.join(dir, 'outer', 'mid', 'deep', 'x')), path.join(dir, 'outer', 'mid'), 'the nearest area wins');
  t.equal(findAreaDir(path.join(dir, 'outer')), path.join(dir, 'outer'), 'megatest.config is enough');
  t.equal(findAreaDir(dir, 'outer/mid'), path.join(dir, 'outer', 'mid'), '--area relative to cwd');
  t.throws(() => findAreaDir(dir, 'lone'), {
    code: 'NO_AREA',
    message: /--area lone: .*lone has no trellis\.config or megatest\.config/,
    hint: 'run in a test area, pass --area DIR, or create one with `trellis init`',
  });
  t.throws(() => findAreaDir('/'), { code: 'NO_AREA', message: /no trellis\.config or megatest\.config in \/ or its parents/ });
});

t.test('loadArea: defaults', async (t) => {
  const dir = t.testdir({ 'trellis.config': '' });
  const area = load(dir);
  t.equal(area.dir, dir);
  t.equal(area.configFile, path.join(dir, 'trellis.config'));
  t.same(area.fields, []);
  t.equal(area.runArea, path.join(dir, 'runs'));
  t.same(area.setup, {
    maxConcurrentJobs: 3,
    runtimelim: null,
    deadtime: 60,
    reqtarg: null,
    approvers: null,
    admins: null,
    identity: 'optional',
  });
  t.same(area.server, {
    idleTimeout: 600,
    portRange: null,
    advertise: undefined,
    bind: undefined,
    logLevel: 'info',
    logMaxBytes: 10 * 1024 * 1024,
    logFiles: 5,
  });
  t.equal(area.jobgroups.size, 0);
  t.equal(area.launcher, undefined);
  t.same(area.envOverride, []);
  t.same(area.testNames, []);
  t.same(area.runconfigs.sectionNames(), [], 'a missing runconfigs.config is an empty config');
  t.ok(Object.isFrozen(area));
});

t.test('loadArea: every setting', async (t) => {
  const dir = t.testdir({
    'trellis.config': [
      FIELDS,
      '[setup]',
      'max_concurrent_jobs 8',
      'runtimelim 1h 30m',
      'deadtime 2m',
      'reqtarg yes',
      'home #{getenv MT_RUN_AREA_HOME}',
      '[jobtools]',
      'launcher ssh #{getenv HOSTNAME}',
      '[jobgroups]',
      'heavy 2',
      'light 10',
      '[env-override]',
      'TOOLS $HOME/tools',
      '[server]',
      'idle_timeout 5m',
      'port_range 8080 - 8099',
      'advertise login1',
      'bind 0.0.0.0',
      '[mine]',
      'kept yes',
    ].join('\n'),
    'runconfigs.config': '[default]\nA 1\n',
    tests: {
      b: { testconfig: '' },
      a: { testconfig: '' },
      nothere: { 'readme.txt': '' },
      '.hidden': { testconfig: '' },
    },
  });
  const area = load(dir, { env: { ...ENV, HOSTNAME: 'h1' } });
  t.same(area.fields, ['OS', 'ARCH']);
  t.same(area.setup, {
    maxConcurrentJobs: 8,
    runtimelim: 5400,
    deadtime: 120,
    reqtarg: { file: path.join(dir, 'trellis.config'), line: 9 },
    approvers: null,
    admins: null,
    identity: 'optional',
  });
  t.equal(area.config.text('setup', 'home'), dir, 'MT_RUN_AREA_HOME is set while reading');
  t.equal(area.launcher, 'ssh h1');
  t.same(
    [...area.jobgroups],
    [
      ['heavy', 2],
      ['light', 10],
    ],
  );
  t.same(
    area.envOverride.map(([k, v]) => [k, v.text]),
    [['TOOLS', '$HOME/tools']],
    '$VAR is not expanded at read time',
  );
  t.match(area.server, { idleTimeout: 300, portRange: [8080, 8099], advertise: 'login1', bind: '0.0.0.0' });
  t.equal(area.config.text('mine', 'kept'), 'yes');
  t.equal(area.runconfigs.text('default', 'A'), '1');
  t.same(area.testNames, ['a', 'b']);
});

t.test('loadArea: megatest.config when there is no trellis.config', async (t) => {
  const dir = t.testdir({ 'megatest.config': '[setup]\nmax_concurrent_jobs 2\n' });
  const area = load(dir);
  t.equal(area.configFile, path.join(dir, 'megatest.config'));
  t.equal(area.setup.maxConcurrentJobs, 2);
  t.throws(() => load(path.join(dir, 'nope')), { code: 'NO_AREA' });
});

t.test('loadArea: run area precedence', async (t) => {
  const dir = t.testdir({
    both: { 'trellis.config': '[setup]\nrunarea ../setup-runs\n[disks]\ndisk0 /scratch/disk0\ndisk1 /scratch/disk1\n' },
    disks: { 'trellis.config': '[disks]\ndisk0 rel/disk0\ndisk1 /scratch/disk1\n' },
  });
  const both = path.join(dir, 'both');
  t.equal(load(both, { runArea: '/cli/runs' }).runArea, '/cli/runs', '--runarea first');
  t.equal(load(both, { runArea: 'here', cwd: '/work' }).runArea, '/work/here', 'relative --runarea from cwd');
  t.equal(load(both).runArea, path.join(dir, 'setup-runs'), '[setup] runarea, relative to the area');
  t.equal(load(path.join(dir, 'disks')).runArea, path.join(dir, 'disks', 'rel', 'disk0'), 'first [disks] entry');
});

t.test('loadArea: [setup] admins and identity', async (t) => {
  const dir = t.testdir({ 'trellis.config': '[setup]\nadmins alice, bob\nidentity required\n' });
  const setup = load(dir).setup;
  t.same(setup.admins, { users: ['alice', 'bob'], loc: { file: path.join(dir, 'trellis.config'), line: 2 } });
  t.equal(setup.identity, 'required');
});

t.test('loadArea: bad values name file:line', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['[setup]\nmax_concurrent_jobs 0\n', /trellis\.config:2: \[setup\] max_concurrent_jobs must be a positive whole number, not '0'/],
    ['[setup]\n\nmax_concurrent_jobs two\n', /trellis\.config:3: \[setup\] max_concurrent_jobs must be a positive whole number, not 'two'/],
    ['[setup]\nruntimelim soon\n', /trellis\.config:2: bad \[setup\] runtimelim 'soon'/],
    ['[setup]\ndeadtime 5x\n', /trellis\.config:2: bad \[setup\] deadtime '5x'/],
    ['[setup]\nrunarea\n', /trellis\.config:2: \[setup\] runarea is empty/],
    ['[jobgroups]\nheavy -1\n', /trellis\.config:2: \[jobgroups\] heavy must be a positive whole number/],
    ['[fields]\nOS-NAME\n', /trellis\.config:2: \[fields\] key 'OS-NAME' is not a valid variable name/],
    ['[server]\nport_range 9000-80\n', /trellis\.config:2: \[server\] port_range '9000-80' is not LOW-HIGH within 1-65535/],
    ['[server]\nidle_timeout forever\n', /trellis\.config:2: bad \[server\] idle_timeout 'forever'/],
    ['[setup]\nreqtarg maybe\n', /trellis\.config:2: \[setup\] reqtarg must be yes or no, not 'maybe'/],
    ['[setup]\nadmins\n', /trellis\.config:2: \[setup\] admins names nobody/],
    ['[setup]\nadmins alice ../root\n', /trellis\.config:2: \[setup\] admins: '..\/root' is not a user name/],
    ['[setup]\nidentity strict\n', /trellis\.config:2: \[setup\] identity must be optional or required, not 'strict'/],
  ];
  for (const [text, message] of cases) {
    const dir = t.testdir({ 'trellis.config': text });
    t.throws(() => load(dir), { code: 'CONFIG_VALUE', message }, text.replace(/\n/g, ' | '));
  }
  const dir = t.testdir({ 'trellis.config': '', tests: { 'a,b': { testconfig: '' } } });
  t.throws(() => load(dir), { code: 'CONFIG_VALUE', message: /tests\/a,b: test name 'a,b' has a blank, ','/ });
});

t.test('parseDuration', async (t) => {
  const loc = { file: 'f.config', line: 7 };
  const cases: Array<[string, number]> = [
    ['90', 90],
    ['90s', 90],
    ['1m30s', 90],
    ['2h', 7200],
    ['1d', 86400],
    ['1h 30m', 5400],
    [' 1w ', 604800],
    ['1.5h', 5400],
    ['0', 0],
    ['1h30m15s', 5415],
  ];
  for (const [text, want] of cases) t.equal(parseDuration(text, loc), want, text);
  for (const bad of ['', 'h', '5 minutes', '1h x', '-5', '1.h', '30m 10']) {
    t.throws(
      () => parseDuration(bad, loc, 'runtimelim'),
      { code: 'CONFIG_VALUE', message: /^f\.config:7: bad runtimelim/, hint: /e\.g\. 90, 90s, 1m30s/ },
      `'${bad}'`,
    );
  }
});

/** An area with the given trellis.config and, unless undefined, runconfigs.config. */
function targetArea(t: { testdir(files: Record<string, string>): string }, fields = FIELDS, runconfigs?: string) {
  const files: Record<string, string> = { 'trellis.config': fields };
  if (runconfigs !== undefined) files['runconfigs.config'] = runconfigs;
  return load(t.testdir(files));
}

t.test('listTargets: concrete target sections only', async (t) => {
  const area = targetArea(t, FIELDS, '[default]\nA 1\n[linux/x86_64]\n[%/arm]\n[/bsd.*/]\n[notes]\n[mac/arm]\n[a/b/c]\n');
  t.same(listTargets(area), ['linux/x86_64', 'mac/arm']);
  const single = targetArea(t, '', '[default]\n[linux]\n[x/y]\n');
  t.same(listTargets(single), ['linux'], 'no [fields]: one value');
});

t.test('resolveTarget', async (t) => {
  const area = targetArea(t, FIELDS, '[default]\n[linux/x86_64]\n[%/arm]\n[/bsd\\/.*/]\n');
  t.same(resolveTarget(area, 'linux/x86_64'), { name: 'linux/x86_64', values: ['linux', 'x86_64'], keys: { OS: 'linux', ARCH: 'x86_64' } });
  t.equal(resolveTarget(area, 'mac/arm').name, 'mac/arm', 'a % section makes a target known');
  t.equal(resolveTarget(area, 'bsd/riscv').name, 'bsd/riscv', 'a regex section makes a target known');
  t.throws(() => resolveTarget(area, 'linux'), {
    code: 'BAD_TARGET',
    message: /^target 'linux' has 1 value but \[fields\] in .*trellis\.config:2 names 2 keys \(OS ARCH\)$/,
    hint: 'give e.g. -t linux/x86_64',
  });
  t.throws(() => resolveTarget(area, 'a/b/c'), { code: 'BAD_TARGET', message: /has 3 values but/ });
  t.throws(() => resolveTarget(area, 'linux/'), { code: 'BAD_TARGET', message: /target 'linux\/': the value for ARCH is empty/ });
  t.throws(() => resolveTarget(area, 'linux/%'), { code: 'BAD_TARGET', message: /the value for ARCH '%' contains '%'/ });
  t.throws(() => resolveTarget(area, 'win/x86_64', { strict: true }), {
    code: 'UNKNOWN_TARGET',
    message:
      /unknown target 'win\/x86_64' \(--reqtarg requires a named target\): .*runconfigs\.config has no \[win\/x86_64\] section and no pattern section matching it; known targets: linux\/x86_64$/,
    hint: /^add a \[win\/x86_64\] section \(it may be empty\) to .*runconfigs\.config, or use a known target$/,
  });
  const none = targetArea(t, FIELDS);
  t.throws(() => resolveTarget(none, 'a/b'), {
    code: 'UNKNOWN_TARGET',
    message: /\(the file does not exist\) .*known targets: none/,
    hint: /with a \[default\] section any target is accepted/,
  });
  const noDefault = targetArea(t, FIELDS, '[linux/x86_64]\n');
  t.throws(() => resolveTarget(noDefault, 'win/x86_64'), {
    code: 'UNKNOWN_TARGET',
    message: /^unknown target 'win\/x86_64': /,
    hint: /with a \[default\] section any target is accepted/,
  });
  t.throws(() => resolveTarget(none, 'a'), { code: 'BAD_TARGET', hint: 'give e.g. -t <OS>/<ARCH>' });
  const single = targetArea(t, '', '[linux]\n');
  t.same(resolveTarget(single, 'linux'), { name: 'linux', values: ['linux'], keys: {} });
  t.throws(() => resolveTarget(single, 'linux/x'), {
    code: 'BAD_TARGET',
    message: /has 2 values but .*trellis\.config has no \[fields\], so a target is one value/,
  });
});

t.test('resolveTarget: a target runconfigs does not name runs with [default], with one warning, unless strict', async (t) => {
  const area = targetArea(t, FIELDS, '[default]\nCC gcc\n[linux/x86_64]\n');
  const warnings: string[] = [];
  t.same(resolveTarget(area, 'win/arm', { warn: (w) => warnings.push(w) }), {
    name: 'win/arm',
    values: ['win', 'arm'],
    keys: { OS: 'win', ARCH: 'arm' },
  });
  t.equal(warnings.length, 1, 'one warning');
  t.match(
    warnings[0],
    /^target 'win\/arm' is not named in .*runconfigs\.config \(no \[win\/arm\] section or pattern section matches it\): its tests get the \[default\] values only; .*--reqtarg/,
  );
  t.equal(resolveTarget(area, 'win/arm').name, 'win/arm', 'without a warn hook it is accepted silently (queries)');
  resolveTarget(area, 'linux/x86_64', { warn: (w) => warnings.push(w) });
  t.equal(warnings.length, 1, 'a named target gives no warning');
  t.throws(() => resolveTarget(area, 'win/arm', { strict: true }), {
    code: 'UNKNOWN_TARGET',
    message: /\(--reqtarg requires a named target\)/,
  });
  const strictArea = targetArea(t, `${FIELDS}[setup]\nreqtarg yes\n`, '[default]\n[linux/x86_64]\n');
  t.throws(() => resolveTarget(strictArea, 'win/arm'), {
    code: 'UNKNOWN_TARGET',
    message: /\(\[setup\] reqtarg at .*trellis\.config:\d+ requires a named target\)/,
  });
  t.equal(resolveTarget(strictArea, 'linux/x86_64').name, 'linux/x86_64');
  const offArea = targetArea(t, `${FIELDS}[setup]\nreqtarg no\n`, '[default]\n');
  t.equal(resolveTarget(offArea, 'win/arm').name, 'win/arm', 'reqtarg no is the default');
});

t.test('readRunconfigs sets MT_TARGET and the keys; runconfigValues overrides [default]', async (t) => {
  const area = targetArea(
    t,
    FIELDS,
    [
      '[default]',
      'A default',
      'B default',
      'WHO #{getenv OS}-#{getenv ARCH} #{getenv MT_TARGET}',
      'HOME_SEEN #{getenv MT_RUN_AREA_HOME}',
      '[linux/x86_64]',
      'B target',
      'C $OS',
      '[%/x86_64]',
      'D pattern',
      'A pattern',
    ].join('\n'),
  );
  t.equal(area.runconfigs.text('default', 'WHO'), '-', 'no target while the area is loaded');
  const target = resolveTarget(area, 'linux/x86_64');
  const rc = readRunconfigs(area, target, ENV);
  t.same(
    runconfigValues(rc, target).map(([k, v]) => [k, v.text]),
    [
      ['A', 'pattern'],
      ['B', 'target'],
      ['WHO', 'linux-x86_64 linux/x86_64'],
      ['HOME_SEEN', area.dir],
      ['C', '$OS'],
      ['D', 'pattern'],
    ],
  );
  fs.rmSync(area.runconfigs.file);
  t.same(readRunconfigs(area, target, ENV).sectionNames(), [], 'missing file: empty');
});

t.test('loadArea: [server] log_level, log_size and log_files', async (t) => {
  const area = (server: string) => load(t.testdir({ 'trellis.config': `[fields]\nOS\n\n[server]\n${server}\n` }));
  t.match(area('log_level DEBUG\nlog_size 2M\nlog_files 3').server, { logLevel: 'debug', logMaxBytes: 2 * 1024 * 1024, logFiles: 3 });
  t.match(area('log_size 4096').server, { logLevel: 'info', logMaxBytes: 4096, logFiles: 5 });
  t.match(area('log_size 64k').server, { logMaxBytes: 65536 });
  t.throws(() => area('log_level chatty'), {
    code: 'CONFIG_VALUE',
    message: /trellis\.config:5: \[server\] log_level 'chatty' is not a level/,
  });
  t.throws(() => area('log_size 10'), { code: 'CONFIG_VALUE', message: /log_size '10' is not a size of 1K or more/ });
  t.throws(() => area('log_size lots'), { code: 'CONFIG_VALUE', message: /log_size 'lots'/ });
  t.throws(() => area('log_files 0'), { code: 'CONFIG_VALUE', message: /\[server\] log_files must be a positive whole number/ });
});
