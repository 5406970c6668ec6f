import { randomToken } from '../../oauth/crypto.js';
import type { Logger } from '../../oauth/types.js';
import { protocolError } from '../mcp/upstream-errors.js';
import { anyGlob } from '../policy/glob.js';
import type { QuotaLimitConfig, QuotasConfig } from '../quota/schema.js';
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
  quotas: QuotasConfig;
  store: Store;
  now: () => number;
  logger: Logger;
}

/** What a limit counts for this call: its identity dimensions, never the session. */
function counterKey(tenant: string, limit: QuotaLimitConfig, call: QuotaCall): string {
  const parts = limit.per.map((dimension) => (dimension === 'client' ? call.clientId : dimension === 'user' ? call.sub : `${call.upstream}/${call.tool}`));
  return ['quota', tenant, limit.id, ...parts].map(encodeURIComponent).join(':');
}

function toLimit(limit: QuotaLimitConfig, key: string, now: number, lease: string): Limit {
  if (limit.rate) return { kind: 'rate', key, intervalMs: 1000 / limit.rate.perSecond, burst: limit.rate.burst, cost: 1 };
  if (limit.window) {
    const window = calendarWindow(limit.window.per, now);
    return { kind: 'window', key: `${key}:${window.start}`, limit: limit.window.limit, cost: 1, resetAt: window.end };
  }
  const { limit: bound, leaseSeconds } = limit.concurrency!;
  return { kind: 'concurrency', key, limit: bound, lease, expiresAt: now + leaseSeconds * 1000 };
}

/**
 * The quota gate of a tool call: every limit of the tenant that applies is checked in one all-or-nothing admission
 * (`Store.admit`), so a call refused by one limit consumes none of the others. Returns what releases the call's
 * concurrency leases when it ends; throws the JSON-RPC error a client can act on when a limit refuses.
 */
export async function admitToolCall(options: QuotaGateOptions, call: QuotaCall): Promise<() => Promise<void>> {
  const applicable = options.quotas.limits.filter((limit) => anyGlob(limit.tools)(call.tool));
  if (applicable.length === 0) return async () => undefined;
  const now = options.now();
  const lease = randomToken(12);
  const limits = applicable.map((limit) => toLimit(limit, counterKey(options.tenant, limit, call), now, lease));
  let admission;
  try {
    admission = await options.store.admit(limits, now);
  } catch (error) {
    const allow = options.quotas.onStoreDown === 'allow';
    options.logger.error({ err: error, tenant: options.tenant, onStoreDown: options.quotas.onStoreDown }, allow ? 'quotas cannot be checked; admitting the call (onStoreDown: allow)' : 'quotas cannot be checked; refusing the call (onStoreDown: deny)');
    if (allow) return async () => undefined;
    throw protocolError(QUOTA_EXCEEDED, 'quotas cannot be checked now; try again shortly', { reason: 'store_unavailable', retryAfterSeconds: 1 });
  }
  if (!admission.admitted) {
    const limit = applicable[admission.refused]!;
    const retryAfterSeconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
    options.logger.info({ tenant: options.tenant, limit: limit.id, client: call.clientId, sub: call.sub, tool: call.tool }, 'a quota refused a tool call');
    throw protocolError(QUOTA_EXCEEDED, `quota "${limit.id}" exceeded; retry after ${retryAfterSeconds} s`, {
      limit: limit.id,
      remaining: 0,
      retryAfterSeconds,
      resetAt: new Date(now + admission.retryAfterMs).toISOString(),
    });
  }
  const leases = limits.filter((limit) => limit.kind === 'concurrency');
  return async () => {
    await Promise.all(leases.map((limit) => options.store.release(limit.key, lease).catch((error: unknown) => options.logger.warn({ err: error }, 'a concurrency lease could not be released; it expires by itself'))));
  };
}
