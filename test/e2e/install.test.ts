/**
 * The package as users get it: `npm pack` in the repository, `npm install -g` of the tarball
 * into an empty prefix, and the installed `trellis` run from a folder outside the repository:
 * --help, --version, and a whole run (SQLite's native module loads, through the server too).
 * The install runs with --ignore-scripts and is given the native module `npm ci` built for this
 * repository: without network to download a prebuilt binary, better-sqlite3's install script
 * compiles SQLite from source (two CPU-minutes that test node-gyp, not Trellis; `npm ci` in
 * .ci/run already does it). No other dependency has an install script (checked below).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { repoRoot } from '../helpers/cli.js';

t.setTimeout(900_000);

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Done> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The packages under `dir` whose package.json has an install or postinstall script (npm's ones that compile). */
function withInstallScripts(dir: string): string[] {
  const found: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const names = name.startsWith('@') ? fs.readdirSync(path.join(dir, name)).map((n) => `${name}/${n}`) : [name];
    for (const pkg of names) {
      const file = path.join(dir, pkg, 'package.json');
      if (!fs.existsSync(file)) continue;
      const scripts = (JSON.parse(fs.readFileSync(file, 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
      if (scripts.install || scripts.preinstall || scripts.postinstall || fs.existsSync(path.join(dir, pkg, 'binding.gyp')))
        found.push(pkg);
    }
  }
  return found.sort();
}

const show = (r: Done) => `exit ${r.code}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`;

t.test('npm pack, npm install -g into an empty prefix, trellis from any folder', async (t) => {
  const dir = t.testdir();
  const version = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const pack = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repoRoot });
  t.equal(pack.code, 0, `npm pack\n${pack.stderr.slice(-3000)}`);
  const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const files = info!.files.map((f) => f.path);
  t.ok(files.includes('bin/trellis.js') && files.includes('dist/src/cli/main.js'), 'the CLI is in the package');
  t.ok(files.includes('npm-shrinkwrap.json'), 'with the lock of its dependencies');
  t.same(
    files.filter((f) => /^(test|bench|src|dist\/test|dist\/bench)\//.test(f)),
    [],
    'no tests, benchmarks or sources',
  );
  t.notOk(fs.existsSync(path.join(repoRoot, 'npm-shrinkwrap.json')), 'the repository is left as it was');

  const prefix = path.join(dir, 'prefix');
  const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  const install = await run(
    'npm',
    ['install', '-g', '--prefer-offline', '--ignore-scripts', '--prefix', prefix, path.join(dir, info!.filename)],
    { cwd: dir, env },
  );
  t.equal(install.code, 0, show(install));
  const installed = path.join(prefix, 'lib', 'node_modules', 'trellis', 'node_modules');
  t.same(withInstallScripts(installed), ['better-sqlite3'], 'the only dependency with an install script is better-sqlite3');
  const native = path.join('better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  fs.mkdirSync(path.dirname(path.join(installed, native)), { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'node_modules', native), path.join(installed, native));

  // From a folder that is not in the repository, with only the prefix's bin and the system on PATH.
  const away = path.join(dir, 'elsewhere');
  fs.mkdirSync(away);
  const userEnv = { PATH: `${path.join(prefix, 'bin')}:${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: away, NO_COLOR: '1' };
  const help = await run('trellis', ['--help'], { cwd: away, env: userEnv });
  t.equal(help.code, 0, show(help));
  t.match(help.stdout, /trellis <command> \[options\][\s\S]*trellis run/);
  const v = await run('trellis', ['--version'], { cwd: away, env: userEnv });
  t.same([v.code, v.stdout], [0, `${version}\n`], show(v));

  const init = await run('trellis', ['init', 'area'], { cwd: away, env: userEnv });
  t.equal(init.code, 0, show(init));
  const area = path.join(away, 'area');
  const direct = await run('trellis', ['run', '--direct', '-t', 'linux/x86_64', '-r', 'first'], { cwd: area, env: userEnv });
  t.equal(direct.code, 0, `a run with --direct: SQLite works\n${show(direct)}`);
  const served = await run('trellis', ['list', 'runs'], { cwd: area, env: userEnv });
  t.equal(served.code, 0, `through a server it starts: the installed bin/trellis.js\n${show(served)}`);
  t.match(served.stdout, /linux\/x86_64\s+first\s+done\s+PASS/);
  const stop = await run('trellis', ['server', 'stop', '--all'], { cwd: area, env: userEnv });
  t.equal(stop.code, 0, show(stop));
});
