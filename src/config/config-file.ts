/**
 * The in-memory form of a read config file. Assignments are kept as one list in file order, and a
 * section's entries are computed on demand by replaying every assignment whose section is that
 * name or a `%`/`/regex/` pattern matching it. Replaying in file order is what makes "a later
 * assignment replaces an earlier one" hold across literal and pattern sections alike, and what lets
 * a name that was never written as a section (a new target) still pick up its pattern sections.
 */
import { percentToRegExp } from '../model/pattern.js';
import { configError, type SourceLocation } from '../util/errors.js';
import type { ConfigFile, ConfigValue } from './types.js';

interface Assignment {
  readonly section: string;
  readonly key: string;
  readonly value: ConfigValue;
}

type Entries = ReadonlyArray<readonly [string, ConfigValue]>;

/** True when a section name is a `/regex/`: it starts and ends with `/` and has a body. */
export function isRegexSectionName(name: string): boolean {
  return name.length > 2 && name.startsWith('/') && name.endsWith('/');
}

/** True when a section name is a pattern (`%` wildcard or `/regex/`) rather than a literal name. */
export function isPatternSectionName(name: string): boolean {
  return isRegexSectionName(name) || name.includes('%');
}

/**
 * The matcher of a pattern section, anchored at both ends (Megatest matches the whole name);
 * null for a literal name. A bad regex is a CONFIG_SYNTAX error at `loc`.
 */
export function sectionMatcher(name: string, loc: SourceLocation): RegExp | null {
  if (isRegexSectionName(name)) {
    try {
      return new RegExp(`^(?:${name.slice(1, -1)})$`, 's');
    } catch (err) {
      throw configError(
        'CONFIG_SYNTAX',
        loc,
        `section [${name}] is not a valid regular expression (${(err as Error).message})`,
        'fix the regex between the slashes, or use a % pattern',
      );
    }
  }
  return name.includes('%') ? percentToRegExp(name) : null;
}

/** A config file being read, then frozen; implements ConfigFile. */
export class IniConfig implements ConfigFile {
  readonly file: string;
  #sections = new Map<string, RegExp | null>();
  #assignments: Assignment[] = [];
  #cache = new Map<string, Entries>();
  #frozen = false;

  constructor(file: string) {
    this.file = file;
  }

  /** Records that a section was written (so even an empty one is kept). */
  addSection(name: string, loc: SourceLocation): void {
    if (this.#frozen) throw new Error('IniConfig is frozen');
    if (!this.#sections.has(name)) this.#sections.set(name, sectionMatcher(name, loc));
  }

  /** Records `key value` in `section`, in file order. */
  assign(section: string, key: string, value: ConfigValue): void {
    if (this.#frozen) throw new Error('IniConfig is frozen');
    if (!this.#sections.has(section)) this.#sections.set(section, sectionMatcher(section, value.loc));
    this.#assignments.push({ section, key, value: Object.freeze({ ...value, loc: Object.freeze({ ...value.loc }) }) });
    this.#cache.clear();
  }

  /** Ends reading: no more assignments. */
  freeze(): this {
    this.#frozen = true;
    return this;
  }

  sectionNames(): string[] {
    return [...this.#sections.keys()];
  }

  hasSection(name: string): boolean {
    return this.#sections.has(name);
  }

  entries(section: string): Entries {
    const cached = this.#cache.get(section);
    if (cached) return cached;
    // Map.set on an existing key keeps its position: order of first appearance, latest value.
    const merged = new Map<string, ConfigValue>();
    for (const a of this.#applying(section)) merged.set(a.key, a.value);
    const result: Entries = Object.freeze([...merged].map((e) => Object.freeze(e)));
    this.#cache.set(section, result);
    return result;
  }

  assignments(section: string): Entries {
    return Object.freeze(this.#applying(section).map((a) => Object.freeze([a.key, a.value] as const)));
  }

  /** The assignments, in file order, of `section` and of every pattern section matching it. */
  #applying(section: string): Assignment[] {
    const appliesTo = new Map<string, boolean>();
    const applies = (name: string): boolean => {
      let hit = appliesTo.get(name);
      if (hit === undefined) {
        const matcher = this.#sections.get(name);
        hit = name === section || matcher?.test(section) === true;
        appliesTo.set(name, hit);
      }
      return hit;
    };
    return this.#assignments.filter((a) => applies(a.section));
  }

  get(section: string, key: string): ConfigValue | undefined {
    for (const [k, v] of this.entries(section)) if (k === key) return v;
    return undefined;
  }

  text(section: string, key: string, fallback?: string): string | undefined {
    return this.get(section, key)?.text ?? fallback;
  }
}
