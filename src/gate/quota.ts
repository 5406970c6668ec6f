import { randomToken } from '../../oauth/crypto.js';
import type { Logger } from '../../oauth/types.js';
import { protocolError } from '../mcp/upstream-errors.js';
import type { Metrics } from '../observe/metrics.js';
import type { QuotaLimit, TenantQuotas } from '../quota/compile.js';
import type { QuotaLimitConfig } from '../quota/schema.js';
import { calendarWindow } from '../quota/windows.js';
import type { Limit, Store } from '../store/store.js';

/** JSON-RPC code of a tool call refused by a quota; `data` says which limit and when to retry (docs/quotas.md). */
export const QUOTA_EXCEEDED = -32013;

/** A tool call as quotas see it: who makes it, and which tool of which upstream. */
export interface QuotaCall {
  clientId: string;
  sub: string;
  upstream: string;
  tool: string;
}

export interface QuotaGateOptions {
  tenant: string;
  quotas: TenantQuotas;
  store: Store;
  now: () => number;
  logger: Logger;
  metrics: Metrics;
}

/** What a limit counts for this call: its identity dimensions, never the session. */
function counterKey(tenant: string, limit: QuotaLimitConfig, call: QuotaCall): string {
  const parts = limit.per.map((dimension) => (dimension === 'client' ? call.clientId : dimension === 'user' ? call.sub : `${call.upstream}/${call.tool}`));
  return ['quota', tenant, limit.id, ...parts].map(encodeURIComponent).join(':');
}

function toLimit(limit: QuotaLimitConfig, key: string, now: number, lease: string, cost: number): Limit {
  if (limit.rate) return { kind: 'rate', key, intervalMs: 1000 / limit.rate.perSecond, burst: limit.rate.burst, cost };
  if (limit.window) {
    const window = calendarWindow(limit.window.per, now);
    return { kind: 'window', key: `${key}:${window.start}`, limit: limit.window.limit, cost, resetAt: window.end };
  }
  const { limit: bound, leaseSeconds } = limit.concurrency!;
  return { kind: 'concurrency', key, limit: bound, lease, expiresAt: now + leaseSeconds * 1000 };
}

/** How much a limit allows at once: a window's limit, a bucket's burst, a concurrency bound. */
const capacityOf = (limit: Limit) => (limit.kind === 'rate' ? limit.burst : limit.limit);

/**
 * The quota gate of a tool call: every limit of the agent that applies to the tool is checked in one all-or-nothing
 * admission (`Store.admit`), so a call refused by one limit consumes none of the others. Returns what releases the
 * call's concurrency leases when it ends; throws the JSON-RPC error a client can act on when a limit refuses.
 */
export async function admitToolCall(options: QuotaGateOptions, call: QuotaCall): Promise<() => Promise<void>> {
  const { tenant, quotas, logger, metrics } = options;
  const resolved = quotas.limitsOf(call.clientId);
  if ('undefinedPlan' in resolved) {
    logger.error({ tenant, client: call.clientId, plan: resolved.undefinedPlan }, 'the agent\'s quota plan is not defined; refusing its tool calls');
    throw protocolError(QUOTA_EXCEEDED, 'the quota plan of this agent is not defined; ask the gateway\'s operator', { reason: 'plan_undefined' });
  }
  const applicable = resolved.limits.filter((limit) => limit.appliesTo(call.tool));
  if (applicable.length === 0) return async () => undefined;
  const now = options.now();
  const lease = applicable.some((limit) => limit.config.concurrency) ? randomToken(12) : '';
  const cost = quotas.costOf(call.tool);
  const limits = applicable.map((limit) => toLimit(limit.config, counterKey(tenant, limit.config, call), now, lease, cost));
  let admission;
  try {
    admission = await options.store.admit(limits, now);
  } catch (error) {
    const allow = quotas.onStoreDown === 'allow';
    metrics.quotaDecisions.inc({ tenant, outcome: allow ? 'store_down_admitted' : 'store_down_refused' });
    logger.error({ err: error, tenant, onStoreDown: quotas.onStoreDown }, allow ? 'quotas cannot be checked; admitting the call (onStoreDown: allow)' : 'quotas cannot be checked; refusing the call (onStoreDown: deny)');
    if (allow) return async () => undefined;
    throw protocolError(QUOTA_EXCEEDED, 'quotas cannot be checked now; try again shortly', { reason: 'store_unavailable', retryAfterSeconds: 1 });
  }
  if (!admission.admitted) {
    const limit = applicable[admission.refused]!.config;
    const retryAfterSeconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
    metrics.quotaDecisions.inc({ tenant, outcome: 'refused' });
    logger.info({ tenant, limit: limit.id, client: call.clientId, sub: call.sub, tool: call.tool }, 'a quota refused a tool call');
    throw protocolError(QUOTA_EXCEEDED, `quota "${limit.id}" exceeded; retry after ${retryAfterSeconds} s`, {
      limit: limit.id,
      remaining: 0,
      retryAfterSeconds,
      resetAt: new Date(now + admission.retryAfterMs).toISOString(),
    });
  }
  metrics.quotaDecisions.inc({ tenant, outcome: 'admitted' });
  warnPastSoftLimit(options, call, applicable, limits, admission.remaining);
  const leases = limits.filter((limit) => limit.kind === 'concurrency');
  return async () => {
    await Promise.all(leases.map((limit) => options.store.release(limit.key, lease).catch((error: unknown) => logger.warn({ err: error }, 'a concurrency lease could not be released; it expires by itself'))));
  };
}

/** Logs and counts each limit this admission took past the tenant's soft threshold (once per crossing, not per call above it). */
function warnPastSoftLimit(options: QuotaGateOptions, call: QuotaCall, applicable: readonly QuotaLimit[], limits: readonly Limit[], remaining: readonly number[]): void {
  limits.forEach((limit, index) => {
    const capacity = capacityOf(limit);
    const threshold = options.quotas.softLimit * capacity;
    const used = capacity - remaining[index]!;
    const before = used - (limit.kind === 'concurrency' ? 1 : limit.cost);
    if (before >= threshold || used < threshold) return;
    const id = applicable[index]!.config.id;
    options.metrics.quotaSoftLimit.inc({ tenant: options.tenant, limit: id });
    options.logger.warn({ tenant: options.tenant, limit: id, client: call.clientId, sub: call.sub, tool: call.tool, used, capacity }, 'a quota passed its soft threshold');
  });
}
