/**
 * The error catalogue. Lower layers throw TrellisError with a stable code; only cli/main.ts turns
 * one into a message line and an exit code. Every code is listed in docs/exit-codes.md.
 */

/** Exit codes: documented in docs/exit-codes.md; never reuse a number for another meaning. */
export const ExitCode = {
  ok: 0,
  /** the run finished but some selected test did not end PASS, WARN, WAIVED or SKIP */
  testsFailed: 1,
  /** bad command line: unknown option, missing argument, bad value */
  usage: 2,
  /** a config file is wrong: syntax, unknown target, waiton cycle */
  config: 3,
  /** what was asked for does not exist: area, run, test */
  notFound: 4,
  /** the run is locked or busy (another runner holds it) */
  conflict: 5,
  /** the run area could not be read or written */
  storage: 6,
  /** no server could be reached or started for the run area */
  server: 7,
  /** who asked may not do it, or could not be proven: not an admin, a forged name, a bad signature */
  denied: 8,
  /** a bug in Trellis: please report it with the --debug output */
  internal: 70,
  /** interrupted by Ctrl-C or SIGTERM */
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Stable error codes, each with its exit code. */
export const ErrorCodes = {
  USAGE: ExitCode.usage,
  BAD_TARGET: ExitCode.usage,
  BAD_PATTERN: ExitCode.usage,
  BAD_VALUE: ExitCode.usage,
  BAD_PARAM: ExitCode.usage,
  NO_AREA: ExitCode.notFound,
  CONFIG_SYNTAX: ExitCode.config,
  CONFIG_UNSUPPORTED: ExitCode.config,
  CONFIG_INCLUDE: ExitCode.config,
  CONFIG_COMMAND: ExitCode.config,
  CONFIG_VALUE: ExitCode.config,
  UNKNOWN_TARGET: ExitCode.config,
  WAITON_CYCLE: ExitCode.config,
  STEP_REF: ExitCode.config,
  DUPLICATE_ITEM: ExitCode.config,
  NO_RESOURCE: ExitCode.config,
  NO_TESTS: ExitCode.notFound,
  NO_RUN: ExitCode.notFound,
  NO_TEST: ExitCode.notFound,
  NO_ENV: ExitCode.notFound,
  NO_STEP: ExitCode.notFound,
  RUN_LOCKED: ExitCode.conflict,
  RUN_BUSY: ExitCode.conflict,
  JOB_BUSY: ExitCode.conflict,
  JOB_GONE: ExitCode.conflict,
  NOT_WAITING: ExitCode.conflict,
  NOT_APPROVER: ExitCode.conflict,
  AGENT_BUSY: ExitCode.conflict,
  AGENT_GONE: ExitCode.conflict,
  NO_AGENT: ExitCode.notFound,
  NOT_ADMIN: ExitCode.denied,
  FORGED_NAME: ExitCode.denied,
  UNSIGNED: ExitCode.denied,
  BAD_SIGNATURE: ExitCode.denied,
  NO_KEY: ExitCode.denied,
  NO_USER: ExitCode.denied,
  KEY_NOT_OWNED: ExitCode.denied,
  KEY_UNPROTECTED: ExitCode.denied,
  REPLAYED: ExitCode.denied,
  CLOCK_SKEW: ExitCode.denied,
  SESSION_UNKNOWN: ExitCode.denied,
  LAUNCHER: ExitCode.config,
  BAD_JOB: ExitCode.usage,
  AREA_EXISTS: ExitCode.conflict,
  RUNAREA_UNWRITABLE: ExitCode.storage,
  DB_ERROR: ExitCode.storage,
  DB_MISSING: ExitCode.storage,
  DB_DAMAGED: ExitCode.storage,
  DB_TOO_NEW: ExitCode.storage,
  AREA_MISMATCH: ExitCode.storage,
  OUTPUT_UNWRITABLE: ExitCode.storage,
  LEASE_HELD: ExitCode.conflict,
  NO_SERVER: ExitCode.server,
  SERVER_START: ExitCode.server,
  SERVER_ERROR: ExitCode.server,
  UNAUTHORIZED: ExitCode.server,
  BAD_REQUEST: ExitCode.usage,
  INTERNAL: ExitCode.internal,
} as const;
export type ErrorCode = keyof typeof ErrorCodes;

/** A user-facing error: `message` says what and where, `hint` what to do next. */
export class TrellisError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: number;
  /** further problems found in the same check, one line each (every bad `--param` at once) */
  readonly more: readonly string[];

  constructor(code: ErrorCode, message: string, hint?: string, options?: { cause?: unknown; more?: readonly string[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TrellisError';
    this.code = code;
    this.hint = hint;
    this.exitCode = ErrorCodes[code];
    this.more = options?.more ?? [];
  }

  /** The one line a user sees: `what (where): what to do`. */
  toLine(): string {
    return this.hint ? `${this.message}; ${this.hint}` : this.message;
  }

  /** Every line a user sees: this one, then the further problems of the same check. */
  toLines(): string[] {
    return [this.toLine(), ...this.more];
  }
}

/** Where in a config file something is, for error messages. */
export interface SourceLocation {
  file: string;
  line: number;
}

/** Formats `file:line` for messages. */
export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}`;
}

/** A config error that names its file and line. */
export function configError(code: ErrorCode, loc: SourceLocation, what: string, hint?: string): TrellisError {
  return new TrellisError(code, `${formatLocation(loc)}: ${what}`, hint);
}

/** True for errors whose message a user can act on (everything but bugs). */
export function isTrellisError(err: unknown): err is TrellisError {
  return err instanceof TrellisError;
}

/** The run area (or a folder in it) cannot be created or written. */
export function runAreaUnwritable(where: string, err: unknown): TrellisError {
  const code = (err as { code?: string }).code ?? 'error';
  const message = (err as Error).message ?? String(err);
  // Node's fs messages already start with the code ("ENOTDIR: not a directory, …").
  const detail = message.startsWith(`${code}:`) ? message : `${code}: ${message}`;
  return new TrellisError(
    'RUNAREA_UNWRITABLE',
    `cannot create or write ${where} (${detail})`,
    'make sure the run area is a folder you can write to, or point [setup] runarea or --runarea elsewhere',
    { cause: err },
  );
}

/** True for the errors of a run whose database is missing or damaged (DB_MISSING, DB_DAMAGED). */
export function isDamagedRunDb(err: unknown): boolean {
  return err instanceof TrellisError && (err.code === 'DB_MISSING' || err.code === 'DB_DAMAGED');
}
