/**
 * Keeps the layers of docs/architecture.md: every import in src/ goes where the table in that
 * file allows (the table is read from the doc, so the doc and this test cannot drift), nothing
 * imports src/cli, and there is no cycle of runtime imports.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { repoRoot } from '../helpers/cli.js';

const SRC = path.join(repoRoot, 'src');

interface Rule {
  imports: Set<string>;
  types: Set<string>;
}

/** The `| layer | may import | may import types from |` table of docs/architecture.md. */
function readRules(): Map<string, Rule> {
  const doc = fs.readFileSync(path.join(repoRoot, 'docs', 'architecture.md'), 'utf8');
  const rules = new Map<string, Rule>();
  const names = (cell: string) => new Set([...cell.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]!));
  for (const line of doc.split('\n')) {
    const m = /^\|\s*`([a-z-]+)`\s*\|([^|]*)\|([^|]*)\|/.exec(line);
    if (m) rules.set(m[1]!, { imports: names(m[2]!), types: names(m[3]!) });
  }
  return rules;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
  /** `import('…')`: loaded when called, so it cannot take part in a load-time cycle */
  dynamic: boolean;
  line: number;
}

/** The imports of our own modules in `file` (static, re-exports and dynamic), resolved to .ts paths. */
function importsOf(file: string, text = fs.readFileSync(file, 'utf8')): Import[] {
  const found: Import[] = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;
  for (const m of text.matchAll(re)) {
    const spec = m[3] ?? m[4]!;
    const to = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
    const line = text.slice(0, m.index + (m[0].startsWith('\n') ? 1 : 0)).split('\n').length;
    found.push({ from: file, to, typeOnly: m[2] !== undefined, dynamic: m[4] !== undefined, line });
  }
  return found;
}

const layerOf = (file: string) => path.relative(SRC, file).split(path.sep)[0]!;
const where = (i: Import) => `${path.relative(repoRoot, i.from)}:${i.line} imports ${path.relative(repoRoot, i.to)}`;

t.test('docs/architecture.md names every folder of src/ and what it may import', async (t) => {
  const rules = readRules();
  const folders = fs
    .readdirSync(SRC, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  t.same([...rules.keys()].sort(), folders, 'one row per folder of src/');
  for (const [layer, rule] of rules) {
    for (const other of [...rule.imports, ...rule.types]) t.ok(rules.has(other), `${layer} names a layer that exists: ${other}`);
  }
});

/** The imports among `imports` that the rules do not allow, one line each. */
function violations(imports: readonly Import[], rules: Map<string, Rule>): string[] {
  const bad: string[] = [];
  for (const i of imports) {
    const from = layerOf(i.from);
    const to = layerOf(i.to);
    if (to === from) continue;
    const rule = rules.get(from);
    const allowed = rule !== undefined && (rule.imports.has(to) || (i.typeOnly && rule.types.has(to)));
    if (!allowed) bad.push(`${where(i)}${i.typeOnly ? ' (types)' : ''}: ${from} may not import ${to}`);
  }
  return bad;
}

t.test('every import goes where docs/architecture.md allows', async (t) => {
  const imports = sourceFiles(SRC).flatMap((f) => importsOf(f));
  t.ok(imports.length > 300, `found the imports (${imports.length})`);
  const missing = imports.filter((i) => !fs.existsSync(i.to)).map(where);
  t.same(missing, [], 'every imported file exists');
  t.same(violations(imports, readRules()), [], 'no import against the layers');
});

t.test('no cycle of runtime imports', async (t) => {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    graph.set(
      file,
      importsOf(file)
        .filter((i) => !i.typeOnly && !i.dynamic)
        .map((i) => i.to),
    );
  }
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, trail: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(SRC, f)).join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  t.same(cycles, [], 'no runtime import cycle');
});

t.test('the checker catches what it must', async (t) => {
  const rules = readRules();
  const text = [
    "import { readPackets } from '../client/packets.js';",
    "import type { Store } from '../store/store.js';",
    "export { main } from '../cli/main.js';",
    "const m = await import('../client/discovery.js');",
    "import type { Area } from '../dashboard/dashboard.js';",
  ].join('\n');
  const bad = violations(importsOf(path.join(SRC, 'server', 'x.ts'), text), rules);
  t.equal(bad.length, 4, bad.join('\n'));
  t.match(
    bad.join('\n'),
    /x\.ts:1 imports .*: server may not import client\n.*x\.ts:3 imports .*: server may not import cli\n.*x\.ts:4 imports .*: server may not import client\n.*x\.ts:5 imports .*\(types\): server may not import dashboard/,
  );
});
