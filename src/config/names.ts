/**
 * Which names configs may use where a name becomes something else: an environment variable
 * ([fields] keys, item variables) or a test name (a folder that patterns and commands refer to).
 */

/** Names that become environment variables. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// A blank or ',' splits a pattern list, '%' is a wildcard, a leading '~' negates, '\' and control
// characters make names that cannot be typed reliably; a leading '.' is a hidden folder.
const UNSAFE_TEST_NAME = /[\s,%\\/\x00-\x1f\x7f]|^[~.]/;

/** True when `name` can be a test name: a plain folder name patterns can select unambiguously. */
export function isSafeTestName(name: string): boolean {
  return name !== '' && !UNSAFE_TEST_NAME.test(name);
}
