/**
 * Resolved configuration: what the reader makes of trellis.config, runconfigs.config and each
 * testconfig. Everything here is frozen once built; nothing reads process.env behind your back
 * (the environment used while reading is passed in and recorded).
 */
import type { RuleSet } from '../logrules/index.js';
import type { SourceLocation } from '../util/errors.js';

/** One value as read: its text after directive expansion, and where it was set. */
export interface ConfigValue {
  readonly text: string;
  readonly loc: SourceLocation;
  /** `KEY [system CMD]`: the command, run only when the value is needed (items) */
  readonly lazyCommand?: string;
  /** a multi-line value: the file line of each line of `text` */
  readonly textLines?: readonly number[];
}

/** A read config file: sections of ordered keys, with `%` and `/regex/` sections applied. */
export interface ConfigFile {
  /** the file that was read (includes are folded in) */
  readonly file: string;
  /** names of the sections as written, in first-seen order, pattern sections included */
  sectionNames(): string[];
  /** true when a section of exactly this name was written */
  hasSection(name: string): boolean;
  /**
   * Ordered entries of `section`: its own keys plus those of every `%`-pattern or `/regex/`
   * section matching its name, later assignments (in file order) replacing earlier ones.
   */
  entries(section: string): ReadonlyArray<readonly [string, ConfigValue]>;
  /**
   * Every `KEY VALUE` of `section` in file order, a key given twice included (for sections whose
   * lines add up rather than replace each other, like a testconfig's [logrules]).
   */
  assignments(section: string): ReadonlyArray<readonly [string, ConfigValue]>;
  /** The value of `key` in `section` (patterns applied), or undefined. */
  get(section: string, key: string): ConfigValue | undefined;
  /** Shortcut: the text of get(), or `fallback`. */
  text(section: string, key: string, fallback?: string): string | undefined;
}

/** Context for reading: the environment used by #{getenv}, #{shell} and friends. */
export interface ReadContext {
  /** environment for #{getenv} and for commands (#{shell}, #{system}, [scriptinc]) */
  env: Readonly<Record<string, string | undefined>>;
  /** the area folder: #{mtrah}, MT_RUN_AREA_HOME */
  areaDir: string;
  /** #{rget VAR}: runconfigs value for the current target, else [default] */
  rget?: (name: string) => string | undefined;
  /** debug notes (a missing include, an ignored line) */
  debug?: (message: string) => void;
}

export interface SetupConfig {
  /** [setup] max_concurrent_jobs; default: number of CPUs */
  maxConcurrentJobs: number;
  /** [setup] runtimelim in seconds, the default for every test; null: none */
  runtimelim: number | null;
  /** [setup] deadtime: seconds without a heartbeat before a runner on another host is dead */
  deadtime: number;
  /**
   * [setup] reqtarg yes: a target must be named in runconfigs.config (Megatest's -reqtarg); where it
   * was set, for messages. null: targets runconfigs.config does not name run with [default]
   */
  reqtarg: SourceLocation | null;
  /** [setup] approvers USER…: who may sign off manual steps, and where that was set; null: anyone */
  approvers: UserList | null;
  /**
   * [setup] admins USER…: who alone may force changes to locked or closed runs, unlock, remove a
   * locked run, and sign off where approvers is not set; null: anyone (docs/security.md)
   */
  admins: UserList | null;
  /** [setup] identity: `required` refuses unsigned writes; `optional` records them as unverified */
  identity: 'optional' | 'required';
}

/** Login names a [setup] key lists, with where it was set. */
export interface UserList {
  readonly users: readonly string[];
  readonly loc: SourceLocation;
}

/** [server]: how a server of this area listens and for how long it waits. */
export interface ServerConfig {
  /** [server] idle_timeout in seconds: exit after this long without a call; default 600 */
  idleTimeout: number;
  /** [server] port_range `LO-HI`: ports to try; null: any free port */
  portRange: readonly [number, number] | null;
  /** [server] advertise: host name or address written into packets; undefined: this host's */
  advertise: string | undefined;
  /** [server] bind: address to listen on; undefined: all interfaces */
  bind: string | undefined;
  /** [server] log_level: the least level the server log keeps; default info */
  logLevel: LogLevel;
  /** [server] log_size in bytes: the log is rotated when it reaches this; default 10 MiB */
  logMaxBytes: number;
  /** [server] log_files: how many rotated logs to keep; default 5 */
  logFiles: number;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The area: its config files read, with the settings the rest of Trellis needs. */
export interface Area {
  readonly dir: string;
  /** trellis.config, or megatest.config for migrating users */
  readonly configFile: string;
  readonly config: ConfigFile;
  readonly runconfigs: ConfigFile;
  /** `[fields]` key names in order (e.g. ['OS', 'ARCH']) */
  readonly fields: readonly string[];
  /** absolute run area: --runarea, else [setup] runarea, else first [disks] entry, else <area>/runs */
  readonly runArea: string;
  readonly setup: SetupConfig;
  readonly server: ServerConfig;
  /** [jobgroups] NAME N */
  readonly jobgroups: ReadonlyMap<string, number>;
  /** [resources] NAME COUNT: shared resources and their shares, held area-wide across runs */
  readonly resources: ReadonlyMap<string, number>;
  /** [jobtools] launcher, if set */
  readonly launcher: string | undefined;
  /** [env-override] entries, values unexpanded ($VAR is expanded at export) */
  readonly envOverride: ReadonlyArray<readonly [string, ConfigValue]>;
  /** test names found under tests/ (folders with a testconfig), sorted */
  readonly testNames: readonly string[];
  /** [params]: the run's declared inputs, in file order */
  readonly params: readonly ParamDecl[];
}

/** One `[params]` line: a run input, checked before anything runs (config/params.ts). */
export interface ParamDecl {
  readonly name: string;
  /** a run must give it (`--param NAME=VALUE`) */
  readonly required: boolean;
  /** the value when not given; an optional parameter without one is '' */
  readonly default?: string;
  /** the value must be one of these */
  readonly choices?: readonly string[];
  /** the value must match this (as written; `regex` is anchored at both ends) */
  readonly pattern?: string;
  readonly regex?: RegExp;
  /** what it is, for people (`--help`, the web form, error lines) */
  readonly description: string;
  readonly loc: SourceLocation;
}

/** A resolved target: exactly one value per key. */
export interface Target {
  /** values joined by `/` */
  readonly name: string;
  readonly values: readonly string[];
  /** key name → value */
  readonly keys: Readonly<Record<string, string>>;
}

export type WaitMode = 'normal' | 'toplevel' | 'itemwait';

export interface Step {
  readonly name: string;
  /** shell command, run in the test's work folder (its `{…}` options taken off); a manual step's prompt */
  readonly command: string;
  readonly loc: SourceLocation;
  /** `{manual}`: a sign-off; the test waits for `trellis approve` instead of running a command */
  readonly manual?: boolean;
  /** `{restartable=no}`: a resume never starts at this step (docs/workflows.md#resume) */
  readonly restartable?: boolean;
}

/** One item variable: its values, or a command that yields them when the test is ready to run. */
export interface ItemVar {
  readonly name: string;
  readonly values: readonly string[] | null;
  /** `VAR [system CMD]`: run CMD lazily; its output split on white space gives the values */
  readonly lazyCommand?: string;
  readonly loc: SourceLocation;
}

export interface ItemSpec {
  /** [items]: cross product, first line varies slowest */
  readonly items: readonly ItemVar[];
  /** [itemstable]: columns zipped into rows */
  readonly table: readonly ItemVar[];
}

/** One expanded item: ordered variable values; its path is the values joined by `/`. */
export interface Item {
  readonly path: string;
  readonly values: readonly string[];
  readonly vars: Readonly<Record<string, string>>;
}

export interface ItemMapRule {
  readonly regex: RegExp;
  readonly replacement: string;
}

export interface SkipRules {
  /** skip when this path exists */
  readonly fileexists?: string;
  /** skip when this path does not exist */
  readonly filenotexists?: string;
  /** skip when this command exits 0 */
  readonly script?: string;
}

/** One test as its testconfig defines it (for one target). */
export interface TestDefinition {
  readonly name: string;
  readonly dir: string;
  readonly configFile: string;
  readonly config: ConfigFile;
  /** [ezsteps] in order */
  readonly steps: readonly Step[];
  /** [setup] runscript, when given (run as one step after any ezsteps) */
  readonly runscript?: { readonly command: string; readonly loc: SourceLocation };
  readonly waiton: readonly string[];
  readonly waitonLoc?: SourceLocation;
  readonly mode: WaitMode;
  readonly itemmap: readonly ItemMapRule[];
  readonly priority: number;
  /** seconds; null: no limit */
  readonly runtimelim: number | null;
  readonly jobgroup?: string;
  /** [requirements] resources NAME[,NAME]: one share of each is taken before the test runs, sorted */
  readonly resources: readonly string[];
  /** [requirements] tags and hosts: where the agents launcher may run it (docs/agents.md) */
  readonly placement: { readonly tags: readonly string[]; readonly hosts: readonly string[] };
  readonly items: ItemSpec;
  /** true when the test iterates (has [items] or [itemstable] lines) */
  readonly hasItems: boolean;
  readonly meta: { readonly owner: string; readonly description: string; readonly tags: string };
  readonly skip: SkipRules;
  /** [triggers]: `STATE/STATUS CMD` (either side may be empty, e.g. `/FAIL`), run when a test or item ends so */
  readonly triggers: ReadonlyArray<{ readonly when: string; readonly command: string; readonly loc: SourceLocation }>;
  /** [env-override] of the testconfig, unexpanded */
  readonly envOverride: ReadonlyArray<readonly [string, ConfigValue]>;
  /** ezstep name → the rules its log is judged by (STEP.logpro, [logpro] STEP, [logrules]); only steps that have some */
  readonly logRules: ReadonlyMap<string, RuleSet>;
}
