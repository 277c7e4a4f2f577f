/**
 * The command line without yargs, for what most invocations are: a declared command, its
 * positionals, and options spelled plainly (`--name VALUE`, `--name=VALUE`, `-x VALUE`, `--flag`).
 * Loading yargs costs about as much CPU as starting Node does, and a run of 200 remote jobs starts
 * 200 `trellis exec`s; in-test helpers are called dozens of times per test. Anything this does not
 * recognise — help, --version, an unknown or misspelled option, a missing value, a value not among
 * its choices, an extra word — gives up (undefined), and the full parser reads the line instead,
 * with its error messages. What it does read goes through the same declarations, so the options
 * object is the one the full parser gives (a test compares them).
 */
import { GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './command-spec.js';
import type { ParsedCommand } from './parser.js';
import { readOptions, type Raw } from './read-options.js';
import { SPECS, type CommandName } from './specs/index.js';

/** The command and its options, or undefined when the full parser must read this line. */
export function quickParse(argv: readonly string[]): ParsedCommand | undefined {
  const found = findCommand(argv);
  if (found === undefined) return undefined;
  const { name, spec, used } = found;
  const options: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS, ...spec.options };
  const byAlias = new Map<string, string>();
  for (const [long, o] of Object.entries(options)) if (o.alias !== undefined) byAlias.set(o.alias, long);
  const positionals = Object.keys(spec.positionals ?? {});
  const raw: Raw = { _: argv.slice(0, used) };
  let nextPositional = 0;
  for (let i = used; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      if (!spec.rest) return undefined;
      raw['--'] = argv.slice(i + 1);
      break;
    }
    if (word.startsWith('-') && word.length > 1) {
      let long: string | undefined;
      let inline: string | undefined;
      if (word.startsWith('--')) {
        const eq = word.indexOf('=');
        long = eq < 0 ? word.slice(2) : word.slice(2, eq);
        if (eq >= 0) inline = word.slice(eq + 1);
      } else {
        if (word.length !== 2) return undefined; // `-j4`, `-abc`: the full parser's business
        long = byAlias.get(word.slice(1));
      }
      const o = long === undefined ? undefined : options[long];
      if (long === undefined || o === undefined || long === 'help' || long === 'version') return undefined;
      if (o.type === 'boolean') {
        if (inline !== undefined) return undefined;
        raw[long] = true;
        continue;
      }
      const value = inline ?? argv[++i];
      // A value that looks like an option is one the full parser decides about (`-j -1`).
      if (value === undefined || (inline === undefined && value.startsWith('-') && value !== '-')) return undefined;
      if (o.choices !== undefined && !o.choices.includes(value)) return undefined;
      const before = raw[long];
      raw[long] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
      continue;
    }
    const pname = positionals[nextPositional++];
    if (pname === undefined) return undefined;
    const p = spec.positionals![pname]!;
    if (p.choices !== undefined && !p.choices.includes(word)) return undefined;
    raw[pname] = word;
  }
  for (const [pname, p] of Object.entries(spec.positionals ?? {})) {
    if (raw[pname] === undefined && p.default !== undefined) raw[pname] = p.default;
  }
  for (const [long, o] of Object.entries(options)) {
    if (raw[long] === undefined && o.default !== undefined) raw[long] = o.default;
  }
  // Something required missing: the full parser says so in its own words.
  for (const [pname, p] of Object.entries(spec.positionals ?? {})) if (p.required && !raw[pname]) return undefined;
  for (const [long, o] of Object.entries(options)) if (o.required && !raw[long]) return undefined;
  // Bad values: the same errors the full parser gives, from the same declarations.
  return { kind: 'command', command: name, options: readOptions(spec, raw) } as ParsedCommand;
}

/** The declared command the first words name, and how many words that took. */
function findCommand(argv: readonly string[]): { name: CommandName; spec: CommandSpec; used: number } | undefined {
  const [first, second] = argv;
  if (first === undefined || first.startsWith('-')) return undefined;
  for (const [name, spec] of Object.entries(SPECS) as Array<[CommandName, CommandSpec]>) {
    const words = spec.command.split(' ');
    if (words.length === 1 && words[0] === first) return { name, spec, used: 1 };
    if (words.length === 2 && words[0] === first && words[1] === second) return { name, spec, used: 2 };
  }
  return undefined;
}
