import { hashPassword } from '../../oauth/password.js';
import type { ConfigInput } from './schema.js';

/**
 * The embedded default: one tenant `default`, one local user `demo` / `demo`, the in-memory store.
 * For development only — the Node entry warns loudly when it is used.
 */
export async function embeddedDefaultConfig(): Promise<ConfigInput> {
  return {
    // The built-in demo upstream, so tools show up through the gateway at once.
    tenants: [{ id: 'default', name: 'Default tenant', upstreams: [{ id: 'demo', transport: 'demo' }] }],
    users: [{ username: 'demo', name: 'Demo user', passwordHash: await hashPassword('demo'), tenants: ['default'] }],
    store: { type: 'memory' },
  };
}
