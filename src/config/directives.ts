/**
 * `#{…}` directives inside a config line. They are parsed, not searched for with a regex, so that
 * nesting works innermost-first (`#{getenv #{get a b}}`) and so that a directive's output is never
 * scanned again: a value or a command output that happens to contain `#{` stays literal text.
 */
import fs from 'node:fs';
import path from 'node:path';
import { configError, type SourceLocation } from '../util/errors.js';
import { pickFirstLine, runConfigCommand } from './commands.js';
import type { ConfigFile, ReadContext } from './types.js';

/** What directives may look at while one line is expanded. */
export interface DirectiveScope {
  ctx: ReadContext;
  /** folder of the file being read: cwd of commands, base of #{rp} */
  dir: string;
  /** the file as read so far, for #{get} */
  config: ConfigFile;
  loc: SourceLocation;
}

const SUPPORTED = 'getenv, get, rget, shell, system, mtrah, rp';

// Megatest's short aliases, accepted so existing areas load unchanged.
const ALIASES: Readonly<Record<string, string>> = {
  gv: 'getenv',
  g: 'get',
  'runconfigs-get': 'rget',
  sh: 'shell',
  realpath: 'rp',
  scm: 'scheme',
};

/** Expands every `#{…}` in `text`, innermost first; text outside directives is kept as is. */
export function expandDirectives(text: string, scope: DirectiveScope): string {
  if (!text.includes('#{')) return text;
  const [out] = expandFrom(text, 0, false, scope);
  return out;
}

/**
 * Expands from `start`; inside a directive, stops at the `}` that closes it (plain `{…}` pairs,
 * such as `${HOME}` in a shell command, nest) and returns the position after it.
 */
function expandFrom(text: string, start: number, inside: boolean, scope: DirectiveScope): [string, number] {
  let out = '';
  let depth = 0;
  let i = start;
  while (i < text.length) {
    if (text.startsWith('#{', i)) {
      const [inner, next] = expandFrom(text, i + 2, true, scope);
      out += evaluate(inner, scope);
      i = next;
      continue;
    }
    const ch = text[i]!;
    if (inside && ch === '{') depth++;
    if (inside && ch === '}') {
      if (depth === 0) return [out, i + 1];
      depth--;
    }
    out += ch;
    i++;
  }
  if (inside) {
    throw configError('CONFIG_SYNTAX', scope.loc, `'#{' is not closed in '${text.trim()}'`, 'add the closing } (each #{ needs one)');
  }
  return [out, i];
}

/** Runs one directive, `name args…`, whose arguments are already expanded. */
function evaluate(body: string, scope: DirectiveScope): string {
  const trimmed = body.trim();
  const space = trimmed.search(/\s/);
  const written = space < 0 ? trimmed : trimmed.slice(0, space);
  const arg = space < 0 ? '' : trimmed.slice(space + 1).trim();
  const name = ALIASES[written] ?? written;
  const { ctx, loc } = scope;
  const need = (what: string) => {
    if (arg === '') {
      throw configError('CONFIG_SYNTAX', loc, `#{${written}} needs ${what}`, `write #{${written} ${what.toUpperCase()}}`);
    }
  };
  switch (name) {
    case 'getenv':
      need('a variable name');
      return ctx.env[arg] ?? '';
    case 'get': {
      const parts = arg.split(/\s+/);
      if (parts.length !== 2 || parts[0] === '') {
        throw configError('CONFIG_SYNTAX', loc, `#{${written} ${arg}} needs a section and a key`, `write #{get SECTION KEY}`);
      }
      const value = scope.config.get(parts[0]!, parts[1]!);
      if (value === undefined) ctx.debug?.(`${loc.file}:${loc.line}: #{get ${arg}}: not set (yet), using ''`);
      return value?.text ?? '';
    }
    case 'rget':
      need('a variable name');
      return ctx.rget?.(arg) ?? '';
    case 'shell': {
      need('a command');
      const res = runConfigCommand(arg, { env: ctx.env, cwd: scope.dir }, loc);
      if (res.status !== 0) {
        // Like $(…) in sh: the output is kept whatever the exit code; say so for --debug.
        ctx.debug?.(`${loc.file}:${loc.line}: #{shell ${arg}} exited with ${res.status} ${pickFirstLine(res.stderr)}`);
      }
      return res.stdout.replace(/\r?\n/g, ' ').trim();
    }
    case 'system': {
      need('a command');
      return String(runConfigCommand(arg, { env: ctx.env, cwd: scope.dir }, loc).status);
    }
    case 'mtrah':
      // Megatest: `#{mtrah sub/dir}` is the area folder joined with the argument.
      return arg === '' ? ctx.areaDir : `${ctx.areaDir}/${arg}`;
    case 'rp': {
      need('a path');
      const resolved = path.resolve(scope.dir, arg);
      try {
        return fs.realpathSync(resolved);
      } catch {
        return resolved;
      }
    }
    case 'scheme':
      throw configError(
        'CONFIG_UNSUPPORTED',
        loc,
        `#{${written}} is not supported (Trellis does not evaluate Scheme)`,
        `compute the value with #{shell CMD} or a [scriptinc CMD] script instead`,
      );
    default:
      throw configError('CONFIG_UNSUPPORTED', loc, `unknown directive #{${written}}`, `use one of ${SUPPORTED}`);
  }
}
