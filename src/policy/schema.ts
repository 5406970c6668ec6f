import { z } from 'zod';
import { refineUnique } from '../config/unique.js';
import { compileCondition } from './expression.js';

/** The annotations of a tool a rule can match (MCP 2025-11-25 server/tools, ToolAnnotations). */
const annotationsSchema = z
  .object({ readOnlyHint: z.boolean(), destructiveHint: z.boolean(), idempotentHint: z.boolean(), openWorldHint: z.boolean() })
  .partial()
  .strict();

const globs = z.array(z.string().min(1).max(512)).min(1);

/**
 * One rule of a tenant's policy. Every criterion that is present must hold for the rule to match; absent criteria
 * match anything. `tools`, `prompts` and `resources` say what the rule is about; a rule with none of them is about
 * all three. The semantics are in docs/policy.md.
 */
export const ruleSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][\w.:-]{0,127}$/, 'must be 1-128 characters of letters, digits, _ . : -'),
    effect: z.enum(['allow', 'deny']),
    /** Why the rule exists; reported with every decision it makes. */
    description: z.string().max(500).optional(),
    /** User subjects, e.g. `local:alice`. */
    users: z.array(z.string().min(1)).min(1).optional(),
    groups: z.array(z.string().min(1)).min(1).optional(),
    /** Client ids (globs: `https://claude.ai/*` matches a client ID metadata document URL). */
    clients: globs.optional(),
    /** Allow rules only: the scopes the caller must hold. Missing ones the caller can obtain make the decision step-up. */
    scopes: z.array(z.string().min(1)).min(1).optional(),
    /** Upstream ids. */
    upstreams: z.array(z.string().min(1)).min(1).optional(),
    /** Tool names as the upstream names them (globs), not the prefixed names clients see. */
    tools: globs.optional(),
    prompts: globs.optional(),
    /** Resource URIs and URI templates as the upstream names them (globs). */
    resources: globs.optional(),
    /** Tool annotations as the upstream declares them (tools only). */
    annotations: annotationsSchema.optional(),
    /** A CEL expression over `args`, `user`, `client`, `scopes`, `upstream` and `name` (calls only). */
    when: z.string().min(1).max(2000).optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (rule.scopes && rule.effect === 'deny') ctx.addIssue({ code: 'custom', path: ['scopes'], message: 'only allow rules require scopes' });
    if (rule.annotations && !rule.tools && (rule.prompts || rule.resources)) {
      ctx.addIssue({ code: 'custom', path: ['annotations'], message: 'annotations belong to tools; add tools or remove prompts/resources' });
    }
    if (rule.when !== undefined) {
      try {
        compileCondition(rule.when);
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['when'], message: `invalid CEL expression: ${(error as Error).message.split('\n')[0]}` });
      }
    }
  });

export const policySchema = z
  .object({
    /** The effect when no rule matches. */
    default: z.enum(['allow', 'deny']).default('allow'),
    rules: z.array(ruleSchema).default([]),
  })
  .strict()
  .superRefine((policy, ctx) => refineUnique(ctx, policy.rules, { list: 'rules', field: 'id', what: 'rule id' }, (rule) => rule.id));

export type RuleConfig = z.infer<typeof ruleSchema>;
export type PolicyConfig = z.infer<typeof policySchema>;
