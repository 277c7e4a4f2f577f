/**
 * A RuleSet as JSON and back, for the job spec that carries a test to `trellis exec` on another
 * host: regular expressions travel as their source and flags. What comes back is checked field by
 * field (a spec is a file anyone who can write the work folder could edit).
 */
import type { SourceLocation } from '../util/errors.js';
import {
  COMPARATORS,
  RULE_KINDS,
  type Comparator,
  type LinePattern,
  type Rule,
  type RuleSet,
  type SectionDef,
  type Trigger,
} from './rules.js';

interface PatternJson {
  text: string;
  source: string;
  flags: string;
  /** searched over whole blocks (no lookaround) */
  scan: boolean;
}

interface RuleJson extends Omit<Rule, 'patterns'> {
  patterns: PatternJson[];
}

interface TriggerJson extends Omit<Trigger, 'patterns'> {
  patterns: PatternJson[];
}

/** A RuleSet in JSON form. */
export interface RuleSetJson {
  rules: RuleJson[];
  triggers: TriggerJson[];
  sections: SectionDef[];
  warnings: string[];
}

const patternJson = (p: LinePattern): PatternJson => ({ text: p.text, source: p.line.source, flags: p.line.flags, scan: p.scan !== null });

/** The set as plain JSON data. */
export function serializeRuleSet(set: RuleSet): RuleSetJson {
  return {
    rules: set.rules.map((r) => ({ ...r, patterns: r.patterns.map(patternJson) })),
    triggers: set.triggers.map((t) => ({ ...t, patterns: t.patterns.map(patternJson) })),
    sections: set.sections.map((s) => ({ ...s })),
    warnings: [...set.warnings],
  };
}

/** The set back from JSON; throws an Error saying what is wrong with it. */
export function reviveRuleSet(value: unknown): RuleSet {
  const v = asObject(value, 'the rules');
  const rules = asArray(v['rules'], 'rules').map(reviveRule);
  const triggers = asArray(v['triggers'], 'triggers').map(reviveTrigger);
  const sections = asArray(v['sections'], 'sections').map((s, i) => {
    const o = asObject(s, `sections[${i}]`);
    return Object.freeze({
      name: str(o['name'], 'section name'),
      start: str(o['start'], 'section start'),
      end: str(o['end'], 'section end'),
    });
  });
  const warnings = asArray(v['warnings'], 'warnings').map((w) => str(w, 'warning'));
  return Object.freeze({
    rules: Object.freeze(rules),
    triggers: Object.freeze(triggers),
    sections: Object.freeze(sections),
    warnings: Object.freeze(warnings),
  });
}

function reviveRule(value: unknown, i: number): Rule {
  const o = asObject(value, `rules[${i}]`);
  const kind = str(o['kind'], 'rule kind');
  if (!(RULE_KINDS as readonly string[]).includes(kind)) throw new Error(`rules[${i}] has an unknown kind '${kind}'`);
  const where = str(o['where'], 'rule where');
  if (!['in', 'not-in', 'before', 'after'].includes(where)) throw new Error(`rules[${i}] has an unknown where '${where}'`);
  const comparator = comparatorOf(o['comparator'], `rules[${i}]`);
  const value0 = o['value'];
  let check: Rule['value'];
  if (value0 !== undefined) {
    const c = asObject(value0, `rules[${i}].value`);
    const tol = c['tolerance'];
    check = Object.freeze({
      expected: num(c['expected'], 'value expected'),
      tolerance: typeof tol === 'number' ? tol : comparatorOf(tol, `rules[${i}].value`),
      group: num(c['group'], 'value group'),
    });
  }
  return Object.freeze({
    num: num(o['num'], 'rule num'),
    kind: kind as Rule['kind'],
    where: where as Rule['where'],
    sections: Object.freeze(asArray(o['sections'], 'rule sections').map((s) => str(s, 'section'))),
    comparator,
    expected: num(o['expected'], 'rule expected'),
    description: str(o['description'], 'rule description'),
    patterns: Object.freeze(asArray(o['patterns'], 'rule patterns').map(revivePattern)),
    ...(check ? { value: check } : {}),
    ...(o['expires'] !== undefined ? { expires: num(o['expires'], 'rule expires') } : {}),
    loc: locOf(o['loc']),
  });
}

function reviveTrigger(value: unknown, i: number): Trigger {
  const o = asObject(value, `triggers[${i}]`);
  return Object.freeze({
    name: str(o['name'], 'trigger name'),
    patterns: Object.freeze(asArray(o['patterns'], 'trigger patterns').map(revivePattern)),
    limit: num(o['limit'], 'trigger limit'),
    required: o['required'] === true,
    ...(o['loc'] !== undefined ? { loc: locOf(o['loc']) } : {}),
  });
}

function revivePattern(value: unknown): LinePattern {
  const o = asObject(value, 'a pattern');
  const source = str(o['source'], 'pattern source');
  const flags = str(o['flags'], 'pattern flags');
  if (!/^i?$/.test(flags)) throw new Error(`pattern ${source} has flags '${flags}'`);
  let line: RegExp;
  try {
    line = new RegExp(source, flags);
  } catch (err) {
    throw new Error(`pattern /${source}/ is not a regular expression (${(err as Error).message})`);
  }
  return Object.freeze({ text: str(o['text'], 'pattern text'), line, scan: o['scan'] === true ? new RegExp(source, `${flags}gm`) : null });
}

function comparatorOf(value: unknown, where: string): Comparator {
  if (typeof value !== 'string' || !(COMPARATORS as readonly string[]).includes(value)) throw new Error(`${where} has no valid comparator`);
  return value as Comparator;
}

function locOf(value: unknown): SourceLocation {
  const o = asObject(value, 'a location');
  return { file: str(o['file'], 'location file'), line: num(o['line'], 'location line') };
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not a list`);
  return value;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what} is not a string`);
  return value;
}

function num(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${what} is not a number`);
  return value;
}
