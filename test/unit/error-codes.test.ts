/**
 * The error catalogue (src/util/errors.ts) and docs/exit-codes.md in step, both ways: every code
 * is in the doc's row of its exit code and nowhere else, every code the doc names exists, every
 * exit code has a row; and every code is named by some test, so none goes untested again.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ErrorCodes, ExitCode } from '../../src/util/errors.js';
import { repoRoot } from '../helpers/cli.js';

interface Row {
  exit: number;
  codes: string[];
}

/** The `| exit | meaning | codes |` rows of the doc's first table. */
function readRows(): Row[] {
  const doc = fs.readFileSync(path.join(repoRoot, 'docs', 'exit-codes.md'), 'utf8');
  const rows: Row[] = [];
  for (const line of doc.split('\n')) {
    const m = /^\|\s*(\d+)\s*\|.*\|([^|]*)\|\s*$/.exec(line);
    if (m) rows.push({ exit: Number(m[1]), codes: [...m[2]!.matchAll(/`([A-Z_]+)`/g)].map((c) => c[1]!) });
  }
  return rows;
}

t.test('every exit code has one row in docs/exit-codes.md, and every row is an exit code', async (t) => {
  const rows = readRows();
  t.same(
    rows.map((r) => r.exit).sort((a, b) => a - b),
    [...new Set(Object.values(ExitCode))].sort((a, b) => a - b),
  );
});

t.test('every error code is listed with its exit code, and the doc lists no other', async (t) => {
  const rows = readRows();
  const documented = new Map<string, number[]>();
  for (const r of rows) for (const c of r.codes) documented.set(c, [...(documented.get(c) ?? []), r.exit]);
  for (const [code, exit] of Object.entries(ErrorCodes)) {
    t.same(documented.get(code), [exit], `${code}: in the row of exit ${exit}, once`);
  }
  const unknown = [...documented.keys()].filter((c) => !(c in ErrorCodes));
  t.same(unknown, [], 'the doc names no code the catalogue lacks');
});

t.test('every error code is named by a test', async (t) => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && p !== path.join(repoRoot, 'test', 'unit', 'error-codes.test.ts')) files.push(p);
    }
  };
  walk(path.join(repoRoot, 'test'));
  const text = files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  const unnamed = Object.keys(ErrorCodes).filter((code) => !new RegExp(`\\b${code}\\b`).test(text));
  t.same(unnamed, [], 'codes that no test names');
});
