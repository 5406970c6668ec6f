import { z } from 'zod';
import { refineUnique } from '../config/unique.js';

const globs = z.array(z.string().min(1).max(512)).min(1);
const id = z.string().regex(/^[A-Za-z0-9][\w.:-]{0,63}$/, 'must be 1-64 characters of letters, digits, _ . : -');

/**
 * One limit (docs/quotas.md): a rate, a calendar window or a concurrency bound, counted separately for each value
 * of its `per` dimensions, over the tool calls whose names match `tools`.
 */
export const quotaLimitSchema = z
  .object({
    id,
    /** What is counted separately: per agent (client id), per user (subject), per tool; none means the tenant as a whole. */
    per: z.array(z.enum(['client', 'user', 'tool'])).default([]),
    /** Tool names as the upstream names them (globs); all tools by default. */
    tools: globs.optional(),
    rate: z.object({ perSecond: z.number().positive().max(100_000), burst: z.number().int().positive().max(1_000_000) }).strict().optional(),
    window: z.object({ limit: z.number().int().positive(), per: z.enum(['minute', 'hour', 'day', 'month']) }).strict().optional(),
    concurrency: z.object({ limit: z.number().int().positive(), leaseSeconds: z.number().int().positive().max(86_400).default(600) }).strict().optional(),
  })
  .strict()
  .superRefine((limit, ctx) => {
    const kinds = [limit.rate, limit.window, limit.concurrency].filter((kind) => kind !== undefined).length;
    if (kinds !== 1) ctx.addIssue({ code: 'custom', message: 'needs exactly one of rate, window, concurrency' });
  });

const limitsSchema = z
  .array(quotaLimitSchema)
  .default([])
  .superRefine((limits, ctx) => refineUnique(ctx, limits, { field: 'id', what: 'limit id' }, (limit) => limit.id));

/** A plan (tier): a named set of limits that tenants and agents are assigned. */
export const planSchema = z.object({ id, description: z.string().optional(), limits: limitsSchema }).strict();

export const quotasSchema = z
  .object({
    /** When the store cannot be reached: refuse calls (the default, fail closed) or let them through. */
    onStoreDown: z.enum(['deny', 'allow']).default('deny'),
    /** The plan every agent of the tenant has unless an `agents` entry names another. */
    plan: id.optional(),
    /** The tenant's own limits, on top of the plan's; one with a plan limit's id replaces it. */
    limits: limitsSchema,
    /** Agents (client ids, globs; the first entry that matches applies) with another plan and limits of their own. */
    agents: z
      .array(z.object({ clients: globs, plan: id.optional(), limits: limitsSchema }).strict())
      .default([]),
    /** What a call of a tool counts toward rates and windows (the first entry that matches; 1 otherwise). */
    costs: z
      .array(z.object({ tools: globs, cost: z.number().int().positive().max(1_000_000) }).strict())
      .default([]),
    /** The share of a limit past which a warning is logged and counted, once per crossing. */
    softLimit: z.number().gt(0).lt(1).default(0.8),
  })
  .strict();

/** An abuse limit: a token bucket of `perMinute` requests a minute holding up to `burst` (by default `perMinute`). */
const perMinuteSchema = z.object({ perMinute: z.number().int().positive().max(1_000_000), burst: z.number().int().positive().max(1_000_000).optional() }).strict();
/** `false` turns a limit off. */
const abuseLimit = (defaults: z.input<typeof perMinuteSchema> | false) => z.union([perMinuteSchema, z.literal(false)]).default(defaults);

/**
 * The authorization server's abuse limits, per client address and per client id. Per client only where the id means
 * something: at the token endpoint for clients that authenticate; at the authorization endpoint, where anyone can
 * send any client_id, only when configured (it lets anyone throttle a client for all its users).
 */
export const rateLimitsSchema = z
  .object({
    register: z.object({ perIp: abuseLimit({ perMinute: 20 }) }).strict().prefault({}),
    authorize: z.object({ perIp: abuseLimit({ perMinute: 120 }), perClient: abuseLimit(false) }).strict().prefault({}),
    token: z.object({ perIp: abuseLimit({ perMinute: 600 }), perClient: abuseLimit({ perMinute: 300 }) }).strict().prefault({}),
  })
  .strict();

export type QuotaLimitConfig = z.infer<typeof quotaLimitSchema>;
export type QuotasConfig = z.infer<typeof quotasSchema>;
export type PlanConfig = z.infer<typeof planSchema>;
export type RateLimitsConfig = z.infer<typeof rateLimitsSchema>;
export type AbuseLimitConfig = z.infer<typeof perMinuteSchema> | false;

/** The plans a tenant's quotas name, each with the path it is named at (for "no such plan" errors). */
export function planReferences(quotas: QuotasConfig): { plan: string; path: (string | number)[] }[] {
  return [
    ...(quotas.plan !== undefined ? [{ plan: quotas.plan, path: ['quotas', 'plan'] }] : []),
    ...quotas.agents.flatMap((agent, index) => (agent.plan !== undefined ? [{ plan: agent.plan, path: ['quotas', 'agents', index, 'plan'] }] : [])),
  ];
}
