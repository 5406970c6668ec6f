import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis.js';
import { storeContract } from './contract.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ci = process.env.CI === 'true';
// One prefix per run so parallel runs never share keys; each test adds its own segment.
const runPrefix = `portcullis-test:${randomUUID()}:`;
let tests = 0;

/** A client of the test's own, failing fast like the store's so an absent Redis cannot stall the run. */
function client(): Redis {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  return redis;
}

async function reachable(): Promise<boolean> {
  const probe = client();
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

const redisUp = await reachable();
if (!redisUp && !ci) console.warn(`Skipping the RedisStore contract: no Redis at ${url} (set REDIS_URL; CI=true fails instead).`);

describe.skipIf(!redisUp && !ci)(`RedisStore at ${url}`, () => {
  it('reaches Redis', () => {
    expect(redisUp, `Redis at ${url} is unreachable`).toBe(true);
  });

  storeContract('contract', async () => ({ store: new RedisStore({ url, keyPrefix: `${runPrefix}${tests++}:` }) }));

  it('prefixes keys and leaves a client it did not create open', async () => {
    const own = client();
    const store = new RedisStore({ client: own, keyPrefix: `${runPrefix}own:` });
    await store.set('k', { b: 1, a: [true] });
    expect(await own.get(`${runPrefix}own:k`)).toBe('{"a":[true],"b":1}');
    await store.close();
    expect(await own.ping()).toBe('PONG');
    await own.quit();
  });

  describe('as the bus between replicas', () => {
    const prefix = () => `${runPrefix}bus${tests++}:`;

    it('delivers to current subscribers in order and says how many heard it', async () => {
      const shared = prefix();
      const [sender, receiver] = [new RedisStore({ url, keyPrefix: shared }), new RedisStore({ url, keyPrefix: shared })];
      try {
        expect(await sender.publish('replica-1', 'unheard')).toBe(0);
        const received: string[] = [];
        const unsubscribe = await receiver.subscribe('replica-1', (message) => received.push(message));
        const sent = Array.from({ length: 50 }, (_, n) => `m${n}`);
        const counts = await Promise.all(sent.map((message) => sender.publish('replica-1', message)));
        expect(counts.every((count) => count === 1)).toBe(true);
        await expect.poll(() => received.length).toBe(sent.length);
        expect(received).toEqual(sent);
        await unsubscribe();
        expect(await sender.publish('replica-1', 'after')).toBe(0);
      } finally {
        await Promise.all([sender.close(), receiver.close()]);
      }
    });

    it('keeps channels apart: by name, by key prefix, and per handler until its last unsubscribe', async () => {
      const shared = prefix();
      const [sender, receiver, elsewhere] = [new RedisStore({ url, keyPrefix: shared }), new RedisStore({ url, keyPrefix: shared }), new RedisStore({ url, keyPrefix: prefix() })];
      try {
        const first: string[] = [];
        const second: string[] = [];
        const stray: string[] = [];
        const stopFirst = await receiver.subscribe('c', (message) => first.push(message));
        await receiver.subscribe('c', (message) => second.push(message));
        await receiver.subscribe('other', (message) => stray.push(message));
        await elsewhere.subscribe('c', (message) => stray.push(message));
        expect(await sender.publish('c', 'one')).toBe(1);
        await expect.poll(() => first).toEqual(['one']);
        await stopFirst();
        expect(await sender.publish('c', 'two')).toBe(1);
        await expect.poll(() => second).toEqual(['one', 'two']);
        expect(first).toEqual(['one']);
        expect(stray).toEqual([]);
      } finally {
        await Promise.all([sender.close(), receiver.close(), elsewhere.close()]);
      }
    });

    it('stops hearing its channels when closed', async () => {
      const shared = prefix();
      const [sender, receiver] = [new RedisStore({ url, keyPrefix: shared }), new RedisStore({ url, keyPrefix: shared })];
      await receiver.subscribe('c', () => undefined);
      expect(await sender.publish('c', 'x')).toBe(1);
      await receiver.close();
      await expect.poll(() => sender.publish('c', 'x')).toBe(0);
      await sender.close();
    });
  });

  afterAll(async () => {
    if (!redisUp) return;
    const admin = client();
    const keys = await admin.keys(`${runPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    expect(await admin.keys(`${runPrefix}*`)).toStrictEqual([]);
    await admin.quit();
  });
});

describe('RedisStore without a server', () => {
  it('rejects within a few seconds instead of waiting for Redis', async () => {
    const store = new RedisStore({ url: 'redis://127.0.0.1:1' });
    const started = Date.now();
    await expect(store.get('k')).rejects.toThrow();
    await expect(store.increment('n', 1, 60)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3000);
    await store.close();
  });
});
