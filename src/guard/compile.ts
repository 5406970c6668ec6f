import type { Detector } from '../../guardrails/types.js';
import { builtInDetectors, customDetector } from '../../guardrails/index.js';
import { anyGlob, globMatcher } from '../policy/glob.js';
import { withoutUndefined, type GuardRuleConfig, type GuardrailsConfig } from './schema.js';

export type Direction = 'in' | 'out';
/** What content a guard looks at: a tool's arguments or result, or other content (prompts, resources, sampling, elicitation). */
export type ContentKind = 'tool' | 'other';

/** A rule with its globs compiled. */
export interface GuardRule {
  config: GuardRuleConfig;
  detects: (type: string) => boolean;
}

/** The rules and detectors that apply to one direction and one piece of content. */
export interface GuardPlan {
  rules: readonly GuardRule[];
  detectors: readonly Detector[];
}

/** A tenant's guardrails as the gates use them, compiled once per change of the tenant. */
export interface TenantGuard {
  config: GuardrailsConfig;
  /** What to run on content of this kind (a tool by its upstream name); no rules means nothing to inspect. */
  plan(direction: Direction, kind: ContentKind, tool?: string): GuardPlan;
}

const EMPTY: GuardPlan = { rules: [], detectors: [] };

/**
 * Compiles a tenant's guardrails: per direction, the rules and only the detectors whose findings some rule can match
 * (a detector's findings are typed `<category>.<kind>`, and a rule's globs name types).
 */
export function compileGuardrails(config: GuardrailsConfig): TenantGuard {
  const detectors = [...Object.values(builtInDetectors), ...(config.custom.length > 0 ? [customDetector(config.custom.map(withoutUndefined))] : [])];
  const rules = config.rules.map((rule) => ({ config: rule, detects: anyGlob(rule.detect), tools: anyGlob(rule.tools), categories: anyGlob(rule.detect.map((glob) => glob.split('.')[0]!)) }));
  const needed = (selected: typeof rules) => detectors.filter((detector) => selected.some((rule) => rule.categories(detector.category)));
  const plans = new Map<string, GuardPlan>();
  const planFor = (direction: Direction, kind: ContentKind, tool: string | undefined): GuardPlan => {
    const selected = rules.filter((rule) => (rule.config.direction === 'both' || rule.config.direction === direction) && (kind === 'tool' ? rule.tools(tool ?? '') : rule.config.allContent));
    return selected.length === 0 ? EMPTY : { rules: selected, detectors: needed(selected) };
  };
  return {
    config,
    plan(direction, kind, tool) {
      if (rules.length === 0) return EMPTY;
      // Plans are few (directions × kinds × the tools a tenant calls); each is built once.
      const key = `${direction} ${kind} ${tool ?? ''}`;
      let plan = plans.get(key);
      if (!plan) {
        plan = planFor(direction, kind, tool);
        if (plans.size < 10_000) plans.set(key, plan);
      }
      return plan;
    },
  };
}
