import type { AbuseLimiter } from '../../oauth/types.js';
import type { Metrics } from '../observe/metrics.js';
import type { Store } from '../store/store.js';
import type { AbuseLimitConfig, RateLimitsConfig } from './schema.js';

/**
 * The authorization server's abuse limits on the store: one token bucket per endpoint, dimension and key, checked
 * with the same atomic `Store.admit` as tool-call quotas, so replicas share them exactly. A store that cannot be
 * reached fails the request (the authorization server cannot work without it anyway).
 */
export function abuseLimiter(config: RateLimitsConfig, options: { store: Store; now: () => number; metrics: Metrics }): AbuseLimiter {
  return async (endpoint, by, key) => {
    const limits: { perIp: AbuseLimitConfig; perClient?: AbuseLimitConfig } = config[endpoint];
    const limit = by === 'ip' ? limits.perIp : limits.perClient;
    if (!limit) return undefined;
    const name = `${endpoint}-${by}`;
    const now = options.now();
    const admission = await options.store.admit([{ kind: 'rate', key: `ratelimit:${name}:${encodeURIComponent(key)}`, intervalMs: 60_000 / limit.perMinute, burst: limit.burst ?? limit.perMinute, cost: 1 }], now);
    if (admission.admitted) return undefined;
    options.metrics.rateLimited.inc({ endpoint, by });
    const retryAfterSeconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
    // draft-ietf-httpapi-ratelimit-headers: the policy's quota per 60-second window, and none left for `t` seconds.
    return { retryAfterSeconds, headers: { 'RateLimit-Policy': `"${name}";q=${limit.perMinute};w=60`, RateLimit: `"${name}";r=0;t=${retryAfterSeconds}` } };
  };
}
