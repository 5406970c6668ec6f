import { canonicalJson } from './canonical-json.js';
import type { Admission, Limit, Store } from './store.js';

interface Entry {
  /** Canonical JSON: a deep copy callers cannot reach, with the same semantics as the Redis store's values. */
  json: string;
  /** Epoch milliseconds at which the entry stops existing; `undefined` never expires. */
  expiresAt: number | undefined;
  /**
   * A concurrency limit's leases (then `json` is empty: like a Redis sorted set, the key is not a value to `get`), by
   * lease, with their expiry, in the order they were taken.
   */
  leases?: Map<string, number>;
}

/** How early (ms) a call may come and still be on a bucket's schedule: absorbs floating-point error in arrival times. */
const RATE_SLACK_MS = 0.01;

/** Entries examined per write; more than one so the sweep outpaces growth and every entry is revisited. */
const SWEEP_BATCH = 8;

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Clock in epoch milliseconds; defaults to `Date.now`. Tests inject one to move time. */
  now?: () => number;
}

/**
 * The embedded {@link Store}: one process, no dependencies, no timers (so it also runs on edge runtimes).
 *
 * Every operation runs synchronously between two awaits, which is what makes take, compareAndSet and increment
 * atomic here. Expired entries read as absent and are dropped when touched; besides that, each write examines a
 * few entries with a cursor that cycles through the map, so expired keys that are never read again are still
 * reclaimed and memory stays proportional to the live keys.
 */
export class MemoryStore implements Store {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  #sweepCursor: Iterator<[string, Entry]> | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Entries held, including expired ones not yet swept. For metrics and tests. */
  get size(): number {
    return this.#entries.size;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const entry = this.#live(key);
    return entry === undefined ? undefined : (JSON.parse(entry.json) as T);
  }

  async set<T>(key: string, value: T, ttlSeconds?: number): Promise<void> {
    this.#write(key, canonicalJson(value), ttlSeconds);
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async take<T>(key: string): Promise<T | undefined> {
    const entry = this.#live(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    return JSON.parse(entry.json) as T;
  }

  async compareAndSet<T>(key: string, expected: T | undefined, next: T, ttlSeconds?: number): Promise<boolean> {
    const json = canonicalJson(next);
    const current = this.#live(key);
    const matches = expected === undefined ? current === undefined : current?.json === canonicalJson(expected);
    if (!matches) return false;
    this.#write(key, json, ttlSeconds);
    return true;
  }

  async increment(key: string, by: number, ttlSeconds: number): Promise<number> {
    assertInteger(by, 'increment');
    assertTtl(ttlSeconds);
    const current = this.#live(key);
    const value = (current === undefined ? 0 : counterValue(current.json)) + by;
    // Same rule as the Redis script: only a key without a TTL (in practice, a new one) gets one.
    const expiresAt = current?.expiresAt ?? this.#now() + ttlSeconds * 1000;
    this.#entries.set(key, { json: canonicalJson(value), expiresAt });
    this.#sweep();
    return value;
  }

  async admit(limits: readonly Limit[], now: number): Promise<Admission> {
    // Everything is read and decided before anything is written, with no await in between: atomic here.
    const writes: Array<() => void> = [];
    const remaining: number[] = [];
    for (const [index, limit] of limits.entries()) {
      const current = this.#live(limit.key);
      if (limit.kind === 'window') {
        const used = current === undefined ? 0 : (JSON.parse(current.json) as number);
        if (used + limit.cost > limit.limit) return { admitted: false, refused: index, retryAfterMs: Math.max(0, limit.resetAt - now) };
        remaining.push(limit.limit - used - limit.cost);
        writes.push(() => this.#entries.set(limit.key, { json: String(used + limit.cost), expiresAt: limit.resetAt }));
      } else if (limit.kind === 'rate') {
        // The theoretical arrival time stays fractional: rounding it would slow any rate whose interval is not a whole
        // millisecond, and refuse every call of a bucket of one.
        const tat = Math.max(current === undefined ? now : (JSON.parse(current.json) as number), now);
        const after = tat - now + limit.cost * limit.intervalMs;
        const tolerance = limit.burst * limit.intervalMs;
        if (after - tolerance > RATE_SLACK_MS) return { admitted: false, refused: index, retryAfterMs: after - tolerance };
        remaining.push(Math.floor((tolerance - after) / limit.intervalMs + 1e-9));
        const next = now + after;
        writes.push(() => this.#entries.set(limit.key, { json: String(next), expiresAt: Math.ceil(next) }));
      } else {
        const leases = current?.leases ?? new Map<string, number>();
        // Leases are taken in order of expiry while a limit's leaseSeconds stays the same, so the expired ones are at
        // the front: dropping them costs what expired, not what is held. (After leaseSeconds is lowered, a newer lease
        // can expire before an older one; it then counts until the older one expires: a slot freed late, never early.)
        for (const [lease, expiresAt] of leases) {
          if (expiresAt > now) break;
          leases.delete(lease);
        }
        if (leases.size + 1 > limit.limit) return { admitted: false, refused: index, retryAfterMs: Math.max(0, leases.values().next().value! - now) };
        remaining.push(limit.limit - leases.size - 1);
        writes.push(() => {
          leases.set(limit.lease, limit.expiresAt);
          this.#entries.set(limit.key, { json: '', expiresAt: Math.max(current?.expiresAt ?? 0, limit.expiresAt), leases });
        });
      }
    }
    for (const write of writes) write();
    this.#sweep();
    return { admitted: true, remaining };
  }

  async release(key: string, lease: string): Promise<void> {
    const leases = this.#live(key)?.leases;
    if (leases === undefined) return;
    leases.delete(lease);
    if (leases.size === 0) this.#entries.delete(key);
  }

  async close(): Promise<void> {
    this.#entries.clear();
    this.#sweepCursor = undefined;
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #write(key: string, json: string, ttlSeconds: number | undefined): void {
    if (ttlSeconds !== undefined) assertTtl(ttlSeconds);
    const expiresAt = ttlSeconds === undefined ? undefined : this.#now() + ttlSeconds * 1000;
    this.#entries.set(key, { json, expiresAt });
    this.#sweep();
  }

  #sweep(): void {
    const now = this.#now();
    for (let examined = 0; examined < SWEEP_BATCH; examined++) {
      // A Map iterator stays valid across inserts and deletes, so the cursor resumes where the last write left it.
      this.#sweepCursor ??= this.#entries.entries();
      const next = this.#sweepCursor.next();
      if (next.done === true) {
        this.#sweepCursor = undefined;
        return;
      }
      const [key, entry] = next.value;
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.#entries.delete(key);
    }
  }
}

function counterValue(json: string): number {
  const value: unknown = JSON.parse(json);
  // Redis INCRBY refuses a non-integer value too; failing the same way keeps the two stores interchangeable.
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new TypeError('value is not an integer');
  return value;
}

function assertInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what} must be an integer, got ${value}`);
}

// Redis accepts only positive whole seconds (and EXPIRE 0 would delete); memory enforces the same contract.
function assertTtl(ttlSeconds: number): void {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`ttlSeconds must be a positive integer, got ${ttlSeconds}`);
  }
}
