import { verifyPassword } from '../../oauth/password.js';
import type { AuthenticatedUser, UserDirectory } from '../../oauth/types.js';
import type { Config, TenantConfig } from '../config/schema.js';

// Verifying against this when the user is unknown keeps both failures equally slow (no username probing).
const DUMMY_HASH = 'pbkdf2-sha256$100000$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** The local users of the configuration. The subject of a local user is `local:<username>`. */
export class LocalUsers implements UserDirectory {
  readonly #byUsername: ReadonlyMap<string, Config['users'][number]>;
  readonly #membersOf: (tenant: string) => TenantConfig['members'] | undefined;

  /** `membersOf` names the users and groups a tenant admits besides the users whose `tenants` name it. */
  constructor(users: Config['users'], membersOf: (tenant: string) => TenantConfig['members'] | undefined) {
    this.#byUsername = new Map(users.map((user) => [user.username, user]));
    this.#membersOf = membersOf;
  }

  async authenticate(username: string, password: string): Promise<AuthenticatedUser | undefined> {
    const user = this.#byUsername.get(username);
    const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    return user && valid ? { sub: `local:${user.username}`, name: user.name ?? user.username } : undefined;
  }

  async find(sub: string): Promise<AuthenticatedUser | undefined> {
    const user = this.#userOf(sub);
    return user && { sub, name: user.name ?? user.username };
  }

  /** The groups of a local user, which policy rules can name; none for anyone else. */
  groupsOf(sub: string): readonly string[] {
    return this.#userOf(sub)?.groups ?? [];
  }

  async isMember(sub: string, tenant: string): Promise<boolean> {
    const user = this.#userOf(sub);
    if (!user) return false;
    if (user.tenants.includes(tenant)) return true;
    const members = this.#membersOf(tenant);
    return members !== undefined && (members.users.includes(user.username) || members.groups.some((group) => user.groups.includes(group)));
  }

  #userOf(sub: string) {
    return sub.startsWith('local:') ? this.#byUsername.get(sub.slice('local:'.length)) : undefined;
  }
}
