import { z } from 'zod';
import { refineUnique } from '../config/unique.js';

const globs = z.array(z.string().min(1).max(512)).min(1);

/**
 * One limit of a tenant (docs/quotas.md): a rate, a calendar window or a concurrency bound, counted separately for
 * each value of its `per` dimensions, over the tool calls whose names match `tools`.
 */
export const quotaLimitSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][\w.:-]{0,63}$/, 'must be 1-64 characters of letters, digits, _ . : -'),
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

export const quotasSchema = z
  .object({
    /** When the store cannot be reached: refuse calls (the default, fail closed) or let them through. */
    onStoreDown: z.enum(['deny', 'allow']).default('deny'),
    limits: z.array(quotaLimitSchema).default([]),
  })
  .strict()
  .superRefine((quotas, ctx) => refineUnique(ctx, quotas.limits, { list: 'limits', field: 'id', what: 'limit id' }, (limit) => limit.id));

export type QuotaLimitConfig = z.infer<typeof quotaLimitSchema>;
export type QuotasConfig = z.infer<typeof quotasSchema>;
