/**
 * `{NAME}` and `{TEST:NAME}` in step commands (design §6b, docs/workflows.md): checked against the
 * plan before anything runs, as far as the plan can tell (parameters, tests, who waits on whom),
 * and filled in just before each step runs, from the store: a value an earlier step of the same
 * test recorded, or one that the test (or the item, under itemwait) it waits on recorded. The store
 * is the only way values travel, so this works the same for `trellis exec` on another host.
 */
import type { Step, TestDefinition } from '../config/types.js';
import { displayName } from '../model/display-name.js';
import { findCycle } from '../model/graph.js';
import type { TestDetail } from '../model/records.js';
import { parseStepTemplate, renderStepTemplate, renderStepText, type StepRef, type StepTemplate } from '../model/step-template.js';
import { formatLocation, TrellisError } from '../util/errors.js';
import type { PlannedTest } from './plan.js';

/** What a job needs to fill in its steps' references: the run's parameters and its producers. */
export interface StepInputs {
  /** every declared parameter's value for this run */
  params: Readonly<Record<string, string>>;
  /**
   * test waited on → the item path whose values `{TEST:NAME}` reads ('' for a test without items);
   * null: the test has items and none maps to this job's item (itemwait, itemmap)
   */
  producers: Readonly<Record<string, string | null>>;
}

export const NO_INPUTS: StepInputs = Object.freeze({ params: Object.freeze({}), producers: Object.freeze({}) });

/** A test's steps as written (its ezsteps, then its runscript), for the plan's checks. */
function writtenSteps(def: TestDefinition): Step[] {
  return def.runscript ? [...def.steps, { name: 'runscript', command: def.runscript.command, loc: def.runscript.loc }] : [...def.steps];
}

function templateOf(step: Step): StepTemplate {
  // The testconfig reader has taken the option groups off (config/step-options.ts).
  return parseStepTemplate(step.command);
}

/**
 * Checks every reference of the planned tests' steps (STEP_REF, naming file and line): a `{NAME}`
 * that is no parameter in a test's first step (no step before it can have recorded it), a test
 * that does not exist, refers to itself, is not waited on, or whose items this test cannot match;
 * and values handed on in a cycle. Returns warnings: a `{NAME}` in a later step that no parameter
 * declares may be a value an earlier step records, but when it is one typo away from a parameter
 * (`{CHANEL}` beside CHANNEL) it is most likely a misspelling, found otherwise only when the step runs.
 */
export function checkStepRefs(
  tests: readonly PlannedTest[],
  paramNames: readonly string[],
  area: { testNames: readonly string[]; configFile: string },
): string[] {
  const params = new Set(paramNames);
  const uses = new Map<string, Array<{ ref: StepRef; step: Step }>>();
  for (const p of tests) {
    const list: Array<{ ref: StepRef; step: Step }> = [];
    for (const step of writtenSteps(p.def)) for (const ref of templateOf(step).refs) if (ref.test !== undefined) list.push({ ref, step });
    uses.set(p.def.name, list);
  }
  // A cycle first: it is the real problem, whatever single reference would be reported otherwise.
  const cycle = findCycle(uses.keys(), (name) => [
    ...new Set((uses.get(name) ?? []).map((u) => u.ref.test!).filter((t) => t !== name && uses.has(t))),
  ]);
  if (cycle) {
    const links = cycle.slice(0, -1).map((name, i) => {
      const use = uses.get(name)!.find((u) => u.ref.test === cycle[i + 1])!;
      return `${name} uses ${use.ref.text} (${formatLocation(use.step.loc)})`;
    });
    throw new TrellisError(
      'STEP_REF',
      `values handed on in a cycle: ${links.join(', ')}`,
      'a test can use only the values of tests it waits on, and waiton cannot go round in a cycle: let one of them compute its value itself',
    );
  }
  const warnings: string[] = [];
  for (const p of tests) {
    const def = p.def;
    writtenSteps(def).forEach((step, index) => {
      for (const ref of templateOf(step).refs) {
        checkRef(ref, step, index, def, params, tests, area);
        const near = ref.test === undefined && !params.has(ref.name) ? nearestName(ref.name, params) : undefined;
        if (near !== undefined) {
          warnings.push(
            `${formatLocation(step.loc)}: step ${step.name} of ${def.name} uses ${ref.text}, which is no parameter: did you mean {${near}}? (if an earlier step records ${ref.name}, ignore this)`,
          );
        }
      }
    });
  }
  return warnings;
}

/** The parameter one or two edits away from `name` (case aside), when exactly one is. */
function nearestName(name: string, names: ReadonlySet<string>): string | undefined {
  const close = [...names].filter(
    (n) => editDistance(name.toLowerCase(), n.toLowerCase()) <= (Math.min(name.length, n.length) > 4 ? 2 : 1),
  );
  return close.length === 1 ? close[0] : undefined;
}

/** Levenshtein distance (insertions, deletions, substitutions), two rows at a time. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function checkRef(
  ref: StepRef,
  step: Step,
  index: number,
  def: TestDefinition,
  params: ReadonlySet<string>,
  tests: readonly PlannedTest[],
  area: { testNames: readonly string[]; configFile: string },
): void {
  const where = `${formatLocation(step.loc)}: step ${step.name} of ${def.name} uses ${ref.text}`;
  const fail = (what: string, hint: string) => new TrellisError('STEP_REF', `${where}, ${what}`, hint);
  if (ref.test === undefined) {
    if (params.has(ref.name) || index > 0) return;
    const known = [...params].join(', ');
    throw fail(
      `which is not a run parameter (${known ? `[params]: ${known}` : `no [params] in ${area.configFile}`}) and no step before it can have recorded it`,
      `declare ${ref.name} in [params], record it in an earlier step (trellis set-value ${ref.name} VALUE), or write {{${ref.name}} for the text {${ref.name}}`,
    );
  }
  const producer = ref.test;
  if (producer === def.name) throw fail('its own test', `write {${ref.name}} for a value an earlier step of this test recorded`);
  if (!area.testNames.includes(producer)) {
    throw fail(
      `but there is no test ${producer}`,
      `known tests: ${area.testNames.join(', ')}; or write {{${producer}:${ref.name}} for the text`,
    );
  }
  const waited = tests.find((t) => t.def.name === def.name)?.waitons.includes(producer) ?? false;
  if (!waited) {
    throw fail(
      `but ${def.name} does not wait on ${producer}`,
      `add ${producer} to [requirements] waiton of ${def.name}: values are handed on only to tests that wait on the test that records them`,
    );
  }
  const prod = tests.find((t) => t.def.name === producer)!.def;
  if (prod.hasItems && (def.mode !== 'itemwait' || !def.hasItems)) {
    throw fail(
      `but ${producer} has items and ${def.name} does not wait on them item by item`,
      `give ${def.name} items and [requirements] mode itemwait (with itemmap if the item paths differ), so each item reads its own item's value`,
    );
  }
}

/** Where to read the values of a run, for one job. */
export interface StepValueSource {
  /** the job's own row, as it stands now (steps before this one recorded their values) */
  readOwn(): Promise<TestDetail | undefined>;
  /** a producer's row */
  readTest(testname: string, itempath: string): Promise<TestDetail | undefined>;
}

/** A step's command ready to run, or why it cannot run (one line). */
export type ResolvedStep = { command: string } | { problem: string };

/**
 * Fills in one step's references. Parameters come first; then the job's own recorded values;
 * `{TEST:NAME}` reads the producer the job waited on. `cache` keeps producers' rows for the job's
 * later steps (they have ended: their values no longer change). `render` 'shell' quotes each value
 * for where it sits in the command; 'text' (a manual step's prompt, read by a person) puts it as is.
 */
export async function resolveStep(
  step: Step,
  inputs: StepInputs,
  source: StepValueSource,
  cache: Map<string, TestDetail | undefined>,
  render: 'shell' | 'text' = 'shell',
): Promise<ResolvedStep> {
  if (!step.command.includes('{')) return { command: step.command };
  const template = parseStepTemplate(step.command);
  const values = new Map<StepRef, string>();
  let own: TestDetail | undefined;
  let ownRead = false;
  for (const ref of template.refs) {
    const where = `step ${step.name} (${formatLocation(step.loc)}): ${ref.text}`;
    if (ref.test === undefined) {
      const param = inputs.params[ref.name];
      if (param !== undefined) {
        values.set(ref, param);
        continue;
      }
      if (!ownRead) {
        own = await source.readOwn();
        ownRead = true;
      }
      const data = own?.data.find((d) => d.name === ref.name);
      if (data === undefined) {
        return {
          problem: `${where} is not a run parameter, and no earlier step of this test recorded a value ${ref.name} (trellis set-value ${ref.name} VALUE)`,
        };
      }
      values.set(ref, data.value);
      continue;
    }
    const itempath = inputs.producers[ref.test];
    if (itempath === undefined) return { problem: `${where}: this test does not wait on ${ref.test}` };
    if (itempath === null) return { problem: `${where}: ${ref.test} has no item that this item maps to (mode itemwait, itemmap)` };
    const key = `${ref.test}\u0000${itempath}`;
    if (!cache.has(key)) cache.set(key, await source.readTest(ref.test, itempath));
    const row = cache.get(key);
    const label = displayName({ testname: ref.test, itempath });
    if (row === undefined) return { problem: `${where}: ${label} is not in this run` };
    const data = row.data.find((d) => d.name === ref.name);
    if (data === undefined) {
      return {
        problem: `${where}: ${label} did not record a value ${ref.name} (it ended ${row.state}/${row.status}${row.comment ? `: ${row.comment}` : ''})`,
      };
    }
    values.set(ref, data.value);
  }
  const lookup = (ref: StepRef) => values.get(ref)!;
  return { command: render === 'text' ? renderStepText(template, lookup) : renderStepTemplate(template, lookup) };
}
