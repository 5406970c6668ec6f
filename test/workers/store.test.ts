import { env as bindings } from 'cloudflare:workers';
import { evictDurableObject, reset, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { DurableObjectStore } from '../../src/store/durable-object.js';
import type { Env } from '../../src/runtime/worker.js';
import { storeContract } from '../store/contract.js';

const env = bindings as unknown as Env;

// The same contract as the memory and Redis stores, against Durable Objects in workerd (real time: no clock to move).
storeContract('DurableObjectStore', async () => {
  await reset();
  return { store: new DurableObjectStore(env.STORE) };
});

function objectOf(key: string) {
  return env.STORE.get(env.STORE.idFromName(key));
}

describe('DurableObjectStore', () => {
  it('keeps values, counters, windows and leases across an eviction of the object', async () => {
    await reset();
    const store = new DurableObjectStore(env.STORE);
    const now = Date.now();
    await store.set('v', { scopes: ['read'] }, 60);
    await store.increment('n', 3, 60);
    await store.admit([{ kind: 'window', key: 'w', limit: 2, cost: 1, resetAt: now + 60_000 }], now);
    await store.admit([{ kind: 'concurrency', key: 'c', limit: 1, lease: 'a', expiresAt: now + 60_000 }], now);
    for (const key of ['v', 'n', 'w', 'c']) await evictDurableObject(objectOf(key));

    expect(await store.get('v')).toStrictEqual({ scopes: ['read'] });
    expect(await store.increment('n', 1, 60)).toBe(4);
    expect(await store.admit([{ kind: 'window', key: 'w', limit: 2, cost: 1, resetAt: now + 60_000 }], now)).toEqual({ admitted: true, remaining: [0] });
    expect(await store.admit([{ kind: 'concurrency', key: 'c', limit: 1, lease: 'b', expiresAt: now + 60_000 }], now)).toMatchObject({ admitted: false });
    await store.release('c', 'a');
    await evictDurableObject(objectOf('c'));
    expect(await store.admit([{ kind: 'concurrency', key: 'c', limit: 1, lease: 'b', expiresAt: now + 60_000 }], now)).toEqual({ admitted: true, remaining: [0] });
  });

  it('reclaims an expired key with an alarm, leaving the object empty', async () => {
    await reset();
    const store = new DurableObjectStore(env.STORE);
    await store.set('code', 'one-time', 1);
    await store.set('kept', 'forever');
    const expiring = objectOf('code');
    expect(await runInDurableObject(expiring, async (_object, state) => [...(await state.storage.list()).keys()])).toEqual(['code']);
    await new Promise((resolve) => setTimeout(resolve, 1100));

    // The alarm may have run on its own by now; if not, it runs here. Either way nothing is left, not even an alarm.
    await runDurableObjectAlarm(expiring);
    expect(await runInDurableObject(expiring, async (_object, state) => [(await state.storage.list()).size, await state.storage.getAlarm()])).toEqual([0, null]);
    expect(await runDurableObjectAlarm(objectOf('kept'))).toBe(false);
    expect(await store.get('kept')).toBe('forever');
  });

  it('gives back what the other objects took when one limit of an admission refuses', async () => {
    await reset();
    const store = new DurableObjectStore(env.STORE);
    const now = Date.now();
    const wide = { kind: 'window' as const, key: 'tenant', limit: 10, cost: 1, resetAt: now + 60_000 };
    const bucket = { kind: 'rate' as const, key: 'agent-rate', intervalMs: 1000, burst: 5, cost: 1 };
    const slot = (lease: string) => ({ kind: 'concurrency' as const, key: 'in-flight', limit: 1, lease, expiresAt: now + 60_000 });
    // Each call at its own now, as the quota gate makes them: a bucket's refund gives back what has not refilled since.
    expect(await store.admit([wide, bucket, slot('a')], Date.now())).toEqual({ admitted: true, remaining: [9, 4, 0] });
    for (let i = 0; i < 5; i++) expect(await store.admit([wide, bucket, slot(`b${i}`)], Date.now())).toMatchObject({ admitted: false, refused: 2 });
    // Five refusals took nothing from the window nor the bucket.
    expect(await store.admit([wide], Date.now())).toEqual({ admitted: true, remaining: [8] });
    expect(await store.admit([bucket], Date.now())).toEqual({ admitted: true, remaining: [3] });
  });

  it('admits exactly a concurrency limit among many concurrent multi-object admissions', async () => {
    await reset();
    const store = new DurableObjectStore(env.STORE);
    const now = Date.now();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        store.admit(
          [
            { kind: 'window', key: 'tenant-day', limit: 1000, cost: 1, resetAt: now + 60_000 },
            { kind: 'concurrency', key: 'agent-in-flight', limit: 3, lease: `l${i}`, expiresAt: now + 60_000 },
          ],
          now,
        ),
      ),
    );
    expect(results.filter((result) => result.admitted)).toHaveLength(3);
    // The 37 refused admissions gave back their window units.
    expect(await store.admit([{ kind: 'window', key: 'tenant-day', limit: 1000, cost: 1, resetAt: now + 60_000 }], now)).toEqual({ admitted: true, remaining: [996] });
  });
});
