'use strict';
// Loading the bundled CLI (dist/src/trellis.cjs) with V8's code cache, for bin/trellis.js, and
// making that cache at build time (`node bin/code-cache.cjs`, the last step of `npm run build`).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const BUNDLE = path.join(__dirname, '..', 'dist', 'src', 'trellis.cjs');
const CACHE = `${BUNDLE}.cache`;

/**
 * Compiles the bundle with the code cache (as v8-compile-cache does for require) and returns its
 * exports, with the script (for createCachedData). A cache V8 refuses (another Node) is only slower.
 * The bundle has no `import()` left (esbuild turns them into `require`): it needs no module loader.
 */
function loadBundle() {
  let cachedData;
  try {
    cachedData = fs.readFileSync(CACHE);
  } catch {
    // no cache: compiled as without one
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(BUNDLE, 'utf8')), { filename: BUNDLE, cachedData });
  const mod = new Module(BUNDLE, module);
  mod.filename = BUNDLE;
  mod.paths = Module._nodeModulePaths(path.dirname(BUNDLE));
  script.runInThisContext()(mod.exports, (id) => mod.require(id), mod, BUNDLE, path.dirname(BUNDLE));
  return { exports: mod.exports, script };
}

/**
 * Makes the cache: runs the quick commands in this process (on a fresh area in a temporary folder,
 * `--direct`, so no server starts), so that V8 has compiled what they run, then saves the code. A
 * cache made by one command alone makes the others slower than none (measured: `list runs` with
 * the cache of `--help`), and one of every function (node --no-lazy: 2 MB) costs more to read
 * than it saves.
 */
async function makeCache() {
  fs.rmSync(CACHE, { force: true });
  const { exports: cli, script } = loadBundle();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-code-cache-'));
  const sink = { write: () => true, isTTY: false, columns: 80, on: () => sink, once: () => sink };
  const io = { cwd: tmp, env: { ...process.env, NO_COLOR: '1' }, stdout: sink, stderr: sink, stdin: process.stdin };
  try {
    const area = ['--area', path.join(tmp, 'area')];
    const run = ['-t', 'linux/x86_64', '-r', 'warm'];
    for (const argv of [
      ['--help'],
      ['run', '--help'],
      ['--version'],
      ['init', 'area'],
      ['list', 'runs', ...area, '--direct'],
      ['list', 'runs', ...area, '--direct', '--json'],
      ['show', ...area, '--direct', ...run, 'hello'],
      ['list', 'tests', ...area, '--direct', ...run],
      ['server', 'ping', ...area],
      ['config', 'show', ...area],
    ]) {
      await cli.runMain(argv, io);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  fs.writeFileSync(CACHE, script.createCachedData());
}

module.exports = { loadBundle, BUNDLE };

if (require.main === module) {
  makeCache().catch((err) => {
    console.error(`code cache: ${err.message}`);
    process.exitCode = 1;
  });
}
