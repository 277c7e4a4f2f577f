/** Who and where we are, for records and messages. */
import os from 'node:os';

/** Short host name (up to the first dot). */
export function shortHostname(): string {
  return os.hostname().split('.')[0] ?? os.hostname();
}

/**
 * `user@host`, for the events log: the system's name of this process's user (a server checks it
 * against the user its signature proves; `$USER` may say anything). `TRELLIS_WHO` names someone
 * else: the web view sets it on the runs it starts for a person logged in to it (`alice via web`).
 */
export function whoAmI(env: Readonly<Record<string, string | undefined>> = {}): string {
  const named = env['TRELLIS_WHO']?.trim();
  if (named) return named.replace(/[\p{Cc}]/gu, '?').slice(0, 200);
  return `${loginName(env)}@${shortHostname()}`;
}

/** The login name of this process's user (what [setup] approvers lists): the system's, not a variable. */
export function loginName(env: Readonly<Record<string, string | undefined>> = {}): string {
  try {
    return os.userInfo().username;
  } catch {
    return env['USER'] ?? env['LOGNAME'] ?? 'unknown';
  }
}
