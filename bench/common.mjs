// Shared by the bench scripts: temp areas, timing child processes, medians and the verdict line.
// Benches report figures; they never fail on a missed target (exit 0), only on a broken setup.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(ROOT, 'bin', 'trellis.js');

/** Exits with a hint when dist/ is missing: every bench runs the built CLI. */
export function requireBuild() {
  if (!existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))) {
    console.error('bench: dist/ is missing; run `npm run build` first');
    process.exit(1);
  }
}

/** SIGTERMs the servers whose packets lie under `dir` (the commands a bench runs start them). */
export function stopServersUnder(dir, depth = 4) {
  let entries = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const sub = path.join(dir, e.name);
    if (e.name === '.meta') {
      for (const f of readdirSync(sub).filter((n) => n.endsWith('.pkt'))) {
        try {
          if (!lstatSync(path.join(sub, f)).isFile()) continue;
          process.kill(JSON.parse(readFileSync(path.join(sub, f), 'utf8')).pid, 'SIGTERM');
        } catch {
          // gone already, or not a packet
        }
      }
    } else if (depth > 0) stopServersUnder(sub, depth - 1);
  }
}

/** A fresh temp folder, removed on exit (also on Ctrl-C), its servers stopped. */
export function makeTempDir(name) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `trellis-bench-${name}-`));
  const clean = () => {
    stopServersUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', clean);
  process.once('SIGINT', () => {
    clean();
    process.exit(130);
  });
  return dir;
}

/**
 * Writes a test area: `tests` maps a test name to its testconfig text. One field (OS) and one
 * target (`linux`), so every bench runs `-t linux`.
 */
export function writeArea(dir, { maxJobs = 2, tests }) {
  mkdirSync(dir, { recursive: true });
  // Servers stay on loopback: bench traffic goes to 127.0.0.1 only.
  writeFileSync(path.join(dir, 'trellis.config'), `[fields]\nOS\n\n[setup]\nmax_concurrent_jobs ${maxJobs}\n\n[server]\nbind 127.0.0.1\n`);
  writeFileSync(path.join(dir, 'runconfigs.config'), '[linux]\n');
  for (const [name, text] of Object.entries(tests)) {
    mkdirSync(path.join(dir, 'tests', name), { recursive: true });
    writeFileSync(path.join(dir, 'tests', name, 'testconfig'), text);
  }
  return dir;
}

/** Runs a command to completion; wall time in ms includes process start and exit. */
export function timeSync(cmd, args, opts = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...opts });
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  return { ms, code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Like timeSync, but throws with the captured output when the command did not exit 0. */
export function timeOk(cmd, args, opts = {}) {
  const r = timeSync(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code ?? r.signal}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  }
  return r;
}

/** Spawns a command and resolves on exit; `onStart(child)` may watch it while it runs. */
export function runAsync(cmd, args, opts = {}, onStart = () => undefined) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const stop = onStart(child);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      stop?.();
      resolve({ ms: performance.now() - t0, code, signal, stdout, stderr });
    });
  });
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function fmt(x, digits = 1) {
  return x.toFixed(digits);
}

/** One figure against its target: `label  value unit  (target ≤ t unit: met|MISSED)`. */
export function verdict(label, value, target, unit, digits = 1) {
  const ok = value <= target;
  console.log(`${label.padEnd(44)} ${fmt(value, digits).padStart(9)} ${unit}   target ≤ ${target} ${unit}: ${ok ? 'met' : 'MISSED'}`);
  return ok;
}

/** A figure with nothing to compare against. */
export function figure(label, value, unit, digits = 1) {
  console.log(`${label.padEnd(44)} ${fmt(value, digits).padStart(9)} ${unit}`);
}

export function header(title) {
  console.log(`\n== ${title}  (node ${process.version}, ${os.availableParallelism()} CPUs, ${new Date().toISOString().slice(0, 10)})`);
  console.log(`load average before: ${loadAverage()}`);
  // Other work on the machine skews wall times: show the load the figures were taken under.
  process.on('exit', () => console.log(`load average after:  ${loadAverage()}`));
}

function loadAverage() {
  return os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

// ---- the dashboard's matrix as a terminal shows it (bench/dashboard.mjs, bench/scale.mjs) ----

/** What a filled cell can say (src/view/cell-style.ts); `..` is a cell still loading. */
const CELL_WORDS = new Set(
  'PASS FAIL WARN WAIVED SKIP CHECK ABORT TMOUT DEAD PREQ ZERO wait done LAUNCH RUN RUN! KILLRQ KILLED INCOMP DEL ARCH .'.split(' '),
);

/**
 * The body of the matrix as shown: rows of cell words, or undefined while it is not all there
 * (loading, `..` for runs whose cells have not arrived, the pane still empty).
 */
export function matrixBody(text) {
  const lines = text.split('\n');
  const head = lines.findIndex((l) => l.startsWith('ok/tests'));
  if (head < 0) return undefined;
  const body = [];
  for (const l of lines.slice(head + 1)) {
    if (/^\d+\/\d+ runs \(/.test(l)) break;
    if (l.trim() !== '') body.push(l);
  }
  // Every line must end in a cell: not `..` (cells on their way), not a message such as
  // "loading..." or "No test matches" (shown between the runs' arrival and their cells').
  if (body.length === 0 || !body.every((l) => CELL_WORDS.has(l.trim().split(/\s+/).at(-1)))) return undefined;
  return body;
}
