import { canonicalJson } from './canonical-json.js';
import { RATE_KEY_GRACE_MS, type Admission, type Limit, type Store } from './store.js';

/** What the store holds for one key. */
export interface Entry {
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
  /**
   * Told of every entry written (`entry`) or removed (`undefined`) as it happens, so that a durable copy can follow:
   * the Durable Object store keeps one in each object's storage. The entry is the store's own; copy it to keep it.
   */
  journal?: (key: string, entry: Entry | undefined) => void;
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
  readonly #journal: ((key: string, entry: Entry | undefined) => void) | undefined;
  #sweepCursor: Iterator<[string, Entry]> | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#journal = options.journal;
  }

  /** Puts back entries kept by a journal (an object's storage), e.g. when a Durable Object starts again. */
  restore(entries: Iterable<[string, Entry]>): void {
    for (const [key, entry] of entries) this.#entries.set(key, entry);
  }

  /** The earliest time (epoch ms) at which an entry expires, for a runtime that reclaims with an alarm. */
  nextExpiry(): number | undefined {
    let earliest: number | undefined;
    for (const { expiresAt } of this.#entries.values()) if (expiresAt !== undefined && (earliest === undefined || expiresAt < earliest)) earliest = expiresAt;
    return earliest;
  }

  /** Drops every expired entry; an alarm's work where a runtime has no other time to do it. */
  reclaim(): void {
    for (const key of [...this.#entries.keys()]) this.#live(key);
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
    this.#drop(key);
  }

  async take<T>(key: string): Promise<T | undefined> {
    const entry = this.#live(key);
    if (entry === undefined) return undefined;
    this.#drop(key);
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
    this.#put(key, { json: canonicalJson(value), expiresAt });
    this.#sweep();
    return value;
  }

  async admit(limits: readonly Limit[], now: number): Promise<Admission> {
    // Everything is read and decided before anything is written, with no await in between: atomic here.
    const writes: Array<() => void> = [];
    // Entries expire after a time measured from the caller's `now`, on this store's clock: a caller whose clock is
    // behind must not see a bucket or window vanish early and admit more than the limit (as in the Redis script).
    const shift = this.#now() - now;
    const remaining: number[] = [];
    for (const [index, limit] of limits.entries()) {
      const current = this.#live(limit.key);
      if (limit.kind === 'window') {
        const used = current === undefined ? 0 : (JSON.parse(current.json) as number);
        if (used + limit.cost > limit.limit) return { admitted: false, refused: index, retryAfterMs: Math.max(0, limit.resetAt - now) };
        remaining.push(limit.limit - used - limit.cost);
        writes.push(() => this.#put(limit.key, { json: String(used + limit.cost), expiresAt: current?.expiresAt ?? limit.resetAt + shift }));
      } else if (limit.kind === 'rate') {
        // The theoretical arrival time stays fractional: rounding it would slow any rate whose interval is not a whole
        // millisecond, and refuse every call of a bucket of one.
        const tat = Math.max(current === undefined ? now : (JSON.parse(current.json) as number), now);
        const after = tat - now + limit.cost * limit.intervalMs;
        const tolerance = limit.burst * limit.intervalMs;
        if (after - tolerance > RATE_SLACK_MS) return { admitted: false, refused: index, retryAfterMs: after - tolerance };
        remaining.push(Math.floor((tolerance - after) / limit.intervalMs + 1e-9));
        const next = now + after;
        writes.push(() => this.#put(limit.key, { json: String(next), expiresAt: Math.ceil(next + shift) + RATE_KEY_GRACE_MS }));
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
          this.#put(limit.key, { json: '', expiresAt: Math.max(current?.expiresAt ?? 0, limit.expiresAt + shift), leases });
        });
      }
    }
    for (const write of writes) write();
    this.#sweep();
    return { admitted: true, remaining };
  }

  async release(key: string, lease: string): Promise<void> {
    const entry = this.#live(key);
    if (entry?.leases === undefined || !entry.leases.delete(lease)) return;
    if (entry.leases.size === 0) this.#drop(key);
    else this.#put(key, entry);
  }

  /**
   * Gives back what an admission of `limits` took `elapsedMs` ago: a window's cost, a lease, and of a bucket's tokens
   * what has not refilled since (a refund never credits more than the admission still holds, so a call admitted in
   * between keeps its charge). For a store that spreads one admission over several objects and must undo the part
   * that was admitted when another part refused.
   */
  async refund(limits: readonly Limit[], elapsedMs = 0): Promise<void> {
    for (const limit of limits) {
      const current = this.#live(limit.key);
      if (current === undefined) continue;
      if (limit.kind === 'concurrency') {
        await this.release(limit.key, limit.lease);
        continue;
      }
      const value = JSON.parse(current.json) as number;
      const refunded = limit.kind === 'window' ? value - limit.cost : value - Math.max(0, limit.cost * limit.intervalMs - elapsedMs);
      if (limit.kind === 'window' && refunded <= 0) this.#drop(limit.key);
      else this.#put(limit.key, { json: String(refunded), expiresAt: current.expiresAt });
    }
  }

  async close(): Promise<void> {
    this.#entries.clear();
    this.#sweepCursor = undefined;
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= this.#now()) {
      this.#drop(key);
      return undefined;
    }
    return entry;
  }

  #put(key: string, entry: Entry): void {
    this.#entries.set(key, entry);
    this.#journal?.(key, entry);
  }

  #drop(key: string): void {
    if (this.#entries.delete(key)) this.#journal?.(key, undefined);
  }

  #write(key: string, json: string, ttlSeconds: number | undefined): void {
    if (ttlSeconds !== undefined) assertTtl(ttlSeconds);
    const expiresAt = ttlSeconds === undefined ? undefined : this.#now() + ttlSeconds * 1000;
    this.#put(key, { json, expiresAt });
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
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.#drop(key);
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
