/**
 * Who may do what in an area (docs/security.md): `[setup] admins` alone may force changes to
 * locked or closed runs, unlock them, remove a locked run, and sign off manual steps where
 * `[setup] approvers` is not set. The user checked is the verified one: the signer of a request
 * to a server, the process's own user with `--direct`. With no admins line, anyone may.
 */
import { TrellisError } from '../util/errors.js';

/** Users a [setup] key lists, and where (`file:line`). */
export interface NamedUsers {
  readonly users: readonly string[];
  readonly where: string;
}

export interface AccessPolicy {
  readonly admins: NamedUsers | null;
  readonly approvers: NamedUsers | null;
  /** `required`: unsigned writes are refused; `optional`: taken and recorded as unverified */
  readonly identity: 'optional' | 'required';
}

/** The policy of an area that says nothing: anyone may do anything, unsigned writes are taken. */
export const OPEN_POLICY: AccessPolicy = Object.freeze({ admins: null, approvers: null, identity: 'optional' });

const UNPROVEN_HINT = 'a server believes only signed requests: run `trellis id init` once, then try again';

/** Refuses (NOT_ADMIN) a user the admins line does not name; `what` reads "unlock runs". */
export function checkAdmin(policy: AccessPolicy, user: string | undefined, what: string): void {
  const admins = policy.admins;
  if (admins === null || (user !== undefined && admins.users.includes(user))) return;
  if (user === undefined) {
    throw new TrellisError(
      'NOT_ADMIN',
      `only [setup] admins (${admins.where}: ${admins.users.join(', ')}) may ${what}, and this request does not prove who sent it`,
      UNPROVEN_HINT,
    );
  }
  throw new TrellisError(
    'NOT_ADMIN',
    `user ${user} may not ${what} in this area: only [setup] admins may (${admins.where}: ${admins.users.join(', ')})`,
    `ask ${admins.users.length === 1 ? admins.users[0] : `one of ${admins.users.join(', ')}`}`,
  );
}

/** Refuses a sign-off by someone approvers (or, where that is not set, admins) does not name. */
export function checkSignOff(policy: AccessPolicy, user: string | undefined): void {
  const approvers = policy.approvers;
  if (approvers === null) {
    checkAdmin(policy, user, 'sign off manual steps ([setup] approvers is not set)');
    return;
  }
  if (user !== undefined && approvers.users.includes(user)) return;
  throw new TrellisError(
    'NOT_APPROVER',
    `user ${user ?? '(unproven)'} may not sign off manual steps in this area: [setup] approvers (${approvers.where}) names ${approvers.users.join(', ')}`,
    user === undefined ? UNPROVEN_HINT : `ask one of them to run trellis approve, or add ${user} to that line`,
  );
}
