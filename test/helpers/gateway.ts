import { pino } from 'pino';
import { hashPassword } from '../../oauth/password.js';
import { parseConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { startGateway, type RunningGateway } from '../../src/runtime/serve.js';

export interface TestGateway extends RunningGateway {
  /** The public base URL (also the issuer unless the config sets another). */
  baseUrl: string;
  /** The default tenant's MCP resource. */
  resource: string;
}

let demoHash: Promise<string> | undefined;

/** The hash of the password "demo", computed once per test file (PBKDF2 is slow on purpose). */
export function demoPasswordHash(): Promise<string> {
  demoHash ??= hashPassword('demo', 1000);
  return demoHash;
}

/**
 * Starts a real gateway on a free loopback port with the given configuration merged over a test default:
 * tenant `default`, user `demo`/`demo`, memory store, silent log.
 */
export async function startTestGateway(overrides: Partial<ConfigInput> = {}, options: { clientMetadataCa?: string; now?: () => number } = {}): Promise<TestGateway> {
  const config = parseConfig({
    tenants: [{ id: 'default', name: 'Default tenant' }],
    users: [{ username: 'demo', name: 'Demo user', passwordHash: await demoPasswordHash(), tenants: ['default'] }],
    server: { host: '127.0.0.1', port: 0 },
    logLevel: 'silent',
    ...overrides,
  });
  const gateway = await startGateway({
    config,
    source: 'test',
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ...(options.clientMetadataCa !== undefined && { clientMetadataCa: options.clientMetadataCa }),
    ...(options.now !== undefined && { now: options.now }),
  });
  return { ...gateway, baseUrl: gateway.config.publicUrl, resource: `${gateway.config.publicUrl}/mcp` };
}
