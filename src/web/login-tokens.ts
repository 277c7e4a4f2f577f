/**
 * One-time login tokens: the one `trellis web` prints at start, and the invitations a logged-in
 * person makes for someone else. Each opens one session, once; only its SHA-256 is kept, so a
 * token is never stored or compared as text, and a used or unknown one is refused the same way.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Who a login opens a session for. */
export interface LoginFor {
  /** as recorded in the runs' events (`alice via web`) */
  who: string;
  /** the user name checked against `[setup] approvers` (`alice`) */
  user: string;
}

interface Entry extends LoginFor {
  /** ms since the epoch; Infinity for the start token */
  expires: number;
}

/** Most open invitations at once: a page cannot be used to fill memory with them. */
const MAX_OPEN = 1000;

export class LoginTokens {
  readonly #open = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * A new token for `who`, valid once, until `ttlMs` from now (forever when not given). `user` is
   * the name `[setup] approvers` is checked against; `who` without a trailing ` via web` when not given.
   */
  issue(who: string, ttlMs?: number, user?: string): string {
    this.#prune();
    if (this.#open.size >= MAX_OPEN) throw new Error(`too many open login links (${MAX_OPEN}); wait for some to expire`);
    const token = randomBytes(32).toString('base64url');
    this.#open.set(digest(token), {
      who,
      user: user ?? who.replace(/ via web$/, ''),
      expires: ttlMs === undefined ? Infinity : this.#now() + ttlMs,
    });
    return token;
  }

  /** Who the token was for, and forgets it; undefined when it is unknown, used or expired. */
  consume(token: string): LoginFor | undefined {
    if (typeof token !== 'string' || token.length === 0 || token.length > 200) return undefined;
    const key = digest(token);
    const entry = this.#open.get(key);
    if (entry === undefined) return undefined;
    this.#open.delete(key);
    return entry.expires >= this.#now() ? { who: entry.who, user: entry.user } : undefined;
  }

  /** How many tokens are still open. */
  get size(): number {
    this.#prune();
    return this.#open.size;
  }

  #prune(): void {
    const now = this.#now();
    for (const [key, e] of this.#open) if (e.expires < now) this.#open.delete(key);
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
