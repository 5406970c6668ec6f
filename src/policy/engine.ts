import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { compileCondition, type Condition, type ExpressionContext } from './expression.js';
import { anyGlob } from './glob.js';
import type { PolicyConfig, RuleConfig } from './schema.js';

export type TargetKind = 'tool' | 'prompt' | 'resource';

/** Who asks: the token's subject, client and scopes, and the user's groups. */
export interface Caller {
  sub: string;
  groups: readonly string[];
  clientId: string;
  scopes: readonly string[];
}

/** What is asked for, named as its upstream names it. */
export interface Target {
  kind: TargetKind;
  upstream: string;
  /** A tool or prompt name, or a resource URI or URI template. */
  name: string;
  annotations?: ToolAnnotations | undefined;
}

/**
 * A policy decision, with the rule that made it (none when the tenant's default did) and a reason for the log
 * and the audit trail. Step-up carries the scopes the caller lacks.
 */
export type Decision =
  | { effect: 'allow' | 'deny'; rule?: string; reason: string }
  | { effect: 'step-up'; rule: string; missingScopes: string[]; reason: string };

export interface PolicyOptions {
  /** Whether the caller's client can be granted these scopes of the tenant (and so can step up to them). */
  mayObtain: (caller: Caller, scopes: readonly string[]) => boolean;
}

interface CompiledRule {
  config: RuleConfig;
  about: ReadonlySet<TargetKind>;
  matches: (caller: Caller, target: Target) => boolean;
  condition: Condition | undefined;
}

const ALL_KINDS: ReadonlySet<TargetKind> = new Set(['tool', 'prompt', 'resource']);

function compileRule(rule: RuleConfig): CompiledRule {
  const about = new Set<TargetKind>();
  if (rule.tools) about.add('tool');
  if (rule.prompts) about.add('prompt');
  if (rule.resources) about.add('resource');
  const names = { tool: anyGlob(rule.tools), prompt: anyGlob(rule.prompts), resource: anyGlob(rule.resources) };
  const client = anyGlob(rule.clients);
  const annotations = Object.entries(rule.annotations ?? {});
  return {
    config: rule,
    about: about.size > 0 ? about : ALL_KINDS,
    matches: (caller, target) =>
      (rule.users === undefined || rule.users.includes(caller.sub)) &&
      (rule.groups === undefined || rule.groups.some((group) => caller.groups.includes(group))) &&
      client(caller.clientId) &&
      (rule.upstreams === undefined || rule.upstreams.includes(target.upstream)) &&
      names[target.kind](target.name) &&
      (annotations.length === 0 || (target.kind === 'tool' && annotations.every(([hint, value]) => target.annotations?.[hint as keyof ToolAnnotations] === value))),
    condition: rule.when === undefined ? undefined : compileCondition(rule.when),
  };
}

/**
 * A tenant's compiled policy (docs/policy.md). Any matching deny rule wins, then any matching allow rule, then the
 * default; the order of the rules only decides which one is reported. An allow rule that matches except for
 * scopes the caller lacks makes the decision step-up when the caller can obtain them, and deny when it cannot.
 */
export class Policy {
  readonly #rules: readonly CompiledRule[];
  readonly #default: 'allow' | 'deny';
  readonly #mayObtain: PolicyOptions['mayObtain'];

  constructor(config: PolicyConfig, options: PolicyOptions) {
    this.#rules = config.rules.map(compileRule);
    this.#default = config.default;
    this.#mayObtain = options.mayObtain;
  }

  /**
   * The decision for a call with these arguments, or, without arguments, for listing: then a rule's `when` cannot be
   * known, so a conditional deny does not hide the target and a conditional allow counts.
   */
  decide(caller: Caller, target: Target, args?: Record<string, unknown>): Decision {
    const applicable = this.#rules.filter((rule) => rule.about.has(target.kind) && rule.matches(caller, target));
    const context = (): ExpressionContext => ({ args: args ?? {}, user: { sub: caller.sub, groups: caller.groups }, client: caller.clientId, scopes: caller.scopes, upstream: target.upstream, name: target.name });

    for (const rule of applicable) {
      if (rule.config.effect !== 'deny') continue;
      if (!rule.condition) return verdict('deny', rule);
      if (args === undefined) continue;
      try {
        if (rule.condition(context())) return verdict('deny', rule);
      } catch {
        // A deny condition that cannot be evaluated (a missing argument, a type mismatch) denies: fail closed.
        return { effect: 'deny', rule: rule.config.id, reason: `rule ${rule.config.id}: its condition could not be evaluated, so it denies` };
      }
    }

    let stepUp: { rule: CompiledRule; missing: string[] } | undefined;
    let unobtainable: CompiledRule | undefined;
    for (const rule of applicable) {
      if (rule.config.effect !== 'allow') continue;
      if (rule.condition && args !== undefined) {
        try {
          if (!rule.condition(context())) continue;
        } catch {
          continue;
        }
      }
      const missing = (rule.config.scopes ?? []).filter((scope) => !caller.scopes.includes(scope));
      if (missing.length === 0) return verdict('allow', rule);
      if (stepUp) continue;
      if (this.#mayObtain(caller, missing)) stepUp = { rule, missing };
      else unobtainable ??= rule;
    }
    if (stepUp) {
      const { rule, missing } = stepUp;
      return { effect: 'step-up', rule: rule.config.id, missingScopes: missing, reason: rule.config.description ?? `rule ${rule.config.id} allows it with the scopes ${missing.join(' ')}` };
    }
    if (unobtainable) {
      return { effect: 'deny', rule: unobtainable.config.id, reason: `rule ${unobtainable.config.id} requires scopes this client cannot obtain` };
    }
    return { effect: this.#default, reason: `no rule matches; the default is ${this.#default}` };
  }
}

function verdict(effect: 'allow' | 'deny', rule: CompiledRule): Decision {
  return { effect, rule: rule.config.id, reason: rule.config.description ?? `rule ${rule.config.id} ${effect === 'allow' ? 'allows' : 'denies'} it` };
}
