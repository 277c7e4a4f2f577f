'use strict';
// Loading the bundled CLI (dist/src/trellis.cjs) with V8's code cache, for bin/trellis.js, and
// making those caches at build time (`node bin/code-cache.cjs`, the last step of `npm run build`).
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const BUNDLE = path.join(__dirname, '..', 'dist', 'src', 'trellis.cjs');

/**
 * The caches, one per quick command and one for the rest, each made by running its command lines
 * in a process of its own. V8 saves the functions a process compiled, so a cache of one command
 * alone is the smallest that command can read (`list runs`: 0.41 MB where the cache of all the
 * quick commands is 0.68 MB, 5–7 ms less to read and deserialize), and a cache of another command
 * is worse than none (measured: `list runs` with the cache of `--help`). `server` marks the lines
 * that go through the area's server, as people run them; the rest run `--direct`.
 */
const CACHES = {
  help: { lines: [['--help'], ['--help'], ['--version']] },
  list: {
    server: true,
    lines: [
      ['list', 'runs', 'AT'],
      ['list', 'runs', 'AT', '--json'],
      ['list', 'tests', 'AT', 'RUN'],
    ],
  },
  show: {
    server: true,
    lines: [
      ['show', 'AT', 'RUN', 'hello'],
      ['show', 'AT', 'RUN', 'hello'],
    ],
  },
  server: {
    server: true,
    lines: [
      ['server', 'ping', 'AT'],
      ['server', 'ping', 'AT'],
    ],
  },
  other: {
    lines: [
      ['--help'],
      ['run', '--help'],
      ['--version'],
      ['init', 'area2'],
      ['list', 'runs', 'AT', '--direct'],
      ['list', 'runs', 'AT', '--direct', '--json'],
      ['show', 'AT', '--direct', 'RUN', 'hello'],
      ['list', 'tests', 'AT', '--direct', 'RUN'],
      ['server', 'ping', 'AT'],
      ['config', 'show', 'AT'],
    ],
  },
};

/** Which cache a command line loads: that of its command when it has one, else `other`. */
function cacheName(argv) {
  const first = argv[0];
  if (first === undefined || first === 'help' || first === '--help' || first === '-h' || first === '--version') {
    return 'help';
  }
  return first === 'list' || first === 'show' || first === 'server' ? first : 'other';
}

const cacheFile = (name) => `${BUNDLE}.${name}.cache`;

/**
 * Compiles the bundle with the code cache of `name` (as v8-compile-cache does for require) and
 * returns its exports, with the script (for createCachedData). A cache V8 refuses (another Node)
 * is only slower. The bundle is ASCII (the build checks it), so it is read as latin1: half the time
 * of decoding UTF-8. It has no `import()` left (esbuild turns them into `require`): it needs no
 * module loader.
 */
function loadBundle(name) {
  let cachedData;
  if (name !== undefined) {
    try {
      cachedData = fs.readFileSync(cacheFile(name));
    } catch {
      // no cache: compiled as without one
    }
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(BUNDLE, 'latin1')), { filename: BUNDLE, cachedData });
  const mod = new Module(BUNDLE, module);
  mod.filename = BUNDLE;
  mod.paths = Module._nodeModulePaths(path.dirname(BUNDLE));
  script.runInThisContext()(mod.exports, (id) => mod.require(id), mod, BUNDLE, path.dirname(BUNDLE));
  return { exports: mod.exports, script };
}

/** A byte outside ASCII would be read wrongly as latin1: the build stops on it, naming its line. */
function checkAscii() {
  const bytes = fs.readFileSync(BUNDLE);
  const at = bytes.findIndex((b) => b > 0x7f);
  if (at === -1) return;
  const line = bytes.subarray(0, at).toString('latin1').split('\n').length;
  const around = bytes.subarray(Math.max(0, at - 60), at + 20).toString('utf8');
  throw new Error(
    `${BUNDLE}:${line}: a non-ASCII character in the bundle (…${around}…); write it as an escape or an HTML entity in the source`,
  );
}

/** The sink the command lines write to while a cache is made. */
function ioIn(cwd) {
  const sink = { write: () => true, isTTY: false, columns: 80, on: () => sink, once: () => sink };
  return { cwd, env: { ...process.env, NO_COLOR: '1', TRELLIS_DIRECT: undefined }, stdout: sink, stderr: sink, stdin: process.stdin };
}

const RUN = ['-t', 'linux/x86_64', '-r', 'warm'];

/** `node bin/code-cache.cjs --one NAME TMP`: runs the lines of one cache in this process, saves it. */
async function makeOne(name, tmp, serverUp) {
  const { exports: cli, script } = loadBundle();
  const area = path.join(tmp, 'area');
  const io = ioIn(tmp);
  const { server, lines } = CACHES[name];
  for (const line of lines) {
    const argv = line.flatMap((w) => (w === 'RUN' ? RUN : w === 'AT' ? ['--area', area] : [w]));
    const direct = server && !serverUp && argv[0] !== 'server' ? ['--direct'] : [];
    await cli.runMain([...argv, ...direct], io);
  }
  const file = cacheFile(name);
  fs.writeFileSync(`${file}.tmp`, script.createCachedData());
  fs.renameSync(`${file}.tmp`, file);
}

/** Makes every cache: an area with one run and a live server, then one process a cache. */
async function makeCaches() {
  checkAscii();
  for (const f of fs.readdirSync(path.dirname(BUNDLE))) {
    if (/^trellis\.cjs\..*cache(\.tmp)?$/.test(f)) fs.rmSync(path.join(path.dirname(BUNDLE), f), { force: true });
  }
  // Required here: every start of the CLI loads this file, and only the build makes caches.
  const { spawnSync } = require('node:child_process');
  const tmp = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'trellis-code-cache-'));
  const { exports: cli } = loadBundle();
  const io = ioIn(tmp);
  const area = ['--area', path.join(tmp, 'area')];
  try {
    if ((await cli.runMain(['init', path.join(tmp, 'area')], io)) !== 0) throw new Error('trellis init failed');
    await cli.runMain(['run', '--direct', ...area, ...RUN], io);
    // Without a server (no loopback here) the caches are made --direct: slower through a server, not wrong.
    const serverUp = (await cli.runMain(['server', 'start', ...area], io)) === 0;
    try {
      for (const name of Object.keys(CACHES)) {
        const r = spawnSync(process.execPath, [__filename, '--one', name, tmp, serverUp ? 'up' : 'down'], {
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        if (r.status !== 0) throw new Error(`the ${name} cache was not made (exit ${r.status ?? r.signal})`);
      }
    } finally {
      if (serverUp) await cli.runMain(['server', 'stop', '--all', ...area], io);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

module.exports = { loadBundle, cacheName, BUNDLE };

if (require.main === module) {
  const [flag, name, tmp, up] = process.argv.slice(2);
  const made = flag === '--one' ? makeOne(name, tmp, up === 'up') : makeCaches();
  made.catch((err) => {
    console.error(`code cache: ${err.message}`);
    process.exitCode = 1;
  });
}
