/**
 * The access policy of an area (model/access.ts) as a server or a direct store reads it: only the
 * `[setup]` keys of the area's config file, read again when that file changes (a stat per check,
 * a few microseconds), so a server started before an admins line was added obeys it at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { OPEN_POLICY, type AccessPolicy } from '../model/access.js';
import { formatLocation } from '../util/errors.js';
import { readAccessSetup } from './area.js';
import { readConfigFile } from './ini.js';
import { areaPaths } from './paths.js';
import type { SetupConfig } from './types.js';

/** The policy of a loaded area's [setup]. */
export function policyOfSetup(setup: Partial<Pick<SetupConfig, 'admins' | 'approvers' | 'identity'>>): AccessPolicy {
  const named = (list: SetupConfig['admins'] | undefined) => (list == null ? null : { users: list.users, where: formatLocation(list.loc) });
  return Object.freeze({ admins: named(setup.admins), approvers: named(setup.approvers), identity: setup.identity ?? 'optional' });
}

/** Follows the policy in an area's config file. */
export class AccessPolicySource {
  readonly #file: string | undefined;
  readonly #env: Readonly<Record<string, string | undefined>>;
  #policy: AccessPolicy = OPEN_POLICY;
  #stamp = '';
  #loaded = false;

  /** `areaDir` undefined: an area that says nothing (OPEN_POLICY). */
  constructor(areaDir: string | undefined, env: Readonly<Record<string, string | undefined>> = {}) {
    this.#env = env;
    if (areaDir === undefined) return;
    const p = areaPaths(path.resolve(areaDir));
    this.#file = [p.trellisConfig, p.megatestConfig].find((f) => fs.existsSync(f));
  }

  /** The policy now. A config that cannot be read keeps the last good policy; with none, admin rights go to nobody. */
  current(): AccessPolicy {
    if (this.#file === undefined) return this.#policy;
    let stamp: string;
    try {
      const st = fs.statSync(this.#file);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    } catch (err) {
      stamp = `gone:${(err as Error).message}`;
    }
    if (stamp === this.#stamp) return this.#policy;
    this.#stamp = stamp;
    try {
      const dir = path.dirname(this.#file);
      const config = readConfigFile(this.#file, { env: { ...this.#env, MT_RUN_AREA_HOME: dir }, areaDir: dir });
      this.#policy = policyOfSetup(readAccessSetup(config));
      this.#loaded = true;
    } catch (err) {
      if (!this.#loaded) {
        const why = `${this.#file} cannot be read: ${(err as Error).message.split('\n')[0]}`;
        this.#policy = Object.freeze({ admins: { users: [], where: why }, approvers: null, identity: 'optional' });
      }
    }
    return this.#policy;
  }
}
