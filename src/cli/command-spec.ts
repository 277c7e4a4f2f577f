/**
 * One declaration per command: its words, positionals, options, examples and the checks that
 * span options. The parser builds yargs from it, and the typed options object a command's
 * `execute` receives is derived from it (OptionsOf), so the two cannot drift: declaring an option
 * is what makes `opts.rerunClean` exist, with the type its declaration gives.
 *
 * Values are validated here, once: `parse` turns the text into the value the command uses (or
 * throws a TrellisError naming the option), `choices` limits the words, `required` refuses a
 * missing or empty value.
 */

/** An option (`--name VALUE` or a `--flag`). */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly alias?: string;
  readonly describe: string;
  /** missing or empty is a usage error: `missing required option --name` */
  readonly required?: boolean;
  readonly choices?: readonly string[];
  readonly default?: string;
  /** may be given more than once: the value is the list, in order (empty when not given) */
  readonly repeat?: boolean;
  /** text → value; throws a TrellisError naming `flag` for a bad value */
  readonly parse?: (text: string, flag: string) => unknown;
}

/** A positional word (`show <test>`, `init [dir]`). */
export interface PositionalSpec {
  readonly describe: string;
  /** `<name>` when true, `[name]` when not */
  readonly required?: boolean;
  readonly choices?: readonly string[];
  readonly default?: string;
}

export interface CommandSpec {
  /** the words typed before the positionals: `run`, `list runs`, `config show` */
  readonly command: string;
  readonly describe: string;
  /** in the order they are typed */
  readonly positionals?: Readonly<Record<string, PositionalSpec>>;
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /** the command takes the words after `--` (`opts.rest`) */
  readonly rest?: boolean;
  /** left out of the help (the completion scripts' helper) */
  readonly hidden?: boolean;
  readonly examples?: ReadonlyArray<readonly [string, string]>;
}

/** A declared command: the spec, and the checks that span its options. */
export type Declared<S extends CommandSpec> = S & {
  /** throws a TrellisError (USAGE) when the options do not go together */
  readonly check?: (opts: OptionsOf<S>) => void;
};

/** Declares a command; `check` sees the typed options. */
export function defineCommand<const S extends CommandSpec>(spec: S, check?: (opts: OptionsOf<S>) => void): Declared<S> {
  return check === undefined ? spec : { ...spec, check };
}

/** The options every command takes. */
export const GLOBAL_OPTIONS = {
  area: { type: 'string', describe: 'the test area folder (default: search upward from here)' },
  runarea: { type: 'string', describe: 'the run area (default: [setup] runarea, else <area>/runs)' },
  direct: { type: 'boolean', describe: 'open the databases in this process instead of using a server (also TRELLIS_DIRECT=1)' },
  debug: { type: 'boolean', describe: 'debug logging, stack traces on errors' },
} as const satisfies Record<string, OptionSpec>;

/** `rerun-clean` → `rerunClean`. */
export type CamelCase<S extends string> = S extends `${infer A}-${infer B}` ? `${A}${Capitalize<CamelCase<B>>}` : S;

/** `rerun-clean` → `rerunClean`, as yargs and CamelCase spell it. */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

type BaseValue<O> = O extends { parse: (text: string, flag: string) => infer T }
  ? T
  : O extends { choices: ReadonlyArray<infer C> }
    ? C
    : O extends { type: 'boolean' }
      ? boolean
      : string;

/** An option's value: a list when repeatable; never undefined when required, defaulted or a flag. */
export type OptionValue<O> = O extends { repeat: true }
  ? BaseValue<O>[]
  : O extends { required: true } | { default: string } | { type: 'boolean' }
    ? BaseValue<O>
    : BaseValue<O> | undefined;

type Values<R> = { -readonly [K in keyof R & string as CamelCase<K>]: OptionValue<R[K]> };

/** The typed options object of a command: its positionals and options, camel-cased, plus the global ones. */
export type OptionsOf<S extends CommandSpec> = Values<typeof GLOBAL_OPTIONS> &
  (S extends { positionals: infer P } ? Values<P> : unknown) &
  (S extends { options: infer O } ? Values<O> : unknown) &
  (S extends { rest: true } ? { rest: string[] } : unknown);

/** What main.ts, area access and the like need of any command's options. */
export type GlobalOptions = Values<typeof GLOBAL_OPTIONS>;
