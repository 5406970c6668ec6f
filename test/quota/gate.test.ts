import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { admitToolCall, QUOTA_EXCEEDED, type QuotaGateOptions } from '../../src/gate/quota.js';
import { Metrics } from '../../src/observe/metrics.js';
import { compileQuotas } from '../../src/quota/compile.js';
import { quotasSchema, type PlanConfig } from '../../src/quota/schema.js';
import { MemoryStore } from '../../src/store/memory.js';
import { RedisStore } from '../../src/store/redis.js';
import type { Store } from '../../src/store/store.js';

const call = { clientId: 'agent-a', sub: 'local:demo', upstream: 'demo', tool: 'echo' };

/** A logger that keeps what was logged at warn and error. */
function recordingLogger() {
  const warnings: { fields: Record<string, unknown>; message: string }[] = [];
  return { warnings, logger: { info: () => undefined, warn: (fields: Record<string, unknown>, message: string) => warnings.push({ fields, message }), error: (fields: Record<string, unknown>, message: string) => warnings.push({ fields, message }) } };
}

function gate(quotas: unknown, options: { store?: Store; now?: () => number; plans?: PlanConfig[] } = {}): QuotaGateOptions & { warnings: { fields: Record<string, unknown>; message: string }[] } {
  const { warnings, logger } = recordingLogger();
  const now = options.now ?? Date.now;
  const plans = new Map((options.plans ?? []).map((plan) => [plan.id, plan]));
  return { tenant: 't', quotas: compileQuotas(quotasSchema.parse(quotas), plans), store: options.store ?? new MemoryStore({ now }), now, logger, metrics: new Metrics(), warnings };
}

/** How many calls the gate admits before the first refusal (up to `max`). */
async function admittedBeforeRefusal(options: QuotaGateOptions, target = call, max = 100): Promise<number> {
  for (let n = 0; n < max; n++) {
    try {
      await admitToolCall(options, target);
    } catch {
      return n;
    }
  }
  return max;
}

const plans: PlanConfig[] = [
  { id: 'free', limits: [{ id: 'calls', per: ['client'], window: { limit: 2, per: 'day' } }] },
  { id: 'team', limits: [{ id: 'calls', per: ['client'], window: { limit: 5, per: 'day' } }, { id: 'writes', per: ['client'], tools: ['note_*'], window: { limit: 1, per: 'day' } }] },
];

describe('the quota gate', () => {
  it('refuses with the limit, the retry-after and the reset time, and lets other agents through', async () => {
    let now = Date.parse('2026-11-28T23:59:58.000Z');
    const options = gate({ limits: [{ id: 'daily', per: ['client'], window: { limit: 2, per: 'day' } }] }, { now: () => now });
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
    expect(options.metrics.quotaDecisions.value({ tenant: 't', outcome: 'admitted' })).toBe(4);
    expect(options.metrics.quotaDecisions.value({ tenant: 't', outcome: 'refused' })).toBe(1);
  });

  it('counts only the tools its globs name', async () => {
    const options = gate({ limits: [{ id: 'notes', tools: ['note_*'], window: { limit: 1, per: 'minute' } }] });
    for (let n = 0; n < 5; n++) await admitToolCall(options, call);
    await admitToolCall(options, { ...call, tool: 'note_write' });
    await expect(admitToolCall(options, { ...call, tool: 'note_read' })).rejects.toMatchObject({ code: QUOTA_EXCEEDED });
  });

  it('holds a concurrency slot until the call releases it', async () => {
    const options = gate({ limits: [{ id: 'one-at-a-time', per: ['client'], concurrency: { limit: 1 } }] });
    const release = await admitToolCall(options, call);
    await expect(admitToolCall(options, call)).rejects.toMatchObject({ code: QUOTA_EXCEEDED, data: { limit: 'one-at-a-time' } });
    await release();
    await (await admitToolCall(options, call))();
  });

  it('gives every agent the tenant\'s plan, and an agent entry its own plan and overrides', async () => {
    const options = gate(
      {
        plan: 'free',
        agents: [
          { clients: ['svc-*'], plan: 'team' },
          { clients: ['vip'], limits: [{ id: 'calls', per: ['client'], window: { limit: 7, per: 'day' } }] },
        ],
      },
      { plans },
    );
    expect(await admittedBeforeRefusal(options)).toBe(2);
    expect(await admittedBeforeRefusal(options, { ...call, clientId: 'svc-reports' })).toBe(5);
    // The team plan brings its own limit on writes; the free plan has none.
    expect(await admittedBeforeRefusal(options, { ...call, clientId: 'svc-sync', tool: 'note_write' })).toBe(1);
    // An override replaces the plan's limit of the same id and keeps the tenant's plan otherwise.
    expect(await admittedBeforeRefusal(options, { ...call, clientId: 'vip' })).toBe(7);
  });

  it('adds the tenant\'s own limits to the plan, replacing one of the same id', async () => {
    const options = gate({ plan: 'team', limits: [{ id: 'writes', per: ['client'], tools: ['note_*'], window: { limit: 3, per: 'day' } }] }, { plans });
    expect(await admittedBeforeRefusal(options, { ...call, tool: 'note_write' })).toBe(3);
    // The plan's other limit still applies: 3 writes already count toward its 5 calls.
    expect(await admittedBeforeRefusal(options)).toBe(2);
  });

  it('refuses the calls of an agent whose plan is not defined (fail closed)', async () => {
    const options = gate({ plan: 'gone' }, { plans });
    await expect(admitToolCall(options, call)).rejects.toMatchObject({ code: QUOTA_EXCEEDED, data: { reason: 'plan_undefined' } });
    expect(options.warnings.map((warning) => warning.fields)).toContainEqual(expect.objectContaining({ plan: 'gone' }));
  });

  it('counts a tool by its cost weight toward windows and rates, the first matching entry winning', async () => {
    const options = gate({
      costs: [{ tools: ['search'], cost: 4 }, { tools: ['*'], cost: 2 }],
      limits: [
        { id: 'units', per: ['client'], window: { limit: 10, per: 'day' } },
        { id: 'bucket', per: ['user'], rate: { perSecond: 0.001, burst: 14 } },
      ],
    });
    await admitToolCall(options, { ...call, tool: 'search' });
    await admitToolCall(options, { ...call, tool: 'search' });
    // 8 of 10 units used: a cost-2 call fits, a further search (4) does not, and nothing of it was taken.
    await expect(admitToolCall(options, { ...call, tool: 'search' })).rejects.toMatchObject({ data: { limit: 'units' } });
    await admitToolCall(options, call);
    await expect(admitToolCall(options, call)).rejects.toMatchObject({ data: { limit: 'units' } });
    // The user's bucket took 4 + 4 + 2 of its 14 (refused calls took nothing): another agent of the same user, whose
    // own window allows 5 calls of cost 2, gets 2 before the bucket refuses.
    expect(await admittedBeforeRefusal(options, { ...call, clientId: 'agent-b' })).toBe(2);
    await expect(admitToolCall(options, { ...call, clientId: 'agent-b' })).rejects.toMatchObject({ data: { limit: 'bucket' } });
  });

  it('logs and counts a limit once when an admission crosses its soft threshold', async () => {
    const options = gate({ softLimit: 0.5, limits: [{ id: 'daily', per: ['client'], window: { limit: 10, per: 'day' } }] });
    for (let n = 0; n < 10; n++) await admitToolCall(options, call);
    const soft = options.warnings.filter((warning) => warning.message === 'a quota passed its soft threshold');
    expect(soft).toHaveLength(1);
    expect(soft[0]!.fields).toMatchObject({ tenant: 't', limit: 'daily', client: 'agent-a', used: 5, capacity: 10 });
    expect(options.metrics.quotaSoftLimit.value({ tenant: 't', limit: 'daily' })).toBe(1);
    expect(options.metrics.render()).toContain('portcullis_quota_soft_limit_total{tenant="t",limit="daily"} 1');
  });

  it('with the store unreachable, refuses (onStoreDown: deny) or admits (allow) as configured, visibly in metrics', async () => {
    // A real Redis client against a port where nothing listens: the fault a replica sees when Redis is gone.
    const down = new RedisStore({ url: 'redis://127.0.0.1:1', keyPrefix: 'unreachable:' });
    try {
      const limits = [{ id: 'rate', rate: { perSecond: 10, burst: 10 } }];
      const deny = gate({ limits }, { store: down });
      await expect(admitToolCall(deny, call)).rejects.toMatchObject({ code: QUOTA_EXCEEDED, data: { reason: 'store_unavailable' } });
      expect(deny.metrics.quotaDecisions.value({ tenant: 't', outcome: 'store_down_refused' })).toBe(1);
      const allow = gate({ onStoreDown: 'allow', limits }, { store: down });
      await (await admitToolCall(allow, call))();
      expect(allow.metrics.quotaDecisions.value({ tenant: 't', outcome: 'store_down_admitted' })).toBe(1);
      expect(allow.warnings.map((warning) => warning.message)).toContain('quotas cannot be checked; admitting the call (onStoreDown: allow)');
    } finally {
      await down.close();
    }
  });

  it('refuses a limit without exactly one kind, duplicate ids, and plans the configuration does not define', () => {
    expect(quotasSchema.safeParse({ limits: [{ id: 'x', per: ['client'] }] }).success).toBe(false);
    expect(quotasSchema.safeParse({ limits: [{ id: 'x', rate: { perSecond: 1, burst: 1 }, window: { limit: 1, per: 'day' } }] }).success).toBe(false);
    const duplicate = quotasSchema.safeParse({ limits: [{ id: 'x', rate: { perSecond: 1, burst: 1 } }, { id: 'x', rate: { perSecond: 1, burst: 1 } }] });
    expect(duplicate.error?.issues).toEqual([expect.objectContaining({ path: ['limits', 1, 'id'], message: 'duplicate limit id "x"' })]);
    expect(quotasSchema.safeParse({ costs: [{ tools: ['x'], cost: 0 }] }).success).toBe(false);
    expect(() =>
      parseConfig({ plans: [{ id: 'free' }], tenants: [{ id: 'default', quotas: { plan: 'free', agents: [{ clients: ['a'], plan: 'pro' }] } }] }),
    ).toThrow(/tenants\.0\.quotas\.agents\.0\.plan: no plan has the id "pro"/);
  });
});

