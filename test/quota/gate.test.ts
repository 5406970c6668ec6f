import { describe, expect, it } from 'vitest';
import { admitToolCall, QUOTA_EXCEEDED } from '../../src/gate/quota.js';
import { quotasSchema } from '../../src/quota/schema.js';
import { MemoryStore } from '../../src/store/memory.js';
import { RedisStore } from '../../src/store/redis.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const call = { clientId: 'agent-a', sub: 'local:demo', upstream: 'demo', tool: 'echo' };

describe('the quota gate', () => {
  it('refuses with the limit, the retry-after and the reset time, and lets other agents through', async () => {
    let now = Date.parse('2026-11-28T23:59:58.000Z');
    const options = { tenant: 't', quotas: quotasSchema.parse({ limits: [{ id: 'daily', per: ['client'], window: { limit: 2, per: 'day' } }] }), store: new MemoryStore({ now: () => now }), now: () => now, logger: silent };
    await admitToolCall(options, call);
    await admitToolCall(options, call);
    await expect(admitToolCall(options, call)).rejects.toMatchObject({
      code: QUOTA_EXCEEDED,
      data: { limit: 'daily', remaining: 0, retryAfterSeconds: 2, resetAt: '2026-11-29T00:00:00.000Z' },
    });
    await admitToolCall(options, { ...call, clientId: 'agent-b' });
    // The window rolls over at midnight UTC.
    now += 2000;
    await admitToolCall(options, call);
  });

  it('counts only the tools its globs name', async () => {
    const options = { tenant: 't', quotas: quotasSchema.parse({ limits: [{ id: 'notes', tools: ['note_*'], window: { limit: 1, per: 'minute' } }] }), store: new MemoryStore(), now: Date.now, logger: silent };
    for (let n = 0; n < 5; n++) await admitToolCall(options, call);
    await admitToolCall(options, { ...call, tool: 'note_write' });
    await expect(admitToolCall(options, { ...call, tool: 'note_read' })).rejects.toMatchObject({ code: QUOTA_EXCEEDED });
  });

  it('holds a concurrency slot until the call releases it', async () => {
    const options = { tenant: 't', quotas: quotasSchema.parse({ limits: [{ id: 'one-at-a-time', per: ['client'], concurrency: { limit: 1 } }] }), store: new MemoryStore(), now: Date.now, logger: silent };
    const release = await admitToolCall(options, call);
    await expect(admitToolCall(options, call)).rejects.toMatchObject({ code: QUOTA_EXCEEDED, data: { limit: 'one-at-a-time' } });
    await release();
    await (await admitToolCall(options, call))();
  });

  it('with the store unreachable, refuses (onStoreDown: deny) or admits (allow) as configured', async () => {
    // A real Redis client against a port where nothing listens: the fault a replica sees when Redis is gone.
    const down = new RedisStore({ url: 'redis://127.0.0.1:1', keyPrefix: 'unreachable:' });
    try {
      const limits = [{ id: 'rate', rate: { perSecond: 10, burst: 10 } }];
      const deny = { tenant: 't', quotas: quotasSchema.parse({ limits }), store: down, now: Date.now, logger: silent };
      await expect(admitToolCall(deny, call)).rejects.toMatchObject({ code: QUOTA_EXCEEDED, data: { reason: 'store_unavailable' } });
      const allow = { ...deny, quotas: quotasSchema.parse({ onStoreDown: 'allow', limits }) };
      await (await admitToolCall(allow, call))();
    } finally {
      await down.close();
    }
  });

  it('refuses a limit without exactly one kind, and duplicate ids', () => {
    expect(quotasSchema.safeParse({ limits: [{ id: 'x', per: ['client'] }] }).success).toBe(false);
    expect(quotasSchema.safeParse({ limits: [{ id: 'x', rate: { perSecond: 1, burst: 1 }, window: { limit: 1, per: 'day' } }] }).success).toBe(false);
    expect(quotasSchema.safeParse({ limits: [{ id: 'x', rate: { perSecond: 1, burst: 1 } }, { id: 'x', rate: { perSecond: 1, burst: 1 } }] }).success).toBe(false);
  });
});
