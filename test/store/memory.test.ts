import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { storeContract } from './contract.js';

function clockedStore(): { store: MemoryStore; advance: (ms: number) => void; now: () => number } {
  let now = 1_700_000_000_000;
  return {
    store: new MemoryStore({ now: () => now }),
    advance: (ms) => {
      now += ms;
    },
    now: () => now,
  };
}

storeContract('MemoryStore', async () => clockedStore());

describe('MemoryStore', () => {
  it('stores copies: mutating what was set or what was read does not change the store', async () => {
    const { store } = clockedStore();
    const value = { scopes: ['read'], client: { id: 'c1' } };
    await store.set('k', value);
    value.scopes.push('admin');
    value.client.id = 'evil';

    const read = await store.get<typeof value>('k');
    expect(read).toStrictEqual({ scopes: ['read'], client: { id: 'c1' } });
    read?.scopes.push('admin');
    expect(await store.get('k')).toStrictEqual({ scopes: ['read'], client: { id: 'c1' } });

    const next = { scopes: ['write'] };
    expect(await store.compareAndSet<unknown>('k', { client: { id: 'c1' }, scopes: ['read'] }, next)).toBe(true);
    next.scopes.push('admin');
    expect(await store.take('k')).toStrictEqual({ scopes: ['write'] });
  });

  it('reclaims expired keys that are never read again', async () => {
    const { store, advance } = clockedStore();
    for (let i = 0; i < 1000; i++) await store.set(`code:${i}`, i, 60);
    await store.set('keep', 'kept');
    expect(store.size).toBe(1001);

    advance(60_000);
    for (let i = 0; i < 200; i++) await store.increment('hits', 1, 3600);

    expect(store.size).toBe(2);
    expect(await store.get('keep')).toBe('kept');
    expect(await store.get('hits')).toBe(200);
  });

  it('refunds of a bucket never credit what has refilled since the admission (a call admitted in between keeps its charge)', async () => {
    const { store, advance, now } = clockedStore();
    const bucket = { kind: 'rate' as const, key: 'r', intervalMs: 100, burst: 1, cost: 1 };
    const admittedAt = now();
    expect(await store.admit([bucket], admittedAt)).toMatchObject({ admitted: true });
    advance(150);
    // Its token refilled 50 ms ago; another call takes the bucket; then the first admission is refunded.
    expect(await store.admit([bucket], now())).toMatchObject({ admitted: true });
    await store.refund([bucket], now() - admittedAt);
    expect(await store.admit([bucket], now())).toMatchObject({ admitted: false });
    // A refund right after the admission gives the whole token back.
    advance(1000);
    expect(await store.admit([bucket], now())).toMatchObject({ admitted: true });
    await store.refund([bucket], 0);
    expect(await store.admit([bucket], now())).toMatchObject({ admitted: true });
  });

  it('uses Date.now when no clock is given', async () => {
    const store = new MemoryStore();
    await store.set('k', 'v', 60);
    expect(await store.get('k')).toBe('v');
  });
});
