/**
 * `$VAR` expansion for values exported to a test ([env-override], runconfigs). It happens at
 * export, not at read time, so a value can refer to variables set after it was read (MT_TARGET,
 * item variables, earlier exported values).
 */

const VAR = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/**
 * Replaces `$VAR` and `${VAR}` with their values in `env`; an unset variable becomes ''. A `$`
 * not followed by a name (`$1`, `$ `, `${`…) is kept literally, so shell snippets survive.
 */
export function expandDollarVars(text: string, env: Readonly<Record<string, string | undefined>>): string {
  if (!text.includes('$')) return text;
  return text.replace(VAR, (_m, braced: string | undefined, bare: string | undefined) => env[braced ?? bare ?? ''] ?? '');
}

/**
 * Expands an ordered list of assignments into `env` one by one, so a later value may use an
 * earlier one (`PATH $MYTOOLS/bin:$PATH`). Returns a new object; `env` is not changed.
 */
export function exportValues(
  entries: Iterable<readonly [string, string]>,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const [key, value] of entries) out[key] = expandDollarVars(value, out);
  return out;
}
