/**
 * What a name may contain, wherever it comes from: run names and target values from the command
 * line and the API, test names from folders, item values from configs, step and value names from
 * the in-test helpers, job names from `trellis wrap`/`record`. Names are checked once, where they
 * enter (the CLI, the config reader, the server's API), with these rules; everything past that
 * edge trusts them. Names are never trusted for printing: stored text goes through
 * util/terminal-text.ts, since older run areas may hold names from before these rules.
 *
 * Folder names are safe whatever the name (util/sanitize.ts encodes them); these rules keep names
 * that can be typed, shown and told apart.
 */
import { TrellisError } from '../util/errors.js';
import { displayName } from './display-name.js';
import { hasTerminalControls, termLine } from '../util/terminal-text.js';

/** Names that become environment variables ([fields] keys, item variables). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Longest run name, target value or test name (characters). */
export const MAX_NAME = 200;
/** Longest step or value name (characters): the API's limit. */
export const MAX_LABEL = 1024;
/** Longest item path (characters). */
export const MAX_ITEM_PATH = 4096;

// A blank or ',' splits a pattern list, '%' is a wildcard, a leading '~' negates, '\' and control
// characters make names that cannot be typed reliably; a leading '.' is a hidden folder.
const UNSAFE_TEST_NAME = /[\s,%\\/]|^[~.]/;
// Like test names, but '/' splits the name from its item path.
const UNSAFE_JOB_NAME = /[\s,%\\]|^[~./]|\/$|\/\//;

/** The first control character in `text`, escaped for a message. */
function firstControl(text: string): string {
  for (const c of text) if (hasTerminalControls(c)) return termLine(c);
  return '';
}

/** Why `name` cannot be a run name or a target value, or undefined when it can. */
/**
 * Why `name` cannot be a short word name (a resource, an agent, a tag): letters, digits, `_ . -`,
 * starting with a letter or digit, at most `max` characters; undefined when it can.
 */
export function wordNameProblem(name: string, max: number): string | undefined {
  if (name === '') return 'is empty';
  if (name.length > max) return `is longer than ${max} characters`;
  if (!WORD_NAME.test(name)) return 'is not letters, digits, _, . and - (starting with a letter or digit)';
  return undefined;
}
const WORD_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function runNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.length > MAX_NAME) return `is longer than ${MAX_NAME} characters`;
  if (hasTerminalControls(name)) return `contains a control character (${firstControl(name)})`;
  if (name.includes('/')) return "contains '/', which separates the target's values and the run name";
  if (name === '.' || name === '..') return `is '${name}'`;
  if (name.trim() !== name) return 'starts or ends with a blank';
  return undefined;
}

/** Why `name` cannot be a test name, or undefined when it can. */
export function testNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.length > MAX_NAME) return `is longer than ${MAX_NAME} characters`;
  if (hasTerminalControls(name)) return `contains a control character (${firstControl(name)})`;
  if (UNSAFE_TEST_NAME.test(name)) return "has a blank, ',', '%', '\\', '/' or a leading '~' or '.'";
  return undefined;
}

/** True when `name` can be a test name: a plain folder name patterns can select unambiguously. */
export function isSafeTestName(name: string): boolean {
  return testNameProblem(name) === undefined;
}

/** Why `value` cannot be an item value (from [items] or a lazy command), or undefined. */
export function itemValueProblem(value: string): string | undefined {
  if (hasTerminalControls(value)) return `contains a control character (${firstControl(value)})`;
  return undefined;
}

/** Why `path` cannot be an item path (values joined by '/'; '' for a test without items), or undefined. */
export function itemPathProblem(path: string): string | undefined {
  if (path.length > MAX_ITEM_PATH) return `is longer than ${MAX_ITEM_PATH} characters`;
  return itemValueProblem(path);
}

/** Why `name` cannot name a step or a value, or undefined when it can. */
export function labelProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.length > MAX_LABEL) return `is longer than ${MAX_LABEL} characters`;
  if (hasTerminalControls(name)) return `contains a control character (${firstControl(name)})`;
  return undefined;
}

/** Throws BAD_VALUE when `problem` says something is wrong with `name` of `kind`, given as `where`. */
function refuse(kind: string, name: string, where: string, problem: string | undefined, hint: string): void {
  if (problem === undefined) return;
  const shown = name.length > 80 ? `${name.slice(0, 77)}...` : name;
  throw new TrellisError('BAD_VALUE', `${kind} '${termLine(shown)}' (${where}) ${problem}`, hint);
}

/** Checks a run name (BAD_VALUE naming `where`, e.g. `-r`). */
export function checkRunName(name: string, where: string): void {
  refuse('run name', name, where, runNameProblem(name), "use letters, digits and punctuation other than '/', e.g. -r nightly-42");
}

/** Checks one value of a target (BAD_VALUE naming the key and `where`). */
export function checkTargetValue(key: string, value: string, where: string): void {
  refuse(
    `target value for ${termLine(key)}`,
    value,
    where,
    runNameProblem(value),
    "use letters, digits and punctuation; '/' separates the values, e.g. -t linux/x86_64",
  );
}

/** Checks a test name (BAD_VALUE naming `where`). */
export function checkTestName(name: string, where: string): void {
  refuse('test name', name, where, testNameProblem(name), 'a test name is the name of its folder under tests/: letters, digits and -_.+=@');
}

/** Checks an item path (BAD_VALUE naming `where`). */
export function checkItemPath(path: string, where: string): void {
  refuse('item path', path, where, itemPathProblem(path), 'item values may hold anything but control characters');
}

/** Checks the name of a step or a value, or a status (BAD_VALUE naming `where`). */
export function checkLabel(kind: 'step name' | 'value name' | 'status', name: string, where: string): void {
  const example = kind === 'step name' ? 'compile' : kind === 'value name' ? 'latency' : 'PASS';
  refuse(kind, name, where, labelProblem(name), `use printable characters, e.g. ${example}`);
}

/** Checks the name of a wrap/record job (BAD_VALUE says what to use) and returns it joined. */
export function checkJobName(testname: string, itempath: string): string {
  const name = displayName({ testname, itempath });
  if (testname === '' || testname.includes('/') || hasTerminalControls(name) || UNSAFE_JOB_NAME.test(name) || name.length > MAX_NAME) {
    throw new TrellisError(
      'BAD_VALUE',
      `job name '${termLine(name)}' cannot be recorded`,
      "use letters, digits and -_.+=@ with no blanks (a '/' may separate an item), e.g. backup or backup/db1",
    );
  }
  return name;
}
