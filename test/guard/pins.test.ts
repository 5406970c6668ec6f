import { randomBytes } from 'node:crypto';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, describe, expect, it } from 'vitest';
import { ToolPins } from '../../src/guard/pins.js';
import { MemoryStore } from '../../src/store/memory.js';
import { RedisStore } from '../../src/store/redis.js';
import type { Store } from '../../src/store/store.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new RedisStore({ url: REDIS_URL, keyPrefix: `portcullis-test:${randomBytes(6).toString('hex')}:` });
afterAll(() => redis.close());

const tool = (name: string, description: string): Tool => ({ name, description, inputSchema: { type: 'object' } });
const NOW = Date.parse('2026-11-28T12:00:00Z');

describe.each([
  ['memory', () => new MemoryStore() as Store],
  ['Redis', () => redis as Store],
])('tool pins on the %s store', (_name, makeStore) => {
  it('pins a first sight, reports a change as pending, and approves a definition by its hash', async () => {
    const pins = new ToolPins(makeStore());
    const tenant = `t-${randomBytes(4).toString('hex')}`;
    const first = await pins.review(tenant, 'up', [{ definition: tool('weather', 'v1'), hash: 'h1' }], NOW);
    expect(first.get('weather')).toMatchObject({ state: 'pinned', pin: { hash: 'h1' } });
    const changed = await pins.review(tenant, 'up', [{ definition: tool('weather', 'v2'), hash: 'h2' }], NOW);
    expect(changed.get('weather')).toMatchObject({ state: 'changed', pin: { hash: 'h1', pending: { hash: 'h2', seenAt: '2026-11-28T12:00:00.000Z' } } });
    expect(await pins.approve(tenant, 'up', 'weather', 'h3')).toBe(false);
    expect(await pins.approve(tenant, 'up', 'nothing', 'h2')).toBe(false);
    expect(await pins.approve(tenant, 'up', 'weather', 'h2')).toBe(true);
    expect(await pins.list(tenant, 'up')).toEqual({ weather: { hash: 'h2', definition: tool('weather', 'v2'), approved: true } });
    // Going back to the old definition is a change too: it was replaced.
    expect((await pins.review(tenant, 'up', [{ definition: tool('weather', 'v1'), hash: 'h1' }], NOW)).get('weather')?.state).toBe('changed');
  });

  it('agrees on one pin when replicas see different first definitions at once', async () => {
    const store = makeStore();
    const tenant = `t-${randomBytes(4).toString('hex')}`;
    const replicas = Array.from({ length: 8 }, () => new ToolPins(store));
    const results = await Promise.all(replicas.map((pins, index) => pins.review(tenant, 'up', [{ definition: tool('search', `v${index}`), hash: `h${index}` }, { definition: tool(`own-${index}`, 'x'), hash: 'x' }], NOW)));
    const pinned = (await replicas[0]!.list(tenant, 'up')).search!.hash;
    // Exactly one replica saw its definition pinned; the others see theirs as a change of that pin.
    expect(results.filter((statuses) => statuses.get('search')?.state === 'pinned')).toHaveLength(1);
    for (const statuses of results) expect(statuses.get('search')?.pin.hash).toBe(pinned);
    // No replica's first sight of its own tools was lost to a concurrent write.
    expect(Object.keys(await replicas[0]!.list(tenant, 'up')).sort()).toEqual(['search', ...Array.from({ length: 8 }, (_, index) => `own-${index}`)].sort());
  });
});
