/**
 * What a test can ask of Trellis from inside (design §6): the actions behind `trellis step`,
 * `test-status`, `set-value` and Megatest's `$MT_MEGATEST -step …`, and the reading of Megatest's
 * command line into them (megatest.scm's argument handling: `:state`/`-state` and `:status`/`-status`
 * both, `-test-status` needing both, numbers as statuses, AUTO, the value keys of `-set-values`).
 * Pure: the channel service (in-test-service.ts) carries the actions out.
 */
import { parseState, type TestState } from '../model/states.js';
import { TrellisError } from '../util/errors.js';

/** One value to record, as `set-value`, `-set-values` or a line of `-load-test-data` gives it. */
export interface ValueSpec {
  name: string;
  value: string;
  expected?: string;
  tol?: string;
  units?: string;
  comment?: string;
  /** a status the caller gave (Megatest's 8th CSV column), else it is judged */
  status?: string;
}

/** One thing a test asks for. */
export type InTestAction =
  | { kind: 'step'; name: string; phase: 'start' | 'end'; status?: string; message?: string; logfile?: string }
  /** `status: 'AUTO'`: the worst of the test's steps and judged values so far (Megatest's roll-up) */
  | { kind: 'test-status'; state?: TestState; status?: string; message?: string }
  /** `print`: say `name=value STATUS` on stdout, as `trellis set-value` does */
  | { kind: 'values'; values: ValueSpec[]; print: boolean }
  | { kind: 'load-test-data'; csv: string }
  | { kind: 'test-paths'; files?: string; target: string; runname: string; testpatt: string }
  | { kind: 'summarize-items' }
  /** nothing to do but say this (help text, a flag accepted and ignored) */
  | { kind: 'say'; text: string };

/** A request: its actions in order, and whether its writes may go to a locked run. */
export interface InTestRequest {
  actions: InTestAction[];
  force: boolean;
}

/** Megatest's options that take a value (args:get-args' first list), as far as a test uses them. */
const WITH_VALUE = new Set([
  '-step',
  ':state',
  '-state',
  ':status',
  '-status',
  '-setlog',
  '-set-toplog',
  '-m',
  ':category',
  ':variable',
  ':value',
  ':expected',
  ':tol',
  ':units',
  '-target',
  '-reqtarg',
  ':runname',
  '-runname',
  '-testpatt',
  '-itempatt',
  '-test-files',
  '-debug',
]);
/** Megatest's switches a test uses; `-v`, `-q` and `-logging` only change what megatest prints. */
const SWITCHES = new Set([
  '-test-status',
  '-set-values',
  '-load-test-data',
  '-summarize-items',
  '-test-paths',
  '-force',
  '-v',
  '-q',
  '-logging',
]);

const SUPPORTED = '-step, -test-status, -set-values, -load-test-data, -test-paths, -test-files, -summarize-items, -setlog, -m';

function usage(message: string, hint = `inside a test, megatest takes ${SUPPORTED}; see docs/megatest.md`): TrellisError {
  return new TrellisError('USAGE', message, hint);
}

/** Reads Megatest's command line (as a test gives it to `$MT_MEGATEST`) into a request. */
export function parseMegatestArgs(argv: readonly string[], stdin: string | undefined): InTestRequest {
  const args = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (WITH_VALUE.has(a)) {
      const v = argv[i + 1];
      if (v === undefined)
        throw usage(`${a} needs a value`, `e.g. ${a === '-step' ? '-step compile :state start :status n/a' : `${a} VALUE`}`);
      args.set(a, v);
      i++;
    } else if (SWITCHES.has(a)) switches.add(a);
    else if (a.startsWith('-') || a.startsWith(':')) throw usage(`${a} is not something a test can ask of Trellis`);
    else throw usage(`'${a}' is not an option (a value without its option?)`);
  }
  const get = (...names: string[]) => names.map((n) => args.get(n)).find((v) => v !== undefined);
  const state = get(':state', '-state');
  const status = get(':status', '-status');
  const message = args.get('-m');
  const actions: InTestAction[] = [];

  const step = args.get('-step');
  if (step !== undefined) {
    if (state === undefined || status === undefined)
      throw usage(
        'you must give :state and :status with every call to -step',
        'e.g. -step compile :state start :status n/a, then -step compile :state end :status $?',
      );
    const phase = stepPhase(state);
    const logfile = args.get('-setlog');
    actions.push({
      kind: 'step',
      name: step,
      phase,
      ...(phase === 'end' ? { status: megatestStatus(status) } : {}),
      ...(message !== undefined ? { message } : {}),
      ...(logfile !== undefined ? { logfile } : {}),
    });
  }
  if (switches.has('-load-test-data')) actions.push({ kind: 'load-test-data', csv: stdin ?? '' });
  if (switches.has('-summarize-items')) actions.push({ kind: 'summarize-items' });
  if (switches.has('-test-paths') || args.has('-test-files')) {
    const target = get('-target', '-reqtarg');
    if (target === undefined)
      throw usage(
        '-target is required with -test-paths and -test-files',
        'e.g. -test-files result.log -target $MT_TARGET :runname $MT_RUNNAME -testpatt build',
      );
    const itempatt = args.get('-itempatt');
    const testpatt = args.get('-testpatt') ?? '%';
    const files = args.get('-test-files');
    actions.push({
      kind: 'test-paths',
      target,
      runname: get(':runname', '-runname') ?? '%',
      testpatt: itempatt === undefined ? testpatt : `${testpatt}/${itempatt}`,
      ...(files !== undefined ? { files } : {}),
    });
  }
  const testStatus = switches.has('-test-status');
  const setValues = switches.has('-set-values');
  if (testStatus && (state === undefined || status === undefined)) {
    throw usage('you must give :state and :status with every call to -test-status', 'e.g. -test-status :state COMPLETED :status AUTO');
  }
  if ((testStatus || setValues) && step === undefined) {
    if (state !== undefined && status !== undefined) {
      const parsed = parseState(state);
      if (!parsed) throw usage(`:state '${state}' is not a state`, 'use e.g. COMPLETED or RUNNING');
      actions.push({ kind: 'test-status', state: parsed, status: megatestStatus(status), ...(message !== undefined ? { message } : {}) });
    } else if (message !== undefined) actions.push({ kind: 'test-status', message });
    const value = valueFromArgs(args);
    if (value) actions.push({ kind: 'values', values: [value], print: false });
    else if (setValues && [':value', ':expected', ':tol'].some((k) => args.has(k))) {
      throw usage(
        '-set-values records a value only with all of :value, :expected and :tol (as Megatest)',
        'e.g. -set-values :variable latency :value 12 :expected 10 :tol 3',
      );
    }
  }
  if (actions.length === 0) {
    // -setlog and -set-toplog alone name the test's main log for Megatest's dashboard; Trellis
    // shows each step's own log, so there is nothing to record.
    if (args.has('-setlog') || args.has('-set-toplog')) return { actions: [{ kind: 'say', text: '' }], force: switches.has('-force') };
    throw usage('nothing to do', `give one of ${SUPPORTED}`);
  }
  return { actions, force: switches.has('-force') };
}

/** `:state start` / `end` of a step (Megatest writes them as it is given; Trellis knows two). */
function stepPhase(state: string): 'start' | 'end' {
  const s = state.toLowerCase();
  if (s === 'start' || s === 'running' || s === 'started') return 'start';
  if (s === 'end' || s === 'completed' || s === 'done' || s === 'ended') return 'end';
  throw usage(`:state '${state}' is not a step state`, 'use :state start when the step begins and :state end when it ends');
}

/**
 * A status as Megatest reads it: a number is an exit code (0 PASS, anything else FAIL), `n/a`
 * stays, a word is upper-cased (`pass` → PASS); AUTO is kept for the roll-up.
 */
export function megatestStatus(status: string): string {
  const s = status.trim();
  if (/^[+-]?\d+$/.test(s)) return Number(s) === 0 ? 'PASS' : 'FAIL';
  if (s.toLowerCase() === 'n/a' || s === '') return 'n/a';
  return s.toUpperCase();
}

/** The value of `-set-values` / `-test-status` (`:category :variable :value :expected :tol :units`), when all three of value, expected and tol are given. */
function valueFromArgs(args: ReadonlyMap<string, string>): ValueSpec | undefined {
  const value = args.get(':value');
  const expected = args.get(':expected');
  const tol = args.get(':tol');
  if (value === undefined || expected === undefined || tol === undefined) return undefined;
  const units = args.get(':units');
  return { name: valueName(args.get(':category') ?? '', args.get(':variable') ?? ''), value, expected, tol, ...(units ? { units } : {}) };
}

/** Megatest keys a value by category and variable; Trellis by one name: `category/variable`. */
export function valueName(category: string, variable: string): string {
  const c = category.trim();
  const v = variable.trim();
  if (c === '') return v === '' ? 'value' : v;
  return v === '' ? c : `${c}/${v}`;
}
