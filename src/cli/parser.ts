/**
 * The command line, as a pure function: argv in, a command name and its typed options (or help
 * text) out. yargs is built from the declarations in specs/ (and reads only the words: unknown
 * options, missing arguments, choices); the declarations then turn its output into each
 * command's options object, checking every value once. yargs' output is captured, never
 * printed, and it never exits the process.
 */
import yargs, { type Argv } from 'yargs';
import { TrellisError } from '../util/errors.js';
import { GLOBAL_OPTIONS, type CommandSpec, type OptionSpec, type PositionalSpec } from './command-spec.js';
import { readOptions, USAGE_HINT, type AnySpec, type Raw } from './read-options.js';
import { GROUPS, SPECS, type CommandName, type OptionsFor } from './specs/index.js';

/** A command chosen, with its options. */
export type ParsedCommand = { [K in CommandName]: { kind: 'command'; command: K; options: OptionsFor<K> } }[CommandName];

export type ParseResult = ParsedCommand | { kind: 'output'; text: string; exitCode: number };

export interface ParseSettings {
  /** the terminal's width, for the help */
  width?: number | undefined;
  /** what `--version` prints */
  version?: string;
}

/** The usage line of a spec: its words, then `<required>` and `[optional]` positionals. */
export function usageOf(spec: CommandSpec): string {
  const words = spec.command.split(' ');
  const positionals = Object.entries(spec.positionals ?? {}).map(([name, p]) => (p.required ? `<${name}>` : `[${name}]`));
  return [words[words.length - 1], ...positionals].join(' ');
}

function addOption(y: Argv, name: string, o: OptionSpec, global = false): Argv {
  return y.option(name, {
    type: o.type,
    describe: o.describe,
    ...(o.alias !== undefined && { alias: o.alias }),
    ...(o.type === 'string' && { requiresArg: true }),
    ...(o.choices !== undefined && { choices: o.choices }),
    ...(o.default !== undefined && { default: o.default }),
    ...(global && { global: true }),
  });
}

function addPositional(y: Argv, name: string, p: PositionalSpec): Argv {
  return y.positional(name, {
    type: 'string',
    describe: p.describe,
    ...(p.choices !== undefined && { choices: p.choices }),
    ...(p.default !== undefined && { default: p.default }),
  });
}

/** Adds one command to `y`; `select` hears that it was chosen. */
function addCommand(y: Argv, name: CommandName, spec: CommandSpec, select: (c: CommandName) => void): Argv {
  const builder = (c: Argv) => {
    let b = c;
    for (const [p, ps] of Object.entries(spec.positionals ?? {})) b = addPositional(b, p, ps);
    for (const [o, os] of Object.entries(spec.options ?? {})) b = addOption(b, o, os);
    for (const [cmd, what] of spec.examples ?? []) b = b.example(cmd, what);
    return b;
  };
  return y.command({ command: usageOf(spec), describe: spec.hidden ? false : spec.describe, builder, handler: () => select(name) });
}

/** Builds the yargs definition from SPECS; `select` receives the command chosen. */
function define(argv: string[], settings: ParseSettings, select: (c: CommandName) => void): Argv {
  const base = yargs(argv).scriptName('trellis');
  let y = (settings.version === undefined ? base.version(false) : base.version(settings.version)).usage(
    '$0 <command> [options]\n\nTrellis runs test areas, records every result in SQLite, and reports on them.',
  );
  for (const [name, o] of Object.entries(GLOBAL_OPTIONS)) y = addOption(y, name, o, true);
  const groups = new Map<string, Array<[CommandName, CommandSpec]>>();
  for (const [name, spec] of Object.entries(SPECS) as Array<[CommandName, CommandSpec]>) {
    const words = spec.command.split(' ');
    if (words.length === 1) y = addCommand(y, name, spec, select);
    else groups.set(words[0]!, [...(groups.get(words[0]!) ?? []), [name, spec]]);
  }
  for (const [word, members] of groups) {
    y = y.command(word, GROUPS[word] ?? word, (g) => {
      let b = g;
      for (const [name, spec] of members) b = addCommand(b, name, spec, select);
      // `trellis list --help` shows what its members' help shows.
      for (const [cmd, what] of members.flatMap(([, s]) => s.examples ?? [])) b = b.example(cmd, what);
      return b.demandCommand(1, `give what to ${word}: ${members.map(([, s]) => s.command.split(' ')[1]).join(', ')}`);
    });
  }
  return (
    y
      .example('$0 run -t linux/x86_64 -r nightly', 'run the tests of the area here')
      .example('$0 list tests -t linux/x86_64 -r nightly --status FAIL', 'what failed')
      .demandCommand(1, 'give a command; see trellis --help')
      // populate--: `wrap NAME -- CMD ARGS` gets exactly the words after `--`, options or not.
      .parserConfiguration({ 'parse-positional-numbers': false, 'populate--': true })
      .strict()
      .help()
      .alias('help', 'h')
      // yargs breaks example commands mid-word in narrow columns: below 120 columns, or when not on a
      // terminal, leave long lines to the terminal.
      .wrap(settings.width !== undefined && settings.width >= 120 ? Math.min(settings.width, 160) : null)
      .exitProcess(false)
  );
}

/** Parses argv; usage errors throw TrellisError USAGE, bad values BAD_VALUE or BAD_PATTERN. */
export function parseArgs(argv: string[], settings: ParseSettings = {}): ParseResult {
  let chosen: CommandName | undefined;
  let output = '';
  let failure: string | undefined;
  const parser = define(argv, settings, (c) => (chosen = c)).fail((msg, err) => {
    failure ??= msg ?? err?.message ?? 'bad command line';
  });
  const raw = parser.parse(argv, {}, (_err, _argv, out) => {
    output = out;
  }) as Raw;
  if (failure !== undefined && raw._[0] === 'wrap' && !argv.includes('--') && /^Unknown argument/.test(failure)) {
    // Its command's words would read as unknown arguments: say where they belong instead.
    failure = 'put the command to run after --: trellis wrap NAME -- CMD ARGS…';
  }
  if (failure !== undefined) {
    // yargs spreads some messages over lines ("Invalid values:\n  Argument: …"): keep one line.
    const line = failure
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .join(' ');
    throw new TrellisError('USAGE', line, USAGE_HINT);
  }
  if (output !== '' || chosen === undefined) return { kind: 'output', text: output, exitCode: 0 };
  const spec: AnySpec = SPECS[chosen];
  const rest = raw['--'];
  if (!spec.rest && Array.isArray(rest) && rest.length > 0) {
    throw new TrellisError(
      'USAGE',
      `unexpected arguments after --: ${rest.join(' ')}`,
      'only `trellis wrap NAME -- CMD ARGS` takes a command after --',
    );
  }
  // The one place the declarations' values meet their types: readOptions follows the same spec.
  return { kind: 'command', command: chosen, options: readOptions(spec, raw) } as ParsedCommand;
}
