/** Who and where we are, for records and messages. */
import os from 'node:os';

/** Short host name (up to the first dot). */
export function shortHostname(): string {
  return os.hostname().split('.')[0] ?? os.hostname();
}

/** `user@host`, for the events log of forced changes. */
export function whoAmI(env: Readonly<Record<string, string | undefined>> = {}): string {
  let user = env['USER'] ?? env['LOGNAME'];
  if (!user) {
    try {
      user = os.userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${shortHostname()}`;
}
