/**
 * Which tests a run takes: the ones the pattern selects plus, transitively, what they wait on;
 * unknown waiton names are warnings, cycles are errors.
 */
import type { TestDefinition } from '../config/types.js';
import { closure, findCycle } from '../model/graph.js';
import type { TestPattern } from '../model/pattern.js';
import { formatLocation, TrellisError } from '../util/errors.js';

export interface PlannedTest {
  readonly def: TestDefinition;
  /** chosen by the pattern (else only pulled in as a prerequisite) */
  readonly selected: boolean;
  /** known prerequisites, in waiton order */
  readonly waitons: readonly string[];
}

export interface Plan {
  /** in dependency order: every test after what it waits on */
  readonly tests: readonly PlannedTest[];
  readonly warnings: readonly string[];
}

/** Builds the plan; throws WAITON_CYCLE or NO_TESTS. */
export function buildPlan(defs: readonly TestDefinition[], pattern: TestPattern): Plan {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const warnings: string[] = [];
  const known = new Map<string, string[]>();
  for (const def of defs) {
    const ok: string[] = [];
    for (const name of def.waiton) {
      if (byName.has(name)) ok.push(name);
      else {
        const where = def.waitonLoc ? formatLocation(def.waitonLoc) : def.configFile;
        warnings.push(`${where}: waiton '${name}' is not a test in this area; ignoring it`);
      }
    }
    known.set(def.name, ok);
  }
  const edges = (name: string) => known.get(name) ?? [];
  const selected = defs.filter((d) => pattern.matchTest(d.name)).map((d) => d.name);
  if (selected.length === 0) {
    const names = defs.map((d) => d.name).join(', ') || '(none)';
    throw new TrellisError('NO_TESTS', `no test matches pattern '${pattern.source}' (tests: ${names})`, "check -p, or the area's TESTPATT");
  }
  const included = closure(selected, edges);
  const cycle = findCycle(included, edges);
  if (cycle) {
    const first = byName.get(cycle[0]!)!;
    const where = first.waitonLoc ? formatLocation(first.waitonLoc) : first.configFile;
    throw new TrellisError('WAITON_CYCLE', `${where}: waiton cycle ${cycle.join(' -> ')}`, 'remove one of these waiton entries');
  }
  const selectedSet = new Set(selected);
  const ordered: PlannedTest[] = [];
  const placed = new Set<string>();
  const place = (name: string): void => {
    if (placed.has(name)) return;
    placed.add(name);
    for (const dep of edges(name)) place(dep);
    ordered.push({ def: byName.get(name)!, selected: selectedSet.has(name), waitons: edges(name) });
  };
  for (const def of defs) if (included.has(def.name)) place(def.name);
  return { tests: ordered, warnings };
}
