/**
 * The one storage interface of Portcullis. Every operation the protocols need to be atomic is a single call
 * here, so each implementation (memory, Redis, later Durable Objects) can make it atomic its own way.
 *
 * Values are JSON-serialisable. TTLs are whole seconds; a missing TTL means the value does not expire.
 * The key layout is documented in docs/storage.md.
 */
export interface Store {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, ttlSeconds?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Atomic get-and-delete: of two concurrent callers exactly one receives the value. */
  take<T>(key: string): Promise<T | undefined>;
  /**
   * Atomically replaces the value when the current one equals `expected` (compared as JSON;
   * `undefined` means "absent"). Returns whether the swap happened.
   */
  compareAndSet<T>(key: string, expected: T | undefined, next: T, ttlSeconds?: number): Promise<boolean>;
  /**
   * Atomically adds `by` and returns the new value. The TTL is set when the key is created and never extended,
   * which makes fixed windows.
   */
  increment(key: string, by: number, ttlSeconds: number): Promise<number>;
  /**
   * All-or-nothing admission against several limits at `now` (epoch ms): either every limit takes its cost, or none
   * does and the first one that refuses is named with how long until it would admit. Each limit has its own key;
   * no two limits of one call may share one. Semantics in docs/storage.md ("Limits").
   */
  admit(limits: readonly Limit[], now: number): Promise<Admission>;
  /** Ends a concurrency lease before it expires. */
  release(key: string, lease: string): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}

/**
 * One limit of an admission. A **window** counts `cost` per admission up to `limit` until `resetAt` (the caller aligns
 * windows, e.g. to the UTC calendar). A **rate** is a token bucket in GCRA form: one unit per `intervalMs`, at most
 * `burst` at once. A **concurrency** limit holds a lease per admission, up to `limit` leases, each until `expiresAt`
 * or its release, so a replica that dies cannot keep its slots.
 */
export type Limit =
  | { kind: 'window'; key: string; limit: number; cost: number; resetAt: number }
  | { kind: 'rate'; key: string; intervalMs: number; burst: number; cost: number }
  | { kind: 'concurrency'; key: string; limit: number; lease: string; expiresAt: number };

/**
 * How long (ms) a bucket's key outlives the moment its bucket is full again. An admission's `now` may lag the
 * store's clock (a replica's clock, a slow round trip); a key gone early would hand out a full bucket again, one
 * kept longer only costs memory. Every store keeps this margin.
 */
export const RATE_KEY_GRACE_MS = 60_000;

/** What an admission did: what each limit has left after it, or which limit refused and when it would admit. */
export type Admission = { admitted: true; remaining: number[] } | { admitted: false; refused: number; retryAfterMs: number };
