import { z } from 'zod';
import { builtInTypes, customDetector, type CustomRule } from '../../guardrails/index.js';
import { refineUnique } from '../config/unique.js';
import { classifierSchema } from './classifier.js';
import { globMatcher } from '../policy/glob.js';

const globs = z.array(z.string().min(1).max(512)).min(1);
const id = z.string().regex(/^[A-Za-z0-9][\w.:-]{0,63}$/, 'must be 1-64 characters of letters, digits, _ . : -');

/**
 * One guardrail rule: which findings (types such as `pii.email`, globs such as `secret.*`), in which direction
 * (`in`: what a client sends upstream; `out`: what upstream content sends to the model) and for which tools, prompts
 * and resources, and what to do with them. The semantics are in docs/guardrails.md.
 */
export const guardRuleSchema = z
  .object({
    id,
    /** Finding types (globs): `pii.*`, `secret.*`, `injection.*`, `custom.<rule>`. */
    detect: globs,
    direction: z.enum(['in', 'out', 'both']).default('both'),
    /** Tool names as the upstream names them (globs); every tool when absent. */
    tools: globs.optional(),
    /** Whether the rule also covers prompts, resources and the upstream's sampling and elicitation requests. */
    allContent: z.boolean().default(true),
    action: z.enum(['block', 'redact', 'flag']),
    /** Findings below this confidence are ignored by the rule. */
    minConfidence: z.number().min(0).max(1).default(0.5),
  })
  .strict();

/** A tenant's own detector: literal keywords and linear-time (RE2 syntax) patterns; findings are `custom.<id>`. */
export const customRuleSchema = z
  .object({
    id,
    keywords: z.array(z.string().min(1).max(200)).max(1000).optional(),
    patterns: z.array(z.string().min(1).max(1000)).max(100).optional(),
    caseSensitive: z.boolean().default(false),
  })
  .strict()
  .refine((rule) => (rule.keywords?.length ?? 0) + (rule.patterns?.length ?? 0) > 0, 'needs keywords or patterns');

export const guardrailsSchema = z
  .object({
    rules: z.array(guardRuleSchema).default([]),
    custom: z.array(customRuleSchema).default([]),
    /** Caps on one inspected message; content past them is never passed unscanned unless `overLimit` is `flag`. */
    maxBytes: z.number().int().positive().max(64 * 1024 * 1024).default(1024 * 1024),
    maxDepth: z.number().int().positive().max(1000).default(64),
    overLimit: z.enum(['block', 'flag']).default('block'),
    /** An HTTP endpoint that judges messages too, after the detectors (docs/guardrails.md). */
    classifier: classifierSchema.optional(),
    /** Tool definitions (`tools/list`): pinned on first sight; what to do when one changes or looks poisoned. */
    toolDefinitions: z
      .object({ onChange: z.enum(['hide', 'flag']).default('hide'), onPoisoned: z.enum(['hide', 'flag']).default('hide') })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((guardrails, ctx) => {
    refineUnique(ctx, guardrails.rules, { list: 'rules', field: 'id', what: 'rule id' }, (rule) => rule.id);
    refineUnique(ctx, guardrails.custom, { list: 'custom', field: 'id', what: 'custom rule id' }, (rule) => rule.id);
    // A type glob that matches no detector's findings is a typo that would silently never match.
    const types = [...builtInTypes, ...guardrails.custom.map((rule) => `custom.${rule.id}`)];
    guardrails.rules.forEach((rule, index) => {
      rule.detect.forEach((glob, at) => {
        if (!types.some(globMatcher(glob))) ctx.addIssue({ code: 'custom', path: ['rules', index, 'detect', at], message: `no detector reports "${glob}"` });
      });
    });
    // Patterns must compile on the linear-time engine; the library names the rule and the problem.
    guardrails.custom.forEach((rule, index) => {
      try {
        customDetector([withoutUndefined(rule)]);
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['custom', index], message: (error as Error).message });
      }
    });
  });

/** A custom rule as the library takes it (absent, not undefined, optional members). */
export function withoutUndefined(rule: z.infer<typeof customRuleSchema>): CustomRule {
  return { id: rule.id, caseSensitive: rule.caseSensitive, ...(rule.keywords && { keywords: rule.keywords }), ...(rule.patterns && { patterns: rule.patterns }) };
}

export type GuardRuleConfig = z.infer<typeof guardRuleSchema>;
export type GuardrailsConfig = z.infer<typeof guardrailsSchema>;
