/**
 * From the words a command line gave each option to the command's typed options object: every
 * value checked once by its declaration, then the spec's own check. Shared by the yargs parser
 * and the quick path that reads simple command lines without loading yargs.
 */
import { TrellisError } from '../util/errors.js';
import { camelCase, GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './command-spec.js';

/** What a parser read: the words (`_`), then each option's text(s) or flag, by its long name; `--` the words after it. */
export type Raw = Record<string, unknown> & { _: (string | number)[] };

/** Any declared command, as the code that walks declarations sees it. */
export type AnySpec = CommandSpec & { readonly check?: (opts: never) => void };

export const USAGE_HINT = 'see `trellis --help` or `trellis <command> --help`';

/** `[--flag]` for messages: the short form when there is one (`-j`), as people usually type it. */
function flagOf(name: string, o: OptionSpec): string {
  return o.alias !== undefined && o.alias.length === 1 ? `-${o.alias}` : `--${name}`;
}

/** The texts given for an option, in order (yargs gives a list when it is repeated). */
function textsOf(raw: unknown): string[] {
  if (raw === undefined) return [];
  return Array.isArray(raw) ? raw.map(String) : [String(raw)];
}

/** One declared option's value, from what yargs read. */
function readOption(name: string, o: OptionSpec, raw: unknown): unknown {
  if (o.type === 'boolean') return (Array.isArray(raw) ? raw[raw.length - 1] : raw) === true;
  const flag = flagOf(name, o);
  const convert = (text: string) => (o.parse ? o.parse(text, flag) : text);
  const texts = textsOf(raw);
  if (o.repeat) return texts.map(convert);
  // Given twice, the last one counts.
  const text = texts[texts.length - 1];
  if (text === undefined || (o.required && text === '')) {
    if (o.required) throw new TrellisError('USAGE', `missing required option --${name}`, USAGE_HINT);
    return undefined;
  }
  return convert(text);
}

/** The typed options of `spec` from what yargs read: every value checked, then the spec's own check. */
export function readOptions(spec: AnySpec, raw: Raw): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(spec.positionals ?? {})) {
    const value = raw[name];
    out[camelCase(name)] = value === undefined ? undefined : String(value);
    if (p.required && (value === undefined || value === '')) throw new TrellisError('USAGE', `missing the ${name} argument`, USAGE_HINT);
  }
  for (const [name, o] of Object.entries({ ...GLOBAL_OPTIONS, ...spec.options })) out[camelCase(name)] = readOption(name, o, raw[name]);
  if (spec.rest) out['rest'] = textsOf(raw['--']);
  spec.check?.(out as never);
  return out;
}
