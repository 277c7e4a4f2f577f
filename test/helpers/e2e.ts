/**
 * Checks shared by the end-to-end tests: what a user error looks like, waiting for a file, walking a
 * folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import type { CliResult } from './cli.js';

/** Everything a CLI call printed, for assertion messages. */
export function dump(r: CliResult): string {
  return `exit ${String(r.code)}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

/**
 * A user error: exit `code`, exactly one line on stderr starting `trellis: ` and matching each of
 * `patterns`, and no stack trace.
 */
export function assertUserError(t: Test, r: CliResult, code: number, ...patterns: RegExp[]): string {
  t.equal(r.code, code, `exit code ${code}\n${dump(r)}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, `one line on stderr\n${dump(r)}`);
  const line = lines[0] ?? '';
  t.match(line, /^trellis: /, 'starts with trellis:');
  for (const p of patterns) t.match(line, p, `names ${String(p)}`);
  t.notMatch(r.stderr, /^ {4}at /m, 'no stack trace');
  return line;
}

/** Resolves when `file` exists, watching its folder (which must exist); rejects after `ms`. */
export function waitForFile(file: string, ms = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = fs.watch(path.dirname(file));
    const finish = (err?: Error) => {
      clearTimeout(timer);
      watcher.close();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${file}`)), ms);
    watcher.on('change', () => fs.existsSync(file) && finish());
    watcher.on('error', (err) => finish(err));
    if (fs.existsSync(file)) finish();
  });
}

/** Every file and folder below `dir` (absolute paths), symlinks not followed. */
export function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...walk(p));
  }
  return out;
}

/** Parses JSON printed by a command, failing with the output when it is not JSON. */
export function parseJson<T = unknown>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON\n${dump(r)}`);
  }
}
