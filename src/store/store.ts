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
  /** Releases connections. */
  close(): Promise<void>;
}
