/**
 * Expanding a test's [items] and [itemstable] into items. Lazy `VAR [system CMD]` values run here,
 * not when the testconfig is read, so listing tests never runs an item command.
 */
import { itemValueProblem } from '../model/names.js';
import { configError } from '../util/errors.js';
import { termLine } from '../util/terminal-text.js';
import { runRequiredCommand, type CommandContext } from './commands.js';
import type { Item, ItemVar, TestDefinition } from './types.js';

interface ResolvedVar {
  readonly name: string;
  readonly values: readonly string[];
  readonly v: ItemVar;
}

/** The values of one variable, running its lazy command (output split on white space). */
function resolveVar(v: ItemVar, section: string, ctx: CommandContext): ResolvedVar {
  if (v.values !== null) return { name: v.name, values: checkValues(v.values, v, section), v };
  const cmd = v.lazyCommand ?? '';
  const out = runRequiredCommand(cmd, ctx, v.loc, `[${section}] ${v.name} [system ${cmd}]`);
  return {
    name: v.name,
    values: checkValues(
      out.split(/\s+/).filter((s) => s !== ''),
      v,
      section,
    ),
    v,
  };
}

/** Item values become names people read and type: refuses control characters (file:line). */
function checkValues(values: readonly string[], v: ItemVar, section: string): readonly string[] {
  for (const value of values) {
    const problem = itemValueProblem(value);
    if (problem !== undefined) {
      throw configError(
        'CONFIG_VALUE',
        v.loc,
        `[${section}] ${v.name}: item value '${termLine(value)}' ${problem}`,
        'item values may hold anything but control characters',
      );
    }
  }
  return values;
}

function createItem(vars: readonly ResolvedVar[], values: readonly string[]): Item {
  const map: Record<string, string> = {};
  for (const [i, rv] of vars.entries()) map[rv.name] = values[i]!;
  return Object.freeze({ path: values.join('/'), values: Object.freeze([...values]), vars: Object.freeze(map) });
}

/** Cross product of [items], the first line varying slowest (Megatest's order). */
function expandCrossProduct(vars: readonly ResolvedVar[]): Item[] {
  if (vars.length === 0) return [];
  let rows: string[][] = [[]];
  for (const rv of vars) rows = rows.flatMap((row) => rv.values.map((value) => [...row, value]));
  return rows.map((row) => createItem(vars, row));
}

/** [itemstable] columns zipped into rows; every column must have the same number of values. */
function zipTable(vars: readonly ResolvedVar[]): Item[] {
  if (vars.length === 0) return [];
  const first = vars[0]!;
  for (const rv of vars) {
    if (rv.values.length !== first.values.length) {
      throw configError(
        'CONFIG_VALUE',
        rv.v.loc,
        `[itemstable] column ${rv.name} has ${rv.values.length} values but ${first.name} has ${first.values.length}`,
        'give every [itemstable] column the same number of values (one per row)',
      );
    }
  }
  return first.values.map((_, row) =>
    createItem(
      vars,
      vars.map((rv) => rv.values[row]!),
    ),
  );
}

/**
 * The items of `test`: [items] cross product, then [itemstable] rows (both may be given, as in
 * Megatest). Lazy commands run with `ctx` (sh -c, its env and cwd). [] when the test has no items
 * or they expand to none; the runner marks the latter ZERO_ITEMS (check test.hasItems).
 */
export function expandItems(test: TestDefinition, ctx: CommandContext): Item[] {
  const items = expandCrossProduct(test.items.items.map((v) => resolveVar(v, 'items', ctx)));
  const table = zipTable(test.items.table.map((v) => resolveVar(v, 'itemstable', ctx)));
  const all = [...items, ...table];
  const seen = new Set<string>();
  for (const [i, item] of all.entries()) {
    if (seen.has(item.path)) {
      const fromTable = i >= items.length;
      const loc = (fromTable ? test.items.table[0] : test.items.items[0])!.loc;
      throw configError(
        'DUPLICATE_ITEM',
        loc,
        `test '${test.name}' has item '${item.path}' twice`,
        'make the [items]/[itemstable] values unique (an item path is its values joined by /)',
      );
    }
    seen.add(item.path);
  }
  return all;
}
