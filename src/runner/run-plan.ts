/**
 * Planning a run, before anything is recorded: the target and its runconfigs, the tests and the
 * pattern's choice among them with what they wait on, and the items known up front (lazy
 * `[system …]` items are expanded when their prerequisites are met). Reads configs, touches no store.
 */
import { readRunconfigs, resolveTarget, runconfigValues } from '../config/area.js';
import { expandItems } from '../config/items.js';
import { loadTests } from '../config/testconfig.js';
import type { Area, ConfigValue, Item, Target, TestDefinition } from '../config/types.js';
import { parseTestPattern, type TestPattern } from '../model/pattern.js';
import type { TestRegistration } from '../model/records.js';
import { runAreaPaths } from '../config/paths.js';
import { buildPlan, type Plan } from './plan.js';

export interface RunPlan {
  target: Target;
  runname: string;
  /** a target runconfigs.config does not name, accepted with its [default] values: one warning */
  targetWarnings: readonly string[];
  /** the runconfigs values of the target, in order */
  runconfig: ReadonlyArray<readonly [string, ConfigValue]>;
  pattern: TestPattern;
  plan: Plan;
  /** per test: its chosen items; [] for a test without items; null while they are lazy */
  itemsOf: ReadonlyMap<string, Item[] | null>;
  /** the work folder of a test or item */
  workDir(test: string, itemValues: readonly string[]): string;
}

/** Resolves target, runconfigs, tests, pattern and static items (design §6, step 1). */
export function planRun(
  area: Area,
  opts: { target: string; runname: string; pattern?: string; reqtarg?: boolean },
  env: Readonly<Record<string, string | undefined>>,
): RunPlan {
  const targetWarnings: string[] = [];
  const target = resolveTarget(area, opts.target, { strict: opts.reqtarg === true, warn: (w) => targetWarnings.push(w) });
  const runconfigs = readRunconfigs(area, target, env);
  const runconfig = runconfigValues(runconfigs, target);
  const rget = (k: string) => runconfig.find(([key]) => key === k)?.[1].text;
  const defs = loadTests(area, target, env, runconfigs);
  const pattern = parseTestPattern(opts.pattern ?? rget('TESTPATT') ?? '%');
  const plan = buildPlan(defs, pattern);
  const itemsOf = new Map<string, Item[] | null>();
  for (const p of plan.tests) {
    if (!p.def.hasItems) {
      itemsOf.set(p.def.name, []);
      continue;
    }
    const lazy = p.def.items.items.some((v) => v.lazyCommand) || p.def.items.table.some((v) => v.lazyCommand);
    const items = lazy ? null : expandItems(p.def, { env: env as Record<string, string>, cwd: p.def.dir });
    itemsOf.set(p.def.name, items?.filter((it) => !p.selected || pattern.matchItem(p.def.name, it.path)) ?? null);
  }
  const paths = runAreaPaths(area.runArea);
  return {
    target,
    targetWarnings,
    runname: opts.runname,
    runconfig,
    pattern,
    plan,
    itemsOf,
    workDir: (test, itemValues) => paths.workDir(target.values, opts.runname, test, itemValues),
  };
}

/**
 * The rows to register before anything runs: every planned test, and its items when known, made
 * as they are asked for (the runner sends them a batch at a time).
 */
export function* registrationsOf(rp: RunPlan): Generator<TestRegistration> {
  for (const p of rp.plan.tests) {
    yield registration(p.def, '', rp.workDir(p.def.name, []));
    for (const it of rp.itemsOf.get(p.def.name) ?? []) yield registration(p.def, it.path, rp.workDir(p.def.name, it.values), it.vars);
  }
}

/** One row's registration. */
export function registration(def: TestDefinition, itempath: string, rundir: string, itemVars?: Record<string, string>): TestRegistration {
  return {
    testname: def.name,
    itempath,
    priority: def.priority,
    rundir,
    itemVars: itemVars ?? {},
    owner: def.meta.owner,
    description: def.meta.description,
    tags: def.meta.tags,
  };
}
