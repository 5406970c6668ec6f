import { anyGlob } from '../policy/glob.js';
import type { PlanConfig, QuotaLimitConfig, QuotasConfig } from './schema.js';

/** A limit with its tool globs compiled. */
export interface QuotaLimit {
  config: QuotaLimitConfig;
  appliesTo: (tool: string) => boolean;
}

/** A tenant's quotas as the gate uses them, compiled once per change of the tenant. */
export interface TenantQuotas {
  onStoreDown: QuotasConfig['onStoreDown'];
  softLimit: number;
  /**
   * The limits of one agent: its plan's (its `agents` entry's, else the tenant's), then the tenant's own, then the
   * agent's own, a later limit replacing an earlier one of the same id. A plan that is not defined (a tenant kept in
   * the store can outlive a plan removed from the file) is reported, for the gate to fail closed.
   */
  limitsOf(clientId: string): { limits: readonly QuotaLimit[] } | { undefinedPlan: string };
  /** What one call of the tool counts toward rates and windows. */
  costOf(tool: string): number;
}

const compileLimit = (config: QuotaLimitConfig): QuotaLimit => ({ config, appliesTo: anyGlob(config.tools) });

export function compileQuotas(quotas: QuotasConfig, plans: ReadonlyMap<string, PlanConfig>): TenantQuotas {
  const resolve = (plan: string | undefined, own: readonly QuotaLimitConfig[]) => {
    const planned = plan === undefined ? [] : plans.get(plan)?.limits;
    if (planned === undefined) return { undefinedPlan: plan! };
    const byId = new Map<string, QuotaLimit>();
    for (const limit of [...planned, ...quotas.limits, ...own]) byId.set(limit.id, compileLimit(limit));
    return { limits: [...byId.values()] };
  };
  const tenantLimits = resolve(quotas.plan, []);
  const agents = quotas.agents.map((agent) => ({ matches: anyGlob(agent.clients), limits: resolve(agent.plan ?? quotas.plan, agent.limits) }));
  const costs = quotas.costs.map((entry) => ({ matches: anyGlob(entry.tools), cost: entry.cost }));
  return {
    onStoreDown: quotas.onStoreDown,
    softLimit: quotas.softLimit,
    limitsOf: (clientId) => agents.find((agent) => agent.matches(clientId))?.limits ?? tenantLimits,
    costOf: (tool) => costs.find((entry) => entry.matches(tool))?.cost ?? 1,
  };
}
