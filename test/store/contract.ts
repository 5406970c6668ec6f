import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';

/** What a contract run needs: a fresh, empty store and, when the store's clock is injected, a way to move it. */
export interface StoreUnderTest {
  store: Store;
  /** Moves the store's clock forward; without it, expiry tests wait in real time. */
  advance?: (ms: number) => void;
  /** The store's clock, epoch ms; `Date.now` when absent. */
  now?: () => number;
}

/**
 * Registers the behaviour every {@link Store} implementation must have. `make` is called before each test and must
 * return a store that shares no keys with the one of any other test.
 */
export function storeContract(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(name, () => {
    let store: Store;
    let elapse: (ms: number) => Promise<void>;
    let now: () => number;

    beforeEach(async () => {
      const made = await make();
      store = made.store;
      const advance = made.advance;
      elapse = advance === undefined ? sleep : async (ms) => advance(ms);
      now = made.now ?? Date.now;
    });

    afterEach(async () => {
      await store.close();
    });

    describe('get / set / delete', () => {
      const values: Array<[string, unknown]> = [
        ['an object', { id: 'c1', scopes: ['read', 'write'], nested: { n: 1, ok: true, none: null } }],
        ['an array', [1, 'two', { three: 3 }, [4], null, false]],
        ['a string', 'héllo “world” \u2028 \ud83d\udd11'],
        ['the empty string', ''],
        ['an integer', 42],
        ['zero', 0],
        ['a negative fraction', -1.5],
        ['true', true],
        ['false', false],
        ['null', null],
      ];
      it.each(values)('round-trips %s', async (_label, value) => {
        await store.set('k', value);
        expect(await store.get('k')).toStrictEqual(value);
      });

      it('returns undefined for an absent key', async () => {
        expect(await store.get('absent')).toBeUndefined();
        expect(await store.take('absent')).toBeUndefined();
      });

      it('overwrites and deletes', async () => {
        await store.set('k', { v: 1 });
        await store.set('k', { v: 2 });
        expect(await store.get('k')).toStrictEqual({ v: 2 });
        await store.delete('k');
        expect(await store.get('k')).toBeUndefined();
        await store.delete('k');
        expect(await store.get('k')).toBeUndefined();
      });

      it('keeps keys apart', async () => {
        await store.set('a', 'A');
        await store.set('b', 'B');
        await store.delete('a');
        expect(await store.get('a')).toBeUndefined();
        expect(await store.get('b')).toBe('B');
      });

      it('rejects values without a JSON form and TTLs that are not positive whole seconds', async () => {
        await expect(store.set('k', undefined)).rejects.toThrow(TypeError);
        await expect(store.set('k', Number.NaN)).rejects.toThrow(TypeError);
        await expect(store.set('k', 1, 0)).rejects.toThrow(RangeError);
        await expect(store.set('k', 1, 1.5)).rejects.toThrow(RangeError);
        await expect(store.increment('n', 1, -1)).rejects.toThrow(RangeError);
        await expect(store.increment('n', 0.5, 60)).rejects.toThrow(RangeError);
        expect(await store.get('k')).toBeUndefined();
        expect(await store.get('n')).toBeUndefined();
      });
    });

    it('expires values after their TTL and keeps those without one', async () => {
      await store.set('ttl', { v: 1 }, 1);
      await store.compareAndSet('cas', undefined, { v: 2 }, 1);
      await store.set('cleared', { v: 3 }, 1);
      await store.set('cleared', { v: 4 }); // a set without TTL makes the key permanent
      await store.set('forever', { v: 5 });
      expect(await store.get('ttl')).toStrictEqual({ v: 1 });
      expect(await store.get('cas')).toStrictEqual({ v: 2 });

      await elapse(1200);

      expect(await store.get('ttl')).toBeUndefined();
      expect(await store.take('cas')).toBeUndefined();
      expect(await store.get('cleared')).toStrictEqual({ v: 4 });
      expect(await store.get('forever')).toStrictEqual({ v: 5 });
      // An expired key is absent for compareAndSet too.
      expect(await store.compareAndSet('ttl', { v: 1 }, { v: 9 })).toBe(false);
      expect(await store.compareAndSet('ttl', undefined, { v: 9 })).toBe(true);
      expect(await store.get('ttl')).toStrictEqual({ v: 9 });
    });

    describe('take', () => {
      it('returns the value once', async () => {
        await store.set('code', { sub: 'u1' });
        expect(await store.take('code')).toStrictEqual({ sub: 'u1' });
        expect(await store.take('code')).toBeUndefined();
        expect(await store.get('code')).toBeUndefined();
      });

      it('gives the value to exactly one of 50 concurrent callers', async () => {
        await store.set('code', { sub: 'u1' });
        const results = await Promise.all(Array.from({ length: 50 }, () => store.take('code')));
        const winners = results.filter((result) => result !== undefined);
        expect(winners).toStrictEqual([{ sub: 'u1' }]);
        expect(await store.get('code')).toBeUndefined();
      });
    });

    describe('compareAndSet', () => {
      it('swaps only when the current value equals the expected one', async () => {
        await store.set('k', { version: 1 });
        expect(await store.compareAndSet('k', { version: 2 }, { version: 3 })).toBe(false);
        expect(await store.get('k')).toStrictEqual({ version: 1 });
        expect(await store.compareAndSet('k', { version: 1 }, { version: 2 })).toBe(true);
        expect(await store.get('k')).toStrictEqual({ version: 2 });
      });

      it('with expected undefined creates an absent key and refuses a present one', async () => {
        expect(await store.compareAndSet('k', undefined, 'first')).toBe(true);
        expect(await store.get('k')).toBe('first');
        expect(await store.compareAndSet('k', undefined, 'second')).toBe(false);
        expect(await store.get('k')).toBe('first');
      });

      it('does not create an absent key when a value is expected', async () => {
        expect(await store.compareAndSet('k', 'something', 'next')).toBe(false);
        expect(await store.get('k')).toBeUndefined();
      });

      it('compares objects regardless of key order', async () => {
        await store.set('k', { b: { d: [1, { f: 2, e: 1 }], c: 2 }, a: 1 });
        expect(await store.compareAndSet('k', { a: 1, b: { c: 2, d: [1, { e: 1, f: 2 }] } }, { a: 2 })).toBe(true);
        expect(await store.get('k')).toStrictEqual({ a: 2 });
      });

      it('still tells arrays in a different order apart', async () => {
        await store.set('k', [1, 2]);
        expect(await store.compareAndSet('k', [2, 1], [3])).toBe(false);
        expect(await store.get('k')).toStrictEqual([1, 2]);
      });

      it('lets exactly one of 50 concurrent swaps win, and keeps the winner’s value', async () => {
        await store.set('k', { owner: 'none' });
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.compareAndSet('k', { owner: 'none' }, { owner: `w${i}` })),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.get('k')).toStrictEqual({ owner: `w${results.indexOf(true)}` });
      });

      it('lets exactly one of 50 concurrent creations win', async () => {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.compareAndSet('k', undefined, i)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.get('k')).toBe(results.indexOf(true));
      });
    });

    describe('increment', () => {
      it('adds and returns the new value, starting from zero', async () => {
        expect(await store.increment('n', 5, 60)).toBe(5);
        expect(await store.increment('n', -2, 60)).toBe(3);
        expect(await store.get('n')).toBe(3);
      });

      it('counts 100 concurrent increments exactly once each', async () => {
        const results = await Promise.all(Array.from({ length: 100 }, () => store.increment('n', 1, 60)));
        expect([...results].sort((a, b) => a - b)).toStrictEqual(Array.from({ length: 100 }, (_, i) => i + 1));
        expect(await store.get('n')).toBe(100);
      });

      it('continues a counter written with set and compareAndSet', async () => {
        await store.set('n', 7);
        expect(await store.increment('n', 1, 60)).toBe(8);
        expect(await store.compareAndSet('n', 8, 20)).toBe(true);
        expect(await store.increment('n', 1, 60)).toBe(21);
      });

      it('rejects a value that is not an integer and leaves it alone', async () => {
        await store.set('n', 'text');
        await expect(store.increment('n', 1, 60)).rejects.toThrow();
        expect(await store.get('n')).toBe('text');
      });

      it('sets the TTL when it creates the key and never extends it', async () => {
        expect(await store.increment('window', 1, 1)).toBe(1);
        await elapse(600);
        expect(await store.increment('window', 1, 1)).toBe(2);
        await elapse(600);
        expect(await store.get('window')).toBeUndefined();
        expect(await store.increment('window', 1, 1)).toBe(1);
      });
    });

    describe('admit', () => {
      it('counts a window up to its limit, then refuses until it resets, naming the limit and the wait', async () => {
        const resetAt = now() + 600;
        const window = { kind: 'window' as const, key: 'w', limit: 3, cost: 1, resetAt };
        for (const left of [2, 1, 0]) expect(await store.admit([window], now())).toEqual({ admitted: true, remaining: [left] });
        const refused = await store.admit([window], now());
        expect(refused).toMatchObject({ admitted: false, refused: 0 });
        expect(refused.admitted === false && refused.retryAfterMs).toBeGreaterThan(400);
        await elapse(700);
        expect(await store.admit([{ ...window, resetAt: now() + 600 }], now())).toEqual({ admitted: true, remaining: [2] });
      });

      it('is all-or-nothing: a call refused by one limit takes nothing from the others', async () => {
        const resetAt = now() + 60_000;
        const wide = { kind: 'window' as const, key: 'tenant', limit: 10, cost: 1, resetAt };
        const narrow = { kind: 'window' as const, key: 'agent', limit: 1, cost: 1, resetAt };
        expect(await store.admit([wide, narrow], now())).toEqual({ admitted: true, remaining: [9, 0] });
        expect(await store.admit([wide, narrow], now())).toMatchObject({ admitted: false, refused: 1 });
        expect(await store.admit([wide], now())).toEqual({ admitted: true, remaining: [8] });
      });

      it('lets a token bucket spend its burst at once, then one unit per interval', async () => {
        const bucket = { kind: 'rate' as const, key: 'r', intervalMs: 200, burst: 3, cost: 1 };
        for (const left of [2, 1, 0]) expect(await store.admit([bucket], now())).toEqual({ admitted: true, remaining: [left] });
        const refused = await store.admit([bucket], now());
        expect(refused).toMatchObject({ admitted: false, refused: 0 });
        expect(refused.admitted === false && refused.retryAfterMs).toBeGreaterThan(100);
        expect(refused.admitted === false && refused.retryAfterMs).toBeLessThanOrEqual(200);
        await elapse(250);
        expect(await store.admit([bucket], now())).toMatchObject({ admitted: true });
        expect(await store.admit([bucket], now())).toMatchObject({ admitted: false });
      });

      it('keeps the pace of a rate whose interval is not a whole millisecond, even with a burst of one', async () => {
        for (const perSecond of [3, 600]) {
          const intervalMs = 1000 / perSecond;
          const bucket = { kind: 'rate' as const, key: `pace-${perSecond}`, intervalMs, burst: 1, cost: 1 };
          const start = now();
          let admitted = 0;
          // A caller trying twice per interval for one second gets the rate: every interval, not every whole
          // millisecond after it (floating-point error may cost it a half interval now and then, never more).
          for (let n = 0; n < 2 * perSecond; n++) if ((await store.admit([bucket], start + (n * intervalMs) / 2)).admitted) admitted++;
          expect(admitted).toBeLessThanOrEqual(perSecond);
          expect(admitted).toBeGreaterThanOrEqual(Math.floor(perSecond * 0.99));
        }
      });

      it('holds concurrency leases until released or expired', async () => {
        const slot = (lease: string, ms = 60_000) => ({ kind: 'concurrency' as const, key: 'c', limit: 2, lease, expiresAt: now() + ms });
        expect(await store.admit([slot('a', 500)], now())).toEqual({ admitted: true, remaining: [1] });
        expect(await store.admit([slot('b')], now())).toEqual({ admitted: true, remaining: [0] });
        expect(await store.admit([slot('c')], now())).toMatchObject({ admitted: false, refused: 0 });
        await store.release('c', 'b');
        expect(await store.admit([slot('c')], now())).toEqual({ admitted: true, remaining: [0] });
        // Lease a expires: a replica that died holding it does not keep the slot.
        await elapse(700);
        expect(await store.admit([slot('d')], now())).toEqual({ admitted: true, remaining: [0] });
      });

      it('keeps each limit for its time after the caller’s now, even when the caller’s clock is behind the store’s', async () => {
        // A replica 10 s behind: keys expiring at instants of its clock would already be gone, and admit again.
        const behind = now() - 10_000;
        const bucket = { kind: 'rate' as const, key: 'skew-rate', intervalMs: 1000, burst: 1, cost: 1 };
        const window = { kind: 'window' as const, key: 'skew-window', limit: 1, cost: 1, resetAt: behind + 5000 };
        const slot = (lease: string) => ({ kind: 'concurrency' as const, key: 'skew-slots', limit: 1, lease, expiresAt: behind + 5000 });
        for (const limit of [bucket, window, slot('a')]) expect(await store.admit([limit], behind)).toMatchObject({ admitted: true });
        for (const limit of [bucket, window, slot('b')]) expect(await store.admit([limit], behind + 10)).toMatchObject({ admitted: false, refused: 0 });
      });

      it('admits exactly the limit among many concurrent callers', async () => {
        const resetAt = now() + 60_000;
        const results = await Promise.all(Array.from({ length: 50 }, () => store.admit([{ kind: 'window', key: 'race', limit: 10, cost: 1, resetAt }], now())));
        expect(results.filter((result) => result.admitted)).toHaveLength(10);
      });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
