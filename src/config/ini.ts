/**
 * The Megatest config dialect reader, shared by trellis.config / megatest.config,
 * runconfigs.config and every testconfig. docs/config-reference.md states the rules; the comments
 * here say where Trellis deliberately differs from Megatest.
 */
import fs from 'node:fs';
import path from 'node:path';
import { configError, TrellisError, type SourceLocation } from '../util/errors.js';
import { NotARegularFileError, readRegularFile } from '../util/files.js';
import { runRequiredCommand } from './commands.js';
import { IniConfig } from './config-file.js';
import { expandDirectives } from './directives.js';
import type { ConfigFile, ConfigValue, ReadContext } from './types.js';

// Deep enough for any real layout; stops a scriptinc that includes itself forever.
const MAX_INCLUDE_DEPTH = 32;

/** Reads a config file; a file that cannot be read is a CONFIG_INCLUDE error naming it. */
export function readConfigFile(file: string, ctx: ReadContext): ConfigFile {
  let text: string;
  try {
    text = readRegularFile(file);
  } catch (err) {
    if (err instanceof NotARegularFileError) {
      throw new TrellisError(
        'CONFIG_INCLUDE',
        `${file}: cannot read config file (${err.kind}, not a regular file)`,
        'replace it with a regular file',
      );
    }
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new TrellisError('CONFIG_INCLUDE', `${file}: cannot read config file (${why})`, 'check the path and its permissions');
  }
  return parseConfigText(text, file, ctx);
}

/** Parses config text as if read from `file` (which names locations and anchors includes). */
export function parseConfigText(text: string, file: string, ctx: ReadContext): ConfigFile {
  const config = new IniConfig(file);
  const reader = new Reader(config, ctx);
  reader.read({ label: file, dir: path.dirname(path.resolve(file)), text, real: resolveReal(file) }, 'default');
  return config.freeze();
}

interface Source {
  /** the name used in locations: a file, or `file:line [scriptinc]` for a command's output */
  label: string;
  /** folder for includes, commands and #{rp} */
  dir: string;
  text: string;
  /** the real path of a file source, for include cycles */
  real?: string;
}

interface Pending {
  section: string;
  key: string;
  first: string;
  cont: Array<{ indent: string; text: string; line: number }>;
  loc: SourceLocation;
}

function resolveReal(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/** Joins physical lines ending in `\` with the next one, whose leading blanks are dropped. */
function joinContinuedLines(text: string): Array<{ text: string; line: number }> {
  const physical = text.split(/\r?\n/);
  const out: Array<{ text: string; line: number }> = [];
  for (let i = 0; i < physical.length; i++) {
    const line = i + 1;
    let joined = physical[i]!;
    while (joined.endsWith('\\') && i + 1 < physical.length) {
      joined = joined.slice(0, -1) + physical[++i]!.replace(/^[ \t]+/, '');
    }
    if (joined.endsWith('\\')) joined = joined.slice(0, -1);
    out.push({ text: joined, line });
  }
  return out;
}

/** Longest common prefix of the indents: removed from every continuation line. */
function findCommonIndent(indents: readonly string[]): string {
  let prefix = indents[0] ?? '';
  for (const s of indents) {
    let n = 0;
    while (n < prefix.length && n < s.length && prefix[n] === s[n]) n++;
    prefix = prefix.slice(0, n);
  }
  return prefix;
}

class Reader {
  readonly #config: IniConfig;
  readonly #ctx: ReadContext;
  readonly #stack: string[] = [];

  constructor(config: IniConfig, ctx: ReadContext) {
    this.#config = config;
    this.#ctx = ctx;
  }

  /**
   * Reads one source starting in `section`. Sections opened inside an included file do not leak
   * back into the including file (as in Megatest, which passes the current section down only).
   */
  read(source: Source, section: string): void {
    if (this.#stack.length >= MAX_INCLUDE_DEPTH) {
      throw new TrellisError(
        'CONFIG_INCLUDE',
        `${source.label}: includes nested more than ${MAX_INCLUDE_DEPTH} deep`,
        'look for an [include] or [scriptinc] that includes itself',
      );
    }
    this.#stack.push(source.real ?? source.label);
    try {
      this.#readLines(source, section);
    } finally {
      this.#stack.pop();
    }
  }

  #readLines(source: Source, startSection: string): void {
    let section = startSection;
    let pending: Pending | null = null;
    let endedBy = '';
    const flush = () => {
      if (pending) this.#assign(pending);
      pending = null;
    };
    for (const { text, line } of joinContinuedLines(source.text)) {
      const loc = { file: source.label, line };
      const expand = (s: string) => expandDirectives(s, { ctx: this.#ctx, dir: source.dir, config: this.#config, loc });
      const [, indent = '', rest = ''] = /^([ \t]*)(.*)$/s.exec(text)!;
      if (rest.trim() === '') {
        if (pending) endedBy = `a blank line at ${source.label}:${line} ended the value of '${pending.key}'`;
        flush();
        continue;
      }
      // `#` starts a comment only as the first non-blank character; `#{…}` there is a directive.
      // Comments neither end nor join a multi-line value (Megatest silently dropped what followed).
      if (rest.startsWith('#') && !rest.startsWith('#{')) continue;
      if (indent !== '') {
        if (pending) {
          pending.cont.push({ indent, text: expand(rest).trimEnd(), line });
          continue;
        }
        throw configError(
          'CONFIG_SYNTAX',
          loc,
          `indented line does not continue a value${endedBy ? ` (${endedBy})` : ''}`,
          'remove the indent to make it a KEY VALUE line, or put it right under the value it continues',
        );
      }
      flush();
      endedBy = '';
      const expanded = expand(text).trim();
      if (expanded === '') {
        this.#ctx.debug?.(`${loc.file}:${loc.line}: line is empty after expanding directives, ignored`);
        continue;
      }
      if (expanded.startsWith('[')) {
        section = this.#header(expanded, source, section, loc);
        continue;
      }
      const [, key = '', value = ''] = /^(\S+)(?:\s+(.*))?$/s.exec(expanded)!;
      pending = { section, key, first: value.trim(), cont: [], loc };
    }
    flush();
  }

  /** Handles a `[…]` line; returns the section that is current after it. */
  #header(line: string, source: Source, section: string, loc: SourceLocation): string {
    if (!line.endsWith(']')) {
      throw configError(
        'CONFIG_SYNTAX',
        loc,
        `'${line}' starts with '[' but does not end with ']'`,
        'write a section header as [name] on a line of its own',
      );
    }
    const inner = line.slice(1, -1).trim();
    const include = /^include\s+(.+)$/s.exec(inner);
    if (include) {
      this.#include(include[1]!.trim(), source, section, loc);
      return section;
    }
    const scriptinc = /^scriptinc\s+(.+)$/s.exec(inner);
    if (scriptinc) {
      const cmd = scriptinc[1]!.trim();
      const out = runRequiredCommand(cmd, { env: this.#ctx.env, cwd: source.dir }, loc, `[scriptinc ${cmd}]`);
      this.read({ label: `${loc.file}:${loc.line} [scriptinc]`, dir: source.dir, text: out }, section);
      return section;
    }
    if (/^configf:settings\s/.test(inner)) {
      // Megatest reader settings (e.g. trim-trailing-spaces): Trellis always trims, nothing to set.
      this.#ctx.debug?.(`${loc.file}:${loc.line}: [${inner}] ignored`);
      return section;
    }
    if (inner === '') {
      throw configError('CONFIG_SYNTAX', loc, 'empty section name []', 'write a name between the brackets, e.g. [setup]');
    }
    this.#config.addSection(inner, loc);
    return inner;
  }

  #include(name: string, source: Source, section: string, loc: SourceLocation): void {
    const target = path.resolve(source.dir, name);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(target);
    } catch {
      this.#ctx.debug?.(`${loc.file}:${loc.line}: [include ${name}]: ${target} not found, skipped`);
      return;
    }
    if (!stat.isFile()) {
      throw configError('CONFIG_INCLUDE', loc, `[include ${name}]: ${target} is not a file`, 'include a config file, not a folder');
    }
    const real = resolveReal(target);
    if (this.#stack.includes(real)) {
      const chain = [...this.#stack.slice(this.#stack.indexOf(real)), real].map((f) => path.basename(f)).join(' → ');
      throw configError('CONFIG_INCLUDE', loc, `include cycle: ${chain}`, `remove [include ${name}] or the include that leads back here`);
    }
    let text: string;
    try {
      text = readRegularFile(target);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw configError('CONFIG_INCLUDE', loc, `[include ${name}]: cannot read ${target} (${why})`, 'check its permissions');
    }
    this.read({ label: target, dir: path.dirname(target), text, real }, section);
  }

  #assign(p: Pending): void {
    const indent = findCommonIndent(p.cont.map((c) => c.indent));
    const lines = p.cont.map((c) => c.indent.slice(indent.length) + c.text);
    // `KEY` alone followed by indented lines: the value is just those lines, no leading newline.
    const text = p.first === '' ? lines.join('\n') : [p.first, ...lines].join('\n');
    const lazy = /^\[system\s+([\s\S]*\S)\s*\]$/.exec(text);
    // Where each line of a multi-line value is (comment lines between them are left out).
    const textLines = p.cont.length === 0 ? undefined : [...(p.first === '' ? [] : [p.loc.line]), ...p.cont.map((c) => c.line)];
    const value: ConfigValue = lazy
      ? { text: '', loc: p.loc, lazyCommand: lazy[1]!.trim() }
      : { text, loc: p.loc, ...(textLines ? { textLines } : {}) };
    this.#config.assign(p.section, p.key, value);
  }
}
