/**
 * The storage the authorization server needs: a structural subset of the gateway's Store, declared here so that
 * `oauth/` never imports from `src/`. Every key the authorization server writes is documented in docs/storage.md.
 */
export interface OAuthStorage {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, ttlSeconds?: number): Promise<void>;
  delete(key: string): Promise<void>;
  take<T>(key: string): Promise<T | undefined>;
  compareAndSet<T>(key: string, expected: T | undefined, next: T, ttlSeconds?: number): Promise<boolean>;
  increment(key: string, by: number, ttlSeconds: number): Promise<number>;
}
