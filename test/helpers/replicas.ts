import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { closedPort } from '../fixtures/faulty-upstreams.js';
import { demoPasswordHash, spawnGateway, type GatewayProcess } from './gateway.js';
import type { GatewayUrls } from './oauth.js';
import type { ConfigInput } from '../../src/config/schema.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Two gateway processes sharing one Redis, and what reaches them. */
export interface Replicas {
  a: GatewayProcess;
  b: GatewayProcess;
  /** The public URL (replica a's address) and the default tenant's resource. */
  urls: GatewayUrls;
  /** The configuration file both run from, for starting more replicas like them. */
  configFile: string;
  /** Stops both (if still running), and deletes their configuration file and their Redis keys. */
  close(): Promise<void>;
}

/**
 * Starts two `bin/portcullis.js` processes from one configuration file, as a deployment runs its replicas: one public
 * URL, one encryption key, one Redis under a key prefix of their own. `config` is merged over that, with user
 * `demo`/`demo` a member of every tenant unless it sets `users`. Needs `npm run build`.
 */
export async function startReplicas(config: Partial<ConfigInput> & Pick<ConfigInput, 'tenants'>): Promise<Replicas> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-replicas-'));
  const keyPrefix = `portcullis-test:${randomBytes(6).toString('hex')}:`;
  const [portA, portB] = [await closedPort(), await closedPort()];
  const publicUrl = `http://127.0.0.1:${portA}`;
  const file = join(dir, 'portcullis.json');
  await writeFile(
    file,
    JSON.stringify({
      publicUrl,
      logLevel: 'info',
      encryptionKey: randomBytes(32).toString('base64url'),
      store: { type: 'redis', url: REDIS_URL, keyPrefix },
      rateLimits: { register: { perIp: { perMinute: 1000 } } },
      users: [{ username: 'demo', name: 'Demo user', passwordHash: await demoPasswordHash(), tenants: config.tenants.map((tenant) => tenant.id) }],
      ...config,
    }),
  );
  const [a, b] = await Promise.all([
    spawnGateway(['start', '--config', file], { HOST: '127.0.0.1', PORT: String(portA) }),
    spawnGateway(['start', '--config', file], { HOST: '127.0.0.1', PORT: String(portB) }),
  ]);
  return {
    a,
    b,
    urls: { baseUrl: publicUrl, resource: `${publicUrl}/mcp` },
    configFile: file,
    async close() {
      await Promise.all([a.stop(), b.stop()]);
      await rm(dir, { recursive: true, force: true });
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
}
